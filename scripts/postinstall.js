// After `npm install`: apply the dependency fixes, then build the bundle and
// the prepared embedded database, so that the first `npm start` answers
// within seconds instead of building first. On a Node older than 24 (npm
// itself running on an older system Node, with the pinned one not yet on
// PATH) the build is left to `npm start`, which makes it when it is stale.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { patchDependencies } from "./patch-dependencies.js";

patchDependencies();
if (Number(process.versions.node.split(".")[0]) >= 24) {
  const build = join(dirname(fileURLToPath(import.meta.url)), "build.js");
  const result = spawnSync(process.execPath, [build, "--if-stale"], { stdio: "inherit" });
  // A failed build does not fail the install: `npm start` tries again and says why.
  if (result.status !== 0) process.stderr.write("islet: the build after install failed; `npm start` will try again\n");
}
