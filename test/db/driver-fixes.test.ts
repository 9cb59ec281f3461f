/**
 * The fixes scripts/patch-dependencies.js applies to dependencies: present
 * in the installed driver, applied once however often the script runs, and
 * skipped (the file left alone) when the dependency has changed.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { patchDependencies } from "../../scripts/patch-dependencies.js";
import { ROOT } from "../helpers/cli.ts";

const DRIVER_FILES = ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js"];
const MARK = "patched by Islet: porsager/postgres#1154";

test("the installed postgres driver settles queries instead of writing to a closed socket", () => {
  for (const file of DRIVER_FILES) {
    const text = readFileSync(join(ROOT, file), "utf8");
    assert.ok(text.includes(MARK), `${file} lacks the fix: run npm install (its postinstall applies it)`);
    assert.match(text, /if \(!socket\) \{[^}]*error\(Errors\.connection\('CONNECTION_CLOSED', options\)\)/);
  }
});

test("the fix is applied once, and not at all to a driver that changed", () => {
  const root = mkdtempSync(join(tmpdir(), "islet-patch-"));
  try {
    const [fresh, changed] = DRIVER_FILES;
    for (const file of DRIVER_FILES) mkdirSync(dirname(join(root, file)), { recursive: true });
    // An unpatched copy: the installed file with the fix taken out again.
    const installed = readFileSync(join(ROOT, fresh), "utf8");
    const original = installed.replace(/    if \(!socket\) \{ \/\/ patched by Islet[\s\S]*?\n    \}\n/, "");
    assert.ok(!original.includes(MARK));
    writeFileSync(join(root, fresh), original);
    writeFileSync(join(root, changed), "function nextWrite(fn) { return other(fn) }\n");
    patchDependencies(root);
    patchDependencies(root);
    const patched = readFileSync(join(root, fresh), "utf8");
    assert.equal(patched.split(MARK).length - 1, 1);
    assert.equal(readFileSync(join(root, changed), "utf8"), "function nextWrite(fn) { return other(fn) }\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
