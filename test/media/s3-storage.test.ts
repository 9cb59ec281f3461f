/**
 * Media in an S3-compatible bucket, against a real S3-protocol server
 * (s3rver) started here: the configuration and its mistakes, uploads and
 * profile pictures landing in the bucket and served from its URL (or
 * S3_ALIAS_HOST), deletion and cache pruning removing objects there, and a
 * bucket that refuses writes leaving no half-stored attachment.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { mediaUsage, pruneRemoteMedia } from "../../src/core/media-cache.ts";
import { newId } from "../../src/core/ids.ts";
import { accounts, mediaAttachments } from "../../src/db/schema.ts";
import { attachmentFolder, mediaRoot, storageFor } from "../../src/media/storage.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { startS3, type TestS3 } from "./s3-server.ts";

const work = mkdtempSync(join(tmpdir(), "islet-s3-config-"));
after(() => rmSync(work, { recursive: true, force: true }));

function png(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
}

function upload(bytes: Uint8Array, name = "picture.png", type = "image/png"): FormData {
  const body = new FormData();
  body.append("file", new Blob([new Uint8Array(bytes)], { type }), name);
  body.append("description", "a blue rectangle");
  return body;
}

/** Objects in the test bucket, as the S3 API lists them (through a store of its own). */
async function bucketKeys(s3: TestS3): Promise<string[]> {
  const config = loadConfig({ DATA_DIR: join(work, "lister"), ...s3.env });
  const keys: string[] = [];
  for await (const object of storageFor(config).list()) keys.push(object.key);
  return keys.sort();
}

describe("S3 configuration", () => {
  const base = { S3_ENABLED: "true", S3_BUCKET: "media", AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" };
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: join(work, "config"), ...env });
  const refusedFor = (env: Record<string, string>, variable: string) =>
    assert.throws(() => load(env), (error: unknown) => error instanceof ConfigError && error.variable === variable, `a mistake in ${variable}`);

  test("off by default; on, AWS with virtual-host URLs, or an endpoint with path-style ones", () => {
    assert.equal(load({}).s3, null);
    const aws = load({ ...base, S3_REGION: "eu-west-1" }).s3!;
    assert.equal(aws.pathStyle, false);
    assert.equal(aws.hostname, "s3.eu-west-1.amazonaws.com");
    const minio = load({ ...base, S3_ENDPOINT: "http://127.0.0.1:9000", S3_PROTOCOL: "http" }).s3!;
    assert.equal(minio.pathStyle, true);
    assert.equal(minio.hostname, "127.0.0.1:9000");
    assert.equal(load({ ...base, S3_ENDPOINT: "https://s3.example.com", S3_OVERRIDE_PATH_STYLE: "true" }).s3!.pathStyle, false);
    assert.equal(load({ ...base, S3_FORCE_SINGLE_REQUEST: "true" }).s3!.forceSingleRequest, true);
    assert.equal(load({ ...base, S3_ALIAS_HOST: "files.example.com/media/" }).s3!.aliasHost, "files.example.com/media");
  });

  test("secrets come from _FILE and systemd credentials too, and are masked", () => {
    const secretFile = join(work, "aws-secret");
    writeFileSync(secretFile, "from-a-file\n");
    const credentials = join(work, "credentials");
    mkdirSync(credentials, { recursive: true });
    writeFileSync(join(credentials, "AWS_ACCESS_KEY_ID"), "from-credentials");
    const config = load({ S3_ENABLED: "true", S3_BUCKET: "media", AWS_SECRET_ACCESS_KEY_FILE: secretFile, CREDENTIALS_DIRECTORY: credentials });
    assert.equal(config.s3!.secretAccessKey, "from-a-file");
    assert.equal(config.s3!.accessKeyId, "from-credentials");
    assert.equal(config.sources.AWS_SECRET_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY_FILE");
    assert.deepEqual(config.ignoredMastodonVariables, []);
  });

  test("each mistake names its variable", () => {
    refusedFor({ S3_ENABLED: "maybe" }, "S3_ENABLED");
    refusedFor({ ...base, S3_BUCKET: "" }, "S3_BUCKET");
    refusedFor({ ...base, S3_BUCKET: "Not A Bucket" }, "S3_BUCKET");
    refusedFor({ ...base, AWS_ACCESS_KEY_ID: "" }, "AWS_ACCESS_KEY_ID");
    refusedFor({ ...base, AWS_SECRET_ACCESS_KEY: "" }, "AWS_SECRET_ACCESS_KEY");
    refusedFor({ ...base, AWS_SECRET_ACCESS_KEY: "", AWS_SECRET_ACCESS_KEY_FILE: join(work, "absent") }, "AWS_SECRET_ACCESS_KEY_FILE");
    refusedFor({ ...base, S3_ENDPOINT: "s3.example.com" }, "S3_ENDPOINT");
    refusedFor({ ...base, S3_ENDPOINT: "ftp://s3.example.com" }, "S3_ENDPOINT");
    refusedFor({ ...base, S3_PROTOCOL: "gopher" }, "S3_PROTOCOL");
    refusedFor({ ...base, S3_HOSTNAME: "https://s3.example.com" }, "S3_HOSTNAME");
    refusedFor({ ...base, S3_ALIAS_HOST: "https://cdn.example.com" }, "S3_ALIAS_HOST");
    refusedFor({ ...base, S3_REGION: "eu west" }, "S3_REGION");
    refusedFor({ ...base, S3_FORCE_SINGLE_REQUEST: "sometimes" }, "S3_FORCE_SINGLE_REQUEST");
    refusedFor({ ...base, S3_PERMISSION: "everyone" }, "S3_PERMISSION");
  });
});


