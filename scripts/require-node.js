// Fails early, with one clear line, when the Node running this is older than
// the one the project pins. `npm install` puts Node 24 into
// node_modules/.bin, which npm scripts and npx put first on PATH; running
// `node bin/islet.js` directly uses the system Node instead.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  const pinned = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "node");
  const way = existsSync(pinned)
    ? "Run it as `npx islet ...` or `npm start`, which use the Node 24 that `npm install` put into node_modules/.bin."
    : "Run `npm install` (without --ignore-scripts) so the pinned Node 24 is installed into node_modules/.bin.";
  process.stderr.write(`islet: needs Node.js 24 or newer, found ${process.version}. ${way}\n`);
  process.exit(1);
}
