/**
 * DATA_DIR going wrong: a folder the server cannot write stops it at start
 * with one clear line naming DATA_DIR; a full disk turns an upload into a
 * clean error (507 `{"error": ...}`), and the server, its database and its
 * files are fine once space is back.
 *
 * Both need a file system of their own (a read-only or a tiny tmpfs), so
 * they run as root only, where `mount -t tmpfs` works; elsewhere the
 * unwritable folder is made with chmod instead and the full disk is skipped.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import sharp from "sharp";
import { runIslet, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { freePort } from "../helpers/instance.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";

const isRoot = process.getuid?.() === 0;

/** Mounts a tmpfs at a new folder; null when mounting is not possible here. */
function mountTmpfs(options: string): string | null {
  if (!isRoot) return null;
  const dir = mkdtempSync(join(tmpdir(), "islet-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

function unmount(dir: string | null): void {
  if (dir == null) return;
  try {
    execFileSync("umount", ["-l", dir], { stdio: "ignore" });
  } catch {
    // Not mounted.
  }
  rmSync(dir, { recursive: true, force: true });
}

describe("an unwritable DATA_DIR", () => {
  const mounts: string[] = [];
  after(() => {
    for (const dir of mounts) unmount(dir);
  });

  test("islet serve stops at once with one line naming DATA_DIR and a non-zero status", async () => {
    let dataDir: string;
    const readOnly = mountTmpfs("ro,size=1m");
    if (readOnly != null) {
      mounts.push(readOnly);
      dataDir = readOnly;
    } else {
      dataDir = mkdtempSync(join(tmpdir(), "islet-readonly-"));
      chmodSync(dataDir, 0o500);
    }
    for (const candidate of [dataDir, join(dataDir, "data")]) {
      const result = await runIslet(["serve"], { env: { DATA_DIR: candidate, PORT: String(await freePort()) } });
      assert.notEqual(result.code, 0, `serve with DATA_DIR=${candidate} must fail`);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
      assert.match(lines[0], /DATA_DIR/);
      assert.doesNotMatch(lines[0], /^\s+at /);
      assert.equal(result.stdout.includes("running"), false);
    }
  });
});

for (const kind of databaseKinds()) {
  describe(`a full disk (${kind})`, { skip: !isRoot && "needs root to mount a tmpfs" }, () => {
    let instance: PreparedInstance | undefined;
    let server: ServerProcess | undefined;
    let mount: string | null = null;

    after(async () => {
      await server?.kill("SIGKILL");
      await instance?.database.drop();
      unmount(mount);
    });

    test("an upload that does not fit is a clean 507; the server and its data are fine afterwards", async () => {
      instance = await prepareInstance(kind);
      // The embedded database lives in DATA_DIR too, so it gets a tmpfs with room for it.
      mount = mountTmpfs(kind === "pglite" ? "size=160m" : "size=16m");
      assert.ok(mount != null, "mount -t tmpfs works as root");
      cpSync(instance.database.dataDir, mount, { recursive: true });
      const env = { ...instance.env, DATA_DIR: mount };
      server = await startServerProcess(env);
      const { url, token } = instance;
      const auth = { authorization: `Bearer ${token}` };
      const post = async (text: string) => await fetch(`${url}/api/v1/statuses`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ status: text }),
        signal: AbortSignal.timeout(30_000),
      });
      const before = await post("written before the disk filled up");
      assert.equal(before.status, 200);
      const beforeId = ((await before.json()) as { id: string }).id;

      // Noise does not compress: a PNG of about 3 MiB.
      const png = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 60 } } }).png().toBuffer();
      const upload = async () => {
        const form = new FormData();
        form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), "noise.png");
        return await fetch(`${url}/api/v2/media`, { method: "POST", headers: auth, body: form, signal: AbortSignal.timeout(30_000) });
      };

      // Leave less room than the upload needs.
      const { bavail, bsize } = statfsSync(mount);
      const filler = join(mount, "filler");
      const free = bavail * bsize;
      writeFileSync(filler, Buffer.alloc(Math.max(0, free - 512 * 1024)));

      const full = await upload();
      const text = await full.text();
      assert.equal(full.status, 507, text);
      assert.equal(typeof (JSON.parse(text) as { error?: unknown }).error, "string", text);
      assert.equal((await fetch(`${url}/health`)).status, 200, "the server still answers");
      const mediaTmp = execFileSync("find", [join(mount, "media"), "-name", "*", "-type", "f"], { encoding: "utf8" }).trim();
      assert.equal(mediaTmp, "", "no partial upload is left behind");

      // Space comes back: everything works, and what was stored is intact.
      rmSync(filler);
      assert.equal((await upload()).status, 200);
      assert.equal((await post("written after the disk had room again")).status, 200);
      const kept = await fetch(`${url}/api/v1/statuses/${beforeId}`, { headers: auth });
      assert.equal(kept.status, 200);
      await server.kill();
      assert.equal(await server.exited, 0);
      server = await startServerProcess(env);
      const again = await fetch(`${url}/api/v1/statuses/${beforeId}`, { headers: auth });
      assert.equal(again.status, 200, "the database opens again after a restart");
      await server.kill();
    });
  });
}
