/**
 * `islet media migrate --to s3|fs`: a populated DATA_DIR/media moved into a
 * real S3-protocol bucket (s3rver) and back, with every file's checksum
 * kept, a second run resuming instead of copying again, and the owner's
 * picture URLs following the files.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { loadConfig } from "../../src/config.ts";
import { createOwner } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { accounts } from "../../src/db/schema.ts";
import { attachmentFolder, idPath, mediaRoot, writeMediaFile } from "../../src/media/storage.ts";
import { FilesystemStorage, S3Storage, type MediaStorage } from "../../src/media/storage/index.ts";
import { runIslet } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { assertPlainFailure, envFor, withCore, type Env } from "../cli/support.ts";
import { startS3, type TestS3 } from "./s3-server.ts";

/** Every file of a store as key → SHA-256. */
async function checksums(store: MediaStorage): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for await (const object of store.list()) {
    const file = await store.get(object.key);
    assert.ok(file != null, `${object.key} can be read`);
    const hash = createHash("sha256");
    for await (const chunk of file.body) hash.update(chunk as Buffer);
    sums.set(object.key, hash.digest("hex"));
  }
  return sums;
}

for (const kind of databaseKinds()) {
  describe(`islet media migrate (${kind})`, () => {
    let database: TestDatabase;
    let s3: TestS3;
    let env: Env;
    let bucket: S3Storage;
    let disk: FilesystemStorage;
    let original: Map<string, string>;
    let ownerId: bigint;
    let avatarKey: string;
    let origin: string;

    before(async () => {
      database = await createTestDatabase(kind);
      s3 = await startS3();
      const { S3_ENABLED: _enabled, ...bucketEnv } = s3.env;
      env = envFor(database, bucketEnv);
      const config = loadConfig(Object.fromEntries(Object.entries(env).filter(([, v]) => v != null)) as Record<string, string>);
      origin = config.origin;
      disk = new FilesystemStorage(config);
      bucket = new S3Storage(loadConfig({ ...(Object.fromEntries(Object.entries(env).filter(([, v]) => v != null)) as Record<string, string>), S3_ENABLED: "true" }).s3!);
      await withCore(env, async (core) => {
        const owner = await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password" });
        ownerId = owner.account.id;
        for (let i = 0; i < 12; i++) {
          const folder = attachmentFolder(newId());
          // Sizes around the multipart part size too.
          const size = i === 0 ? 6 * 1024 * 1024 + 17 : 1000 + i * 997;
          const bytes = Buffer.alloc(size);
          for (let j = 0; j < size; j += 4096) bytes[j] = (i * 31 + j) & 0xff;
          await writeMediaFile(core.config, `${folder}/original.png`, bytes);
          await writeMediaFile(core.config, `${folder}/small.webp`, Buffer.from(`preview ${i}`));
        }
        avatarKey = `accounts/avatars/${idPath(newId())}/original.png`;
        await writeMediaFile(core.config, avatarKey, Buffer.from("an avatar"));
        await core.db.update(accounts).set({ avatarUrl: `${core.config.origin}/system/${avatarKey}` }).where(eq(accounts.id, ownerId));
      });
      original = await checksums(disk);
      assert.equal(original.size, 25);
    });
    after(async () => {
      bucket?.destroy();
      await s3?.close();
      await database?.drop();
    });

    const avatarUrl = () => withCore(env, async (core) => (await core.db.select().from(accounts).where(eq(accounts.id, ownerId)))[0]!.avatarUrl);

    test("--to s3 copies every file into the bucket, checksums equal", async () => {
      const result = await runIslet(["media", "migrate", "--to", "s3"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Copied 25 files .* to s3:\/\/islet-media/);
      assert.match(result.stdout, /set S3_ENABLED=true/);
      assert.deepEqual(await checksums(bucket), original);
      assert.equal(await avatarUrl(), `http://${new URL(s3.endpoint).host}/${s3.bucket}/${avatarKey}`, "the owner's avatar URL names the bucket");
    });

    test("a second run resumes: nothing copied again; --delete-source empties DATA_DIR/media", async () => {
      const result = await runIslet(["media", "migrate", "--to", "s3", "--delete-source"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Copied 0 files .*; 25 already there; removed 25 from /);
      assert.equal((await checksums(disk)).size, 0);
      assert.deepEqual(await checksums(bucket), original);
    });

    test("--to fs brings everything back, checksums equal, and the bucket is emptied", async () => {
      const result = await runIslet(["media", "migrate", "--to", "fs", "--delete-source"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`Copied 25 files .* to ${mediaRoot({ dataDir: database.dataDir }).replace(/[/.]/g, "\\$&")}`));
      assert.deepEqual(await checksums(disk), original);
      assert.equal((await checksums(bucket)).size, 0);
      assert.equal(await avatarUrl(), `${origin}/system/${avatarKey}`);
    });

    test("islet doctor checks the bucket with a probe object, and says when it refuses", async () => {
      const good = await runIslet(["doctor"], { env: { ...env, S3_ENABLED: "true" } });
      assert.match(good.stdout, /^ok {4}media storage: s3:\/\/islet-media at http:\/\/127\.0\.0\.1:\d+: wrote, read back and deleted a probe object; clients load media from http:\/\/127\.0\.0\.1:\d+\/islet-media$/m);
      assert.match(good.stdout, /^(ok|warn) +ffmpeg: /m);
      assert.equal((await checksums(bucket)).size, 0, "no probe object left behind");
      const bad = await runIslet(["doctor"], { env: { ...env, S3_ENABLED: "true", S3_BUCKET: "absent-bucket" } });
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^fail  media storage: could not write a probe object: .*NoSuchBucket/m);
      const noFfmpeg = await runIslet(["doctor"], { env: { ...env, FFMPEG_BINARY: "/nonexistent/ffmpeg" } });
      assert.match(noFfmpeg.stdout, /^warn  ffmpeg: ffmpeg not found: videos and sounds are kept as uploaded/m);
    });

    test("islet backup says the media live in the bucket", async () => {
      const { mkdtempSync, rmSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const { join } = await import("node:path");
      const dir = mkdtempSync(join(tmpdir(), "islet-backup-s3-"));
      try {
        const result = await runIslet(["backup", join(dir, "islet.tar.gz")], { env: { ...env, S3_ENABLED: "true" } });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /Media are not included: they live in the bucket s3:\/\/islet-media at http:\/\/127\.0\.0\.1:\d+/);
        const plain = await runIslet(["backup", join(dir, "plain.tar.gz")], { env });
        assert.equal(plain.code, 0, plain.stderr);
        assert.doesNotMatch(plain.stdout, /not included/);
        assert.match(plain.stdout, /25 media files/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("mistakes are one plain line naming the option or variable", async () => {
      assertPlainFailure(await runIslet(["media", "migrate", "--to", "ftp"], { env }), /--to: expected s3 or fs/);
      const { S3_BUCKET: _bucket, ...noBucket } = env;
      assertPlainFailure(await runIslet(["media", "migrate", "--to", "s3"], { env: noBucket }), /S3_BUCKET/);
      assertPlainFailure(await runIslet(["media", "migrate", "--to", "s3"], { env: { ...env, S3_BUCKET: "absent-bucket" } }), /NoSuchBucket/);
    });
  });
}
