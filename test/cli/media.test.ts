/**
 * `islet media usage|prune` and the scheduled prune: real files under a
 * throwaway DATA_DIR/media, rows in a throwaway database.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { loadConfig } from "../../src/config.ts";
import { createOwner } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { pruneExpiredRemoteMedia } from "../../src/core/media-cache.ts";
import { accounts, mediaAttachments } from "../../src/db/schema.ts";
import { attachmentFolder, idPath, keyPath, mediaRoot, writeMediaFile } from "../../src/media/storage.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { runIslet } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { assertPlainFailure, envFor, withCore, type Env } from "./support.ts";

const DAY = 24 * 3600 * 1000;

/** Stores an attachment row of `accountId` with files of the given sizes (original, then preview). */
async function attachment(core: CoreContext, accountId: bigint, ageMs: number, sizes: number[]): Promise<{ id: bigint; keys: string[] }> {
  const id = newId();
  const keys = sizes.map((_, i) => `${attachmentFolder(id)}/${i === 0 ? "original" : "small"}.png`);
  for (const [i, key] of keys.entries()) await writeMediaFile(core.config, key, new Uint8Array(sizes[i]!).fill(i + 1));
  await core.db.insert(mediaAttachments).values({
    id,
    accountId,
    type: "image",
    contentType: "image/png",
    fileKey: keys[0] ?? null,
    previewKey: keys[1] ?? null,
    remoteUrl: `https://remote.example/media/${id}.png`,
    createdAt: new Date(Date.now() - ageMs),
  });
  return { id, keys };
}

for (const kind of databaseKinds()) {
  describe(`islet media (${kind})`, () => {
    let database: TestDatabase;
    let env: Env;
    let local: { id: bigint; keys: string[] };
    let oldRemote: { id: bigint; keys: string[] };
    let newRemote: { id: bigint; keys: string[] };
    let avatarKey: string;

    before(async () => {
      database = await createTestDatabase(kind);
      env = envFor(database);
      await withCore(env, async (core) => {
        const owner = await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password" });
        const remote = await insertRemoteAccount(core, "someone", { domain: "remote.example" });
        local = await attachment(core, owner.account.id, 30 * DAY, [1000, 100]);
        oldRemote = await attachment(core, remote.id, 10 * DAY, [2000, 200]);
        newRemote = await attachment(core, remote.id, 1 * DAY, [3000]);
        // An old remote attachment that was never cached.
        await core.db.insert(mediaAttachments).values({
          id: newId(), accountId: remote.id, type: "image", contentType: "image/png", remoteUrl: "https://remote.example/x.png", createdAt: new Date(Date.now() - 20 * DAY),
        });
        // The owner's avatar is local; a picture no row names is other cache.
        avatarKey = `accounts/avatars/${idPath(newId())}/original.png`;
        await writeMediaFile(core.config, avatarKey, new Uint8Array(500));
        await core.db.update(accounts).set({ avatarUrl: `${core.config.origin}/system/${avatarKey}` }).where(eq(accounts.id, owner.account.id));
        await writeMediaFile(core.config, `accounts/avatars/${idPath(newId())}/original.png`, new Uint8Array(700));
        mkdirSync(join(mediaRoot(core.config), ".tmp"), { recursive: true });
        writeFileSync(join(mediaRoot(core.config), ".tmp", "leftover.upload"), new Uint8Array(50));
      });
    });
    after(async () => {
      await database?.drop();
    });

    test("usage counts files and bytes by kind", async () => {
      const result = await runIslet(["media", "usage"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /local uploads: +3 files, 1\.6 KiB \(1600 bytes\)/);
      assert.match(result.stdout, /remote media cache: +3 files, 5\.1 KiB \(5200 bytes\)/);
      assert.match(result.stdout, /other cache: +1 file, 700 B \(700 bytes\)/);
      assert.match(result.stdout, /upload temp: +1 file, 50 B \(50 bytes\)/);
      assert.match(result.stdout, /total: +8 files, .* \(7550 bytes\)/);
    });

    test("prune removes only remote files older than the cutoff, keeping the remote URL", async () => {
      const result = await runIslet(["media", "prune", "--older-than", "7d"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Removed 2 cached files \(2\.1 KiB\) of 1 remote media attachment older than 7d\.\n$/);
      // Off a terminal, progress is one plain closing line.
      assert.equal(result.stderr, "Pruning remote media: 1 attachment\n");
      const config = loadConfig(Object.fromEntries(Object.entries(env).filter(([, v]) => v != null)) as Record<string, string>);
      for (const key of oldRemote.keys) assert.ok(!existsSync(keyPath(config, key)!), `${key} is still there`);
      for (const key of [...newRemote.keys, ...local.keys, avatarKey]) assert.ok(existsSync(keyPath(config, key)!), `${key} was deleted`);
      await withCore(env, async (core) => {
        const [row] = await core.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, oldRemote.id));
        assert.equal(row?.fileKey, null);
        assert.equal(row?.previewKey, null);
        assert.equal(row?.remoteUrl, `https://remote.example/media/${oldRemote.id}.png`);
        const [kept] = await core.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, local.id));
        assert.equal(kept?.fileKey, local.keys[0]);
      });

      const again = await runIslet(["media", "prune", "--older-than", "12h"], { env });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^Removed 1 cached file \(2\.9 KiB\) of 1 remote media attachment older than 12h\.\n$/);
      for (const key of [...local.keys, avatarKey]) assert.ok(existsSync(keyPath(config, key)!), `${key} was deleted`);
    });

    test("the scheduled prune follows MEDIA_CACHE_RETENTION_DAYS, and 0 turns it off", async () => {
      const fresh = await withCore(env, async (core) => {
        const [remote] = await core.db.select().from(accounts).where(eq(accounts.domain, "remote.example"));
        return await attachment(core, remote!.id, 3 * DAY, [400]);
      });
      await withCore({ ...env, MEDIA_CACHE_RETENTION_DAYS: "0" }, async (core) => {
        assert.equal(await pruneExpiredRemoteMedia(core), null);
        assert.ok(existsSync(keyPath(core.config, fresh.keys[0]!)!));
      });
      await withCore({ ...env, MEDIA_CACHE_RETENTION_DAYS: "7" }, async (core) => {
        assert.deepEqual(await pruneExpiredRemoteMedia(core), { attachments: 0, profileImages: 0, files: 0, bytes: 0 });
        assert.ok(existsSync(keyPath(core.config, fresh.keys[0]!)!));
      });
      await withCore({ ...env, MEDIA_CACHE_RETENTION_DAYS: "2" }, async (core) => {
        assert.deepEqual(await pruneExpiredRemoteMedia(core), { attachments: 1, profileImages: 0, files: 1, bytes: 400 });
        assert.ok(!existsSync(keyPath(core.config, fresh.keys[0]!)!));
        for (const key of local.keys) assert.ok(existsSync(keyPath(core.config, key)!));
      });
    });

    test("bad ages and subcommands fail with one line", async () => {
      assertPlainFailure(await runIslet(["media", "prune", "--older-than", "soon"], { env }), /--older-than: expected an age such as 7d, 12h or 30m, got "soon"/);
      assertPlainFailure(await runIslet(["media", "prune", "--older-than", "7y"], { env }), /--older-than: expected an age/);
      assertPlainFailure(await runIslet(["media", "frob"], { env }), /unknown subcommand "frob"; expected usage, prune or migrate/);
      assertPlainFailure(await runIslet(["media"], { env }), /missing subcommand/);
    });
  });
}