for (const kind of databaseKinds()) {
  describe(`media in an S3 bucket (${kind})`, () => {
    let s3: TestS3;
    let instance: TestInstance;
    let token: string;
    before(async () => {
      s3 = await startS3();
      instance = await startInstance(kind, { env: s3.env });
      token = await ownerToken(instance);
    });
    after(async () => {
      await instance?.close();
      await s3?.close();
    });

    test("an upload lands in the bucket, its URL serves it, and deleting it removes the objects", async () => {
      const bytes = await png();
      const response = await api(instance, "POST", "/api/v2/media", { token, body: upload(bytes) });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const { id, url, preview_url: previewUrl } = response.body;
      const bucketBase = `${s3.endpoint}/${s3.bucket}/`;
      assert.ok(url.startsWith(`${bucketBase}${attachmentFolder(BigInt(id))}/original.`), url);
      assert.ok(previewUrl.startsWith(bucketBase), previewUrl);
      const keys = [url.slice(bucketBase.length), previewUrl.slice(bucketBase.length)];
      const listed = await bucketKeys(s3);
      for (const key of keys) assert.ok(listed.includes(key), `${key} is in the bucket`);
      assert.equal(existsSync(join(mediaRoot(instance.islet.config), "media_attachments")), false, "nothing under DATA_DIR/media");

      const served = await fetch(url);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get("content-type"), "image/png");
      const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
      assert.equal(meta.width, 64);

      const old = await fetch(`${instance.url}/system/${keys[0]}`, { redirect: "manual" });
      assert.equal(old.status, 302, "an older /system/ link leads to the bucket");
      assert.equal(old.headers.get("location"), url);

      const deleted = await api(instance, "DELETE", `/api/v1/media/${id}`, { token });
      assert.equal(deleted.status, 200);
      const after = await bucketKeys(s3);
      for (const key of keys) assert.ok(!after.includes(key), `${key} is deleted from the bucket`);
      assert.equal((await fetch(url)).status, 404);
    });

    test("the owner's avatar is stored in the bucket and replaced there", async () => {
      const form = new FormData();
      form.set("avatar", new Blob([new Uint8Array(await png(300, 200))], { type: "image/png" }), "avatar.png");
      const first = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: form });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const avatar: string = first.body.avatar;
      assert.ok(avatar.startsWith(`${s3.endpoint}/${s3.bucket}/accounts/avatars/`), avatar);
      assert.equal((await fetch(avatar)).status, 200);

      const again = new FormData();
      again.set("avatar", new Blob([new Uint8Array(await png(200, 200))], { type: "image/png" }), "avatar.png");
      const second = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: again });
      assert.notEqual(second.body.avatar, avatar);
      assert.equal((await fetch(second.body.avatar)).status, 200);
      assert.equal((await fetch(avatar)).status, 404, "the replaced picture is deleted from the bucket");
    });

    test("pruning the remote media cache deletes the cached objects from the bucket", async () => {
      const core = instance.islet.core;
      const remoteId = newId();
      await core.db.insert(accounts).values({ id: remoteId, username: "far", domain: "remote.example", uri: `https://remote.example/users/far-${remoteId}` });
      const mediaId = newId();
      const fileKey = `${attachmentFolder(mediaId)}/original.png`;
      const previewKey = `${attachmentFolder(mediaId)}/small.png`;
      const store = storageFor(core.config);
      await store.put(fileKey, await png());
      await store.put(previewKey, await png(32, 24));
      await core.db.insert(mediaAttachments).values({
        id: mediaId, accountId: remoteId, type: "image", contentType: "image/png", fileKey, previewKey,
        remoteUrl: "https://remote.example/files/1.png", createdAt: new Date(Date.now() - 30 * 86400_000),
      });
      assert.ok((await mediaUsage(core)).remote.files >= 2, "the cached files count as remote");

      const result = await pruneRemoteMedia(core, new Date(Date.now() - 86400_000));
      assert.equal(result.attachments, 1);
      assert.equal(result.files, 2);
      const listed = await bucketKeys(s3);
      assert.ok(!listed.includes(fileKey) && !listed.includes(previewKey), "the objects are gone");
      const [row] = await core.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, mediaId));
      assert.equal(row.fileKey, null);
    });
  });
}

