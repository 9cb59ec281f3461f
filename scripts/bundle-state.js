// Whether dist/islet.js is up to date: built after every source file, every
// migration and the lock files (an install may change what is bundled).
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const bundlePath = join(root, "dist", "islet.js");

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let time = 0;
  for (const entry of readdirSync(path)) time = Math.max(time, newest(join(path, entry)));
  return time;
}

/** True when the bundle exists and nothing it is built from changed since. */
export function bundleIsFresh() {
  if (!existsSync(bundlePath)) return false;
  const built = statSync(bundlePath).mtimeMs;
  return [join(root, "src"), join(root, "package-lock.json"), join(root, "node_modules", ".package-lock.json")].every((path) => built >= newest(path));
}
