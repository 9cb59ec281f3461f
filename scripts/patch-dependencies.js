// Fixes in dependencies that their releases do not have yet, applied to
// node_modules after every install (postinstall) and again before each
// build (for packagers that install with scripts off). Each fix replaces
// an exact piece of text and is skipped, with a warning, when the
// dependency no longer has it; running twice changes nothing.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const FIXES = [
  {
    // postgres.js 3.4.9 (porsager/postgres#1154, #1208): a write scheduled
    // with setImmediate may run after the connection closed and dropped its
    // socket; `socket.write` on null then throws from the timer, ending the
    // process, and the queries waiting on that write are never settled.
    // Settle them with CONNECTION_CLOSED instead, as a closed connection does.
    name: "postgres: write to a closed connection",
    files: ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js"],
    from: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n",
    to:
      "  function nextWrite(fn) {\n" +
      "    if (!socket) { // patched by Islet: porsager/postgres#1154\n" +
      "      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n" +
      "      chunk = nextWriteTimer = null\n" +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      "      return false\n" +
      "    }\n" +
      "    const x = socket.write(chunk, fn)\n",
  },
];

export function patchDependencies(root = ROOT) {
  for (const fix of FIXES) {
    for (const file of fix.files) {
      const path = join(root, file);
      if (!existsSync(path)) continue;
      const text = readFileSync(path, "utf8");
      if (text.includes(fix.to)) continue;
      if (!text.includes(fix.from)) {
        process.stderr.write(`islet: ${fix.name}: ${file} has changed; the fix was not applied (check whether it is still needed)\n`);
        continue;
      }
      writeFileSync(path, text.replace(fix.from, fix.to));
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) patchDependencies();