describe("media behind S3_ALIAS_HOST", () => {
  let s3: TestS3;
  let instance: TestInstance;
  let token: string;
  before(async () => {
    s3 = await startS3();
    const port = new URL(s3.endpoint).port;
    // The alias names the same server by another host, as a CDN in front of the bucket would.
    instance = await startInstance(databaseKinds()[0], { env: { ...s3.env, S3_ALIAS_HOST: `localhost:${port}/${s3.bucket}` } });
    token = await ownerToken(instance);
  });
  after(async () => {
    await instance?.close();
    await s3?.close();
  });

  test("URLs name the alias host, and it serves the file", async () => {
    const response = await api(instance, "POST", "/api/v2/media", { token, body: upload(await png()) });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const url: string = response.body.url;
    assert.ok(url.startsWith(`http://localhost:${new URL(s3.endpoint).port}/${s3.bucket}/media_attachments/`), url);
    const served = await fetch(url);
    assert.equal(served.status, 200);
    assert.equal((await sharp(Buffer.from(await served.arrayBuffer())).metadata()).height, 48);
  });
});

describe("a bucket that refuses writes", () => {
  let s3: TestS3;
  let instance: TestInstance;
  let token: string;
  before(async () => {
    s3 = await startS3();
    instance = await startInstance(databaseKinds()[0], { env: { ...s3.env, S3_BUCKET: "no-such-bucket" } });
    token = await ownerToken(instance);
  });
  after(async () => {
    await instance?.close();
    await s3?.close();
  });

  test("an upload fails with a clear error and leaves no attachment, object or temporary file", async () => {
    const response = await api(instance, "POST", "/api/v2/media", { token, body: upload(await png()) });
    assert.equal(response.status, 503, JSON.stringify(response.body));
    assert.match(response.body.error, /object storage s3:\/\/no-such-bucket .*could not store media_attachments\/.*NoSuchBucket/);
    const rows = await instance.islet.core.db.select().from(mediaAttachments);
    assert.equal(rows.length, 0, "no attachment row");
    const tmp = join(mediaRoot(instance.islet.config), ".tmp");
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], "no upload left behind");
    assert.deepEqual(await bucketKeys(s3), [], "nothing in the real bucket either");
  });
});
