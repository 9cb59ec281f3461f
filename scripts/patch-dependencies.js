// Fixes in dependencies that their releases do not have yet, applied to
// node_modules after every install (postinstall) and again before each
// build (for packagers that install with scripts off). Each fix replaces
// an exact piece of text and is skipped, with a warning, when the
// dependency no longer has it; running twice changes nothing.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export const FIXES = [
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
  {
    // postgres.js 3.4.9: when a connection closes with a small write still
    // waiting for its setImmediate, the timer is cancelled but its handle
    // and the buffered bytes are kept. Every later write() then believes a
    // flush is already scheduled, so after reconnecting the startup message
    // is never sent and each attempt ends in CONNECT_TIMEOUT: that pool slot
    // is lost for good. Forget the pending write when the socket goes.
    name: "postgres: a closed connection forgets its pending write",
    files: ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js"],
    from: "    incomings = null\n    clearImmediate(nextWriteTimer)\n",
    to:
      "    incomings = null\n" +
      "    clearImmediate(nextWriteTimer)\n" +
      "    chunk = nextWriteTimer = null // patched by Islet: pending write on close\n",
  },
  {
    // The same in terminate(), which ends a connection on purpose.
    name: "postgres: a terminated connection forgets its pending write",
    files: ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js"],
    from: "      error(Errors.connection('CONNECTION_DESTROYED', options))\n\n    clearImmediate(nextWriteTimer)\n",
    to:
      "      error(Errors.connection('CONNECTION_DESTROYED', options))\n\n" +
      "    clearImmediate(nextWriteTimer)\n" +
      "    chunk = nextWriteTimer = null // patched by Islet: pending write on terminate\n",
  },
  {
    // postgres.js 3.4.9 (porsager/postgres#1193): a server or proxy that
    // accepts the connection and closes it cleanly before startup ends
    // leaves the query that opened it waiting forever, reconnecting with
    // no delay in a loop. With one host there is nowhere else to go:
    // settle it with CONNECTION_CLOSED, as a close after startup does.
    name: "postgres: a clean close during startup settles the query",
    files: ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js"],
    from: "    if (initial)\n      return reconnect()\n",
    to:
      "    if (initial && !hadError && !terminated && !options.host[retries + 1]) { // patched by Islet: porsager/postgres#1193\n" +
      "      queryError(initial, Errors.connection('CONNECTION_CLOSED', options))\n" +
      "      initial = null\n" +
      "    }\n" +
      "    if (initial)\n      return reconnect()\n",
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
