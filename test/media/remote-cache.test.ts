/**
 * The remote media cache: a post arriving in the inbox with attachments has
 * its files downloaded by the worker and served from this server; what is
 * not a picture, too large or missing stays at its remote URL; pruning makes
 * cached attachments point at their remote URL again.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rm } from "node:fs/promises";
import { eq, isNull } from "drizzle-orm";
import sharp from "sharp";
import { isBlurhashValid } from "blurhash";
import { mediaUsage, pruneRemoteMedia } from "../../src/core/media-cache.ts";
import { newId } from "../../src/core/ids.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { follows, mediaAttachments, queueMessages } from "../../src/db/schema.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { blockDomain, unblockDomain } from "../../src/core/server-domain-blocks.ts";
import { downloadRemoteMedia, RemoteMediaError } from "../../src/media/remote-fetch.ts";
import { MEDIA_LIMITS } from "../../src/media/limits.ts";
import { attachmentFolder, ensurePrivateDirectory, mediaRoot, uploadTmpDir } from "../../src/media/storage.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";
import { jpegWithExif, picture } from "./fixtures.ts";

const AS = [
  "https://www.w3.org/ns/activitystreams",
  { toot: "http://joinmastodon.org/ns#", blurhash: "toot:blurhash", focalPoint: { "@container": "@list", "@id": "toot:focalPoint" } },
];
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

interface MediaJson {
  id: string;
  type: string;
  url: string;
  preview_url: string | null;
  remote_url: string | null;
  blurhash: string | null;
  description: string | null;
  meta: { original?: { width: number; height: number }; small?: { width: number; height: number }; focus?: { x: number; y: number } } | null;
}

for (const kind of databaseKinds()) {
  describe(`the remote media cache (${kind})`, () => {
    let islet: TestInstance;
    let friend: RemoteServer;
    let token: string;
    let serial = 0;

    before(async () => {
      [islet, friend] = await Promise.all([startInstance(kind), startRemote("friend")]);
      token = await ownerToken(islet);
      const account = await resolveAccount(islet.islet.federation, islet.islet.core, friend.actorId);
      await islet.islet.core.db.insert(follows).values({
        id: newId(), accountId: islet.owner!.account.id, targetAccountId: account.id, state: "accepted",
      });
    });
    after(async () => {
      await Promise.all([islet?.close(), friend?.close()]);
    });

    /** A file on the remote server; its URL. */
    function serve(name: string, contentType: string, body: string | Uint8Array): string {
      friend.files.set(`/media/${name}`, { contentType, body });
      return `${friend.origin}/media/${name}`;
    }

    function note(attachment: Record<string, unknown>[]) {
      serial++;
      return {
        id: `${friend.origin}/notes/${serial}`,
        type: "Note",
        attributedTo: friend.actorId,
        content: `<p>Post ${serial}</p>`,
        published: new Date().toISOString(),
        to: [PUBLIC],
        cc: [`${friend.actorId}/followers`],
        attachment,
      };
    }

    /** Sends a Create of `object` (embedded, or by IRI when `byReference`); resolves with the stored status's id. */
    async function deliver(object: ReturnType<typeof note>, byReference = false): Promise<string> {
      if (byReference) friend.files.set(new URL(object.id).pathname, { contentType: "application/activity+json", body: JSON.stringify({ "@context": AS, ...object }) });
      const activity = { "@context": AS, id: `${object.id}/activity`, type: "Create", actor: friend.actorId, object: byReference ? object.id : object, to: object.to, cc: object.cc };
      assert.equal((await friend.post(`${islet.origin}/inbox`, activity)).status, 202);
      const status = await eventually(() => findStatusByUri(islet.islet.core, object.id), `${object.id} to be stored`);
      return status.id.toString();
    }

    async function mediaOf(statusId: string): Promise<MediaJson[]> {
      const response = await api(islet, "GET", `/api/v1/statuses/${statusId}`, { token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body.media_attachments;
    }

    async function rowOf(mediaId: string) {
      const rows = await islet.islet.core.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, BigInt(mediaId)));
      return rows[0]!;
    }

    /** Waits until no job is queued or running, on any queue (inbox work, then downloads). */
    async function settled(): Promise<void> {
      await eventually(async () => {
        const pending = await islet.islet.core.db.select({ id: queueMessages.id }).from(queueMessages).where(isNull(queueMessages.failedAt));
        return pending.length === 0;
      }, "the queues to be done");
    }

    /** Waits until the file was asked for and no download is queued or running. */
    async function downloaded(path: string): Promise<void> {
      await eventually(async () => friend.gets.includes(path), `a request for ${path}`);
      await settled();
    }

    /** The same URL on the address the test server listens at. */
    const local = (url: string) => url.replace(islet.origin, islet.url);
    /** Whether the API points at a file cached here. */
    const cachedHere = (url: string) => url.startsWith(`${islet.origin}/system/`);
    /** Asks the media proxy at `url` for a file: the status and where it sends the client. */
    async function viaProxy(url: string): Promise<{ status: number; location: string | null }> {
      assert.ok(url.startsWith(`${islet.origin}/media_proxy/`), url);
      const response = await fetch(local(url), { redirect: "manual" });
      await response.body?.cancel();
      return { status: response.status, location: response.headers.get("location") };
    }

    let cachedStatusId = "";
    let cachedRemoteUrl = "";

    test("an image is downloaded, processed like an upload and served from here, with remote_url its origin", async () => {
      // 1280x640 turned a quarter by its EXIF orientation: 640x1280 upright.
      const url = serve("photo.jpg", "image/jpeg", await jpegWithExif(1280, 640));
      const statusId = await deliver(note([{ type: "Document", mediaType: "image/jpeg", url, name: "A photo", width: 640, height: 1280 }]));
      const [before] = await mediaOf(statusId);
      const row = await eventually(async () => {
        const found = await rowOf(before!.id);
        return found.fileKey != null ? found : null;
      }, "the attachment to be cached");
      assert.ok(row.fileKey!.startsWith(`${attachmentFolder(row.id)}/`), row.fileKey!);
      assert.ok(existsSync(join(mediaRoot(islet.islet.config), row.fileKey!)), "the original on disk");
      assert.ok(row.previewKey != null && existsSync(join(mediaRoot(islet.islet.config), row.previewKey)), "the preview on disk");
      assert.ok((row.fileSize ?? 0) > 0);

      const [media] = await mediaOf(statusId);
      assert.equal(media!.type, "image");
      assert.equal(media!.description, "A photo");
      assert.equal(media!.remote_url, url);
      assert.ok(media!.url.startsWith(`${islet.origin}/system/media_attachments/`), media!.url);
      assert.ok(media!.preview_url?.startsWith(`${islet.origin}/system/media_attachments/`), String(media!.preview_url));
      assert.notEqual(media!.preview_url, media!.url);
      assert.ok(media!.blurhash != null && isBlurhashValid(media!.blurhash).result, String(media!.blurhash));
      assert.deepEqual([media!.meta?.original?.width, media!.meta?.original?.height], [640, 1280]);
      assert.deepEqual([media!.meta?.small?.width, media!.meta?.small?.height], [320, 640]);

      const image = await fetch(local(media!.url));
      assert.equal(image.status, 200);
      assert.equal(image.headers.get("Content-Type"), "image/jpeg");
      const served = await sharp(new Uint8Array(await image.arrayBuffer())).metadata();
      assert.deepEqual([served.width, served.height], [640, 1280]);
      assert.equal(served.exif, undefined, "EXIF stripped");
      const preview = await fetch(local(media!.preview_url!));
      assert.equal(preview.status, 200);
      const small = await sharp(new Uint8Array(await preview.arrayBuffer())).metadata();
      assert.deepEqual([small.width, small.height], [320, 640]);
      cachedStatusId = statusId;
      cachedRemoteUrl = url;
    });

    test("a blurhash and focal point sent by the author's server are kept", async () => {
      const url = serve("square.png", "image/png", await picture("png", 100, 100, "#c33"));
      const blurhash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";
      const statusId = await deliver(note([{ type: "Image", mediaType: "image/png", url, blurhash, focalPoint: [0.5, -0.25] }]), true);
      const [first] = await mediaOf(statusId);
      assert.equal(first!.blurhash, blurhash, "read from the post");
      assert.deepEqual(first!.meta?.focus, { x: 0.5, y: -0.25 });
      const media = await eventually(async () => {
        const [found] = await mediaOf(statusId);
        return cachedHere(found!.url) ? found : null;
      }, "the attachment to be cached");
      assert.equal(media!.blurhash, blurhash);
      assert.deepEqual(media!.meta?.focus, { x: 0.5, y: -0.25 });
      assert.deepEqual([media!.meta?.original?.width, media!.meta?.original?.height], [100, 100]);
    });

    test("a file named .png that is not a picture is not stored as an image", async () => {
      const url = serve("fake.png", "image/png", "<html><script>alert(1)</script></html>");
      const statusId = await deliver(note([{ type: "Document", mediaType: "image/png", url }]));
      const [before] = await mediaOf(statusId);
      const row = await eventually(async () => {
        const found = await rowOf(before!.id);
        return found.type === "unknown" ? found : null;
      }, "the attachment to be found not to be a picture");
      assert.equal(row.fileKey, null);
      assert.equal(row.previewKey, null);
      assert.equal(existsSync(join(mediaRoot(islet.islet.config), attachmentFolder(row.id))), false);
      const [media] = await mediaOf(statusId);
      assert.equal(media!.type, "unknown");
      assert.equal(media!.url, url);
      assert.equal(media!.remote_url, url);
      assert.equal(media!.preview_url, null);
    });

    test("an image over the size limit is not cached", async () => {
      const png = await picture("png", 10, 10);
      const big = new Uint8Array(MEDIA_LIMITS.imageSizeLimit + 1024);
      big.set(png);
      const url = serve("huge.png", "image/png", big);
      const statusId = await deliver(note([{ type: "Document", mediaType: "image/png", url }]));
      await downloaded("/media/huge.png");
      const [media] = await mediaOf(statusId);
      const row = await rowOf(media!.id);
      assert.equal(row.fileKey, null);
      assert.equal(media!.type, "image");
      assert.equal(media!.url, `${islet.origin}/media_proxy/${media!.id}/original`);
      assert.equal(media!.remote_url, url);
      assert.equal(existsSync(join(mediaRoot(islet.islet.config), attachmentFolder(row.id))), false);
      // Viewed, it is tried once more, then the client is sent to its origin
      // without another download for a while.
      const asked = friend.gets.filter((path) => path === "/media/huge.png").length;
      assert.deepEqual(await viaProxy(media!.url), { status: 302, location: url });
      assert.deepEqual(await viaProxy(media!.url), { status: 302, location: url });
      assert.equal(friend.gets.filter((path) => path === "/media/huge.png").length, asked + 1);
      const leftovers = readdirSync(uploadTmpDir(islet.islet.config)).filter((name) => name.startsWith("remote-"));
      assert.deepEqual(leftovers, [], "no partial download left behind");
    });

    test("a file the server answers 404 for stays uncached at its remote URL", async () => {
      const url = `${friend.origin}/media/missing.png`;
      const statusId = await deliver(note([{ type: "Document", mediaType: "image/png", url, name: "gone" }]));
      await downloaded("/media/missing.png");
      const [media] = await mediaOf(statusId);
      assert.equal((await rowOf(media!.id)).fileKey, null);
      assert.equal(media!.type, "image");
      assert.equal(media!.url, `${islet.origin}/media_proxy/${media!.id}/original`);
      assert.equal(media!.preview_url, `${islet.origin}/media_proxy/${media!.id}/small`);
      assert.equal(media!.remote_url, url);
      assert.equal(media!.description, "gone");
      assert.deepEqual(await viaProxy(media!.preview_url!), { status: 302, location: url });
    });

    test("usage counts the cache; pruning makes attachments uncached, and the media proxy fetches them again when viewed", async () => {
      assert.notEqual(cachedStatusId, "", "needs the cached image of the first test");
      const core = islet.islet.core;
      const [cached] = await mediaOf(cachedStatusId);
      const row = await rowOf(cached!.id);
      const files = [row.fileKey!, row.previewKey!].map((key) => join(mediaRoot(islet.islet.config), key));
      const usage = await mediaUsage(core);
      // Two cached images, each an original and a preview.
      assert.equal(usage.remote.files, 4);
      assert.ok(usage.remote.bytes > 0);
      assert.equal(usage.local.files, 0);

      // Nothing is older than an hour ago.
      assert.equal((await pruneRemoteMedia(core, new Date(Date.now() - 3600_000))).attachments, 0);
      const result = await pruneRemoteMedia(core, new Date(Date.now() + 60_000));
      assert.equal(result.attachments, 2);
      assert.equal(result.files, 4);
      for (const file of files) assert.equal(existsSync(file), false, `${file} deleted`);
      assert.equal((await mediaUsage(core)).remote.files, 0);

      const pruned = await rowOf(cached!.id);
      assert.equal(pruned.fileKey, null);
      assert.equal(pruned.previewKey, null);
      const [media] = await mediaOf(cachedStatusId);
      assert.equal(media!.url, `${islet.origin}/media_proxy/${cached!.id}/original`);
      assert.equal(media!.preview_url, `${islet.origin}/media_proxy/${cached!.id}/small`);
      assert.equal(media!.remote_url, cachedRemoteUrl);
      assert.equal((await fetch(local(cached!.url))).status, 404);

      // The first view downloads it again and sends the client to the new copy.
      const [small, original] = await Promise.all([viaProxy(media!.preview_url!), viaProxy(media!.url)]);
      assert.equal(small.status, 302);
      assert.equal(original.status, 302);
      const again = await rowOf(cached!.id);
      assert.ok(again.fileKey != null && again.previewKey != null);
      assert.equal(original.location, `${islet.origin}/system/${again.fileKey}`);
      assert.equal(small.location, `${islet.origin}/system/${again.previewKey}`);
      const image = await fetch(local(original.location!));
      assert.equal(image.status, 200);
      assert.equal(image.headers.get("Content-Type"), "image/jpeg");
      const [shown] = await mediaOf(cachedStatusId);
      assert.equal(shown!.url, original.location);
      assert.equal((await mediaUsage(core)).remote.files, 2);
      // Not a remote attachment, or no attachment at all.
      assert.equal((await fetch(local(`${islet.origin}/media_proxy/1/original`))).status, 404);
      assert.equal((await fetch(local(`${islet.origin}/media_proxy/${cached!.id}/large`))).status, 404);
      assert.equal((await fetch(local(`${islet.origin}/media_proxy/9999999999999999999/original`))).status, 404);
    });

    test("loopback and private addresses are refused without ALLOW_PRIVATE_ADDRESS", async () => {
      const tmpDir = uploadTmpDir(islet.islet.config);
      await ensurePrivateDirectory(tmpDir);
      const port = new URL(friend.origin).port;
      serve("private.png", "image/png", await picture("png", 10, 10));
      const asked = friend.gets.length;
      for (const url of [`http://127.0.0.1:${port}/media/private.png`, `http://localhost:${port}/media/private.png`, `http://[::1]:${port}/media/private.png`]) {
        await assert.rejects(
          downloadRemoteMedia(url, { tmpDir, allowPrivateAddress: false, timeoutMs: 10_000 }),
          (error: unknown) => error instanceof RemoteMediaError && !error.retry && /not a public address/.test(error.message),
          url,
        );
      }
      assert.equal(friend.gets.length, asked, "no request reached the server");
      // The same file with the rule lifted, as in these tests' instances.
      const file = await downloadRemoteMedia(`http://127.0.0.1:${port}/media/private.png`, { tmpDir, allowPrivateAddress: true, timeoutMs: 10_000 });
      assert.ok(file.size > 0);
      await rm(file.path);
    });

    test("a suspended host is not fetched; once lifted, an edit of the post caches what is still attached", async () => {
      const core = islet.islet.core;
      // A media host apart from the author's server.
      const keptPng = await picture("png", 30, 20, "#0f0");
      const asked: string[] = [];
      const mediaHost = createServer((req, res) => {
        asked.push(req.url ?? "");
        res.writeHead(200, { "Content-Type": "image/png" }).end(keptPng);
      });
      await new Promise<void>((resolve) => mediaHost.listen(0, "127.0.0.1", resolve));
      after(() => new Promise<void>((resolve) => mediaHost.close(() => resolve())));
      const blockedHost = `127.0.0.1:${(mediaHost.address() as AddressInfo).port}`;
      await blockDomain(core, blockedHost, { severity: "suspend" });
      const kept = `http://${blockedHost}/kept.png`;
      const dropped = serve("dropped.png", "image/png", await picture("png", 20, 20, "#00f"));
      const object = note([
        { type: "Document", mediaType: "image/png", url: kept, name: "kept" },
        { type: "Document", mediaType: "image/png", url: dropped, name: "dropped" },
      ]);
      const statusId = await deliver(object);
      await downloaded("/media/dropped.png");
      assert.deepEqual(asked, [], "the suspended host was not asked");
      const [keptMedia, droppedMedia] = await mediaOf(statusId);
      assert.equal(keptMedia!.remote_url, kept);
      assert.equal((await viaProxy(keptMedia!.url)).status, 404, "the proxy does not fetch it either");
      assert.deepEqual(asked, []);
      assert.ok(cachedHere(droppedMedia!.url), droppedMedia!.url);
      const droppedRow = await rowOf(droppedMedia!.id);
      const droppedFile = join(mediaRoot(islet.islet.config), droppedRow.fileKey!);
      assert.ok(existsSync(droppedFile));

      await unblockDomain(core, blockedHost);
      const edited = { ...object, content: "<p>Edited</p>", updated: new Date(Date.now() + 1000).toISOString(), attachment: [object.attachment[0]!] };
      const update = { "@context": AS, id: `${object.id}/update`, type: "Update", actor: friend.actorId, object: edited, to: object.to, cc: object.cc };
      assert.equal((await friend.post(`${islet.origin}/inbox`, update)).status, 202);
      const media = await eventually(async () => {
        const list = await mediaOf(statusId);
        return list.length === 1 && cachedHere(list[0]!.url) ? list[0] : null;
      }, "the kept attachment to be cached after the edit");
      assert.equal(media!.id, keptMedia!.id, "the attachment kept its id");
      assert.equal(media!.remote_url, kept);
      assert.deepEqual([media!.meta?.original?.width, media!.meta?.original?.height], [30, 20]);
      assert.equal(existsSync(droppedFile), false, "the removed attachment's cached file is deleted");
      assert.deepEqual(asked, ["/kept.png"]);
    });

    test("a download the server cannot answer now (503) is tried again", async () => {
      const png = await picture("png", 24, 12, "#fa0");
      let requests = 0;
      const flaky = createServer((_req, res) => {
        requests++;
        if (requests === 1) res.writeHead(503).end();
        else res.writeHead(200, { "Content-Type": "image/png" }).end(png);
      });
      await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve));
      after(() => new Promise<void>((resolve) => flaky.close(() => resolve())));
      const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/flaky.png`;
      const statusId = await deliver(note([{ type: "Document", mediaType: "image/png", url }]));
      const media = await eventually(async () => {
        const [found] = await mediaOf(statusId);
        return cachedHere(found!.url) ? found : null;
      }, "the attachment to be cached on a later attempt");
      assert.equal(requests, 2);
      assert.equal(media!.remote_url, url);
      assert.deepEqual([media!.meta?.original?.width, media!.meta?.original?.height], [24, 12]);
    });
  });
}
