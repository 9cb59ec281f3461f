/**
 * Remote accounts' avatars and headers in the media cache: downloaded once
 * when the account is stored, served from here, fetched through the media
 * proxy when not cached (yet, or pruned), replaced and deleted with the
 * account's pictures, and never fetched from a suspended host.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { eq, isNull } from "drizzle-orm";
import sharp from "sharp";
import type { Account } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { mediaUsage, pruneRemoteMedia } from "../../src/core/media-cache.ts";
import { blockDomain } from "../../src/core/server-domain-blocks.ts";
import { accounts, queueMessages } from "../../src/db/schema.ts";
import { enqueueProfileImages } from "../../src/media/profile-cache.ts";
import { cacheRemoteMedia } from "../../src/media/remote-cache.ts";
import { keyPath } from "../../src/media/storage.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { closeHttpServer } from "../helpers/http-server.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { animatedGif, picture } from "./fixtures.ts";

/** A loopback server of pictures that counts the requests for each path. */
interface PictureServer {
  origin: string;
  host: string;
  files: Map<string, { contentType: string; body: Uint8Array }>;
  gets: Map<string, number>;
  server: Server;
}

async function startPictureServer(): Promise<PictureServer> {
  const files = new Map<string, { contentType: string; body: Uint8Array }>();
  const gets = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    gets.set(path, (gets.get(path) ?? 0) + 1);
    const file = files.get(path);
    if (file == null) res.writeHead(404).end();
    else res.writeHead(200, { "Content-Type": file.contentType, "Content-Length": String(file.body.byteLength) }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin: `http://${host}`, host, files, gets, server };
}

for (const kind of databaseKinds()) {
  describe(`remote profile pictures in the media cache (${kind})`, () => {
    let islet: TestInstance;
    let pictures: PictureServer;
    let token: string;

    before(async () => {
      [islet, pictures] = await Promise.all([startInstance(kind), startPictureServer()]);
      token = await ownerToken(islet);
    });
    after(async () => {
      await Promise.all([islet?.close(), pictures == null ? undefined : closeHttpServer(pictures.server)]);
    });

    /** A picture on the picture server; its URL. */
    function serve(path: string, contentType: string, body: Uint8Array): string {
      pictures.files.set(path, { contentType, body });
      return `${pictures.origin}${path}`;
    }
    const asked = (path: string) => pictures.gets.get(path) ?? 0;
    /** The same URL on the address the test server listens at. */
    const local = (url: string) => url.replace(islet.origin, islet.url);
    const rowOf = async (id: bigint) => (await islet.islet.core.db.select().from(accounts).where(eq(accounts.id, id)))[0]!;
    const accountJson = async (id: bigint) => {
      const response = await api(islet, "GET", `/api/v1/accounts/${id}`, { token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as { avatar: string; avatar_static: string; header: string; header_static: string };
    };
    async function viaProxy(url: string): Promise<{ status: number; location: string | null }> {
      assert.ok(url.startsWith(`${islet.origin}/media_proxy/`), url);
      const response = await fetch(local(url), { redirect: "manual" });
      await response.body?.cancel();
      return { status: response.status, location: response.headers.get("location") };
    }
    /** Waits until no job is queued or running. */
    async function settled(): Promise<void> {
      await eventually(async () => {
        const pending = await islet.islet.core.db.select({ id: queueMessages.id }).from(queueMessages).where(isNull(queueMessages.failedAt));
        return pending.length === 0;
      }, "the queues to be done");
    }
    const cachedAvatar = (id: bigint) => eventually(async () => {
      const row = await rowOf(id);
      return row.avatarFileKey != null && row.avatarFileSource === row.avatarUrl ? row : null;
    }, "the avatar to be cached");
    const onDisk = (key: string | null) => key != null && existsSync(keyPath(islet.islet.config, key)!);

    let alice: Account;

    test("a stored account's avatar and header are downloaded once, processed, and served from here", async () => {
      const avatarUrl = serve("/alice/avatar.png", "image/png", await picture("png", 800, 600, "#c33"));
      const headerUrl = serve("/alice/header.gif", "image/gif", await animatedGif(300, 100));
      alice = await insertRemoteAccount(islet.islet.core, "alice", { avatarUrl, headerUrl });
      const row = await eventually(async () => {
        const found = await rowOf(alice.id);
        return found.avatarFileKey != null && found.headerFileKey != null ? found : null;
      }, "both pictures to be cached");
      assert.equal(row.avatarFileSource, avatarUrl);
      assert.equal(row.headerFileSource, headerUrl);
      assert.equal(row.avatarStaticKey, null, "a still picture is its own still");
      assert.ok(row.headerStaticKey != null, "an animated header has a still");
      for (const key of [row.avatarFileKey, row.headerFileKey, row.headerStaticKey]) {
        assert.match(key!, /^cache\/accounts\/(avatars|headers)\//);
        assert.ok(onDisk(key), `${key} on disk`);
      }

      const json = await accountJson(alice.id);
      assert.equal(json.avatar, `${islet.origin}/system/${row.avatarFileKey}`);
      assert.equal(json.avatar_static, json.avatar);
      assert.equal(json.header, `${islet.origin}/system/${row.headerFileKey}`);
      assert.equal(json.header_static, `${islet.origin}/system/${row.headerStaticKey}`);
      const avatar = await fetch(local(json.avatar));
      assert.equal(avatar.status, 200);
      assert.equal(avatar.headers.get("Content-Type"), "image/png");
      const meta = await sharp(new Uint8Array(await avatar.arrayBuffer())).metadata();
      assert.deepEqual([meta.width, meta.height], [400, 400], "cropped as Mastodon crops avatars");
      const still = await sharp(new Uint8Array(await (await fetch(local(json.header_static))).arrayBuffer())).metadata();
      assert.equal(still.pages ?? 1, 1, "the header's still is one frame");

      // The proxy sends a client to the copy without asking the server again.
      const proxied = await viaProxy(`${islet.origin}/media_proxy/avatars/${alice.id}/original`);
      assert.deepEqual(proxied, { status: 302, location: json.avatar });
      assert.deepEqual(await viaProxy(`${islet.origin}/media_proxy/headers/${alice.id}/static`), { status: 302, location: json.header_static });

      // Stored again with the same pictures (a refresh): nothing is queued.
      await insertRemoteAccount(islet.islet.core, "alice", { avatarUrl, headerUrl });
      const queued: unknown[] = [];
      assert.equal(await enqueueProfileImages(islet.islet.core, { enqueue: async (job) => void queued.push(job) }, alice.id), 0);
      await settled();
      assert.equal(asked("/alice/avatar.png"), 1);
      assert.equal(asked("/alice/header.gif"), 1);
      const usage = await mediaUsage(islet.islet.core);
      assert.equal(usage.remote.files, 3, "avatar, header and its still count as remote media cache");
      assert.equal(usage.other.files, 0);
    });

    test("before the job has run the API points at the proxy, which downloads on first view and redirects after", async () => {
      const core = islet.islet.core;
      const avatarUrl = serve("/bob/avatar.webp", "image/webp", await picture("webp", 120, 120, "#36c"));
      // As stored, before any job: straight in the database, no event.
      const id = newId();
      await core.db.insert(accounts).values({ id, username: "bob", domain: "remote.example", uri: "https://remote.example/users/bob", avatarUrl });
      const before = await accountJson(id);
      assert.equal(before.avatar, `${islet.origin}/media_proxy/avatars/${id}/original`);
      assert.equal(before.avatar_static, `${islet.origin}/media_proxy/avatars/${id}/static`);
      assert.equal(before.header, `${islet.origin}/headers/original/missing.png`, "no header: the placeholder");
      assert.equal(asked("/bob/avatar.webp"), 0);

      const first = await viaProxy(before.avatar_static);
      const row = await rowOf(id);
      assert.ok(row.avatarFileKey != null);
      assert.deepEqual(first, { status: 302, location: `${islet.origin}/system/${row.avatarFileKey}` });
      const image = await fetch(local(first.location!));
      assert.equal(image.status, 200);
      assert.equal(image.headers.get("Content-Type"), "image/webp");
      assert.deepEqual(await viaProxy(before.avatar), first);
      assert.equal((await accountJson(id)).avatar, first.location);
      // The queued job finds it done.
      assert.equal(await cacheRemoteMedia(core, { accountId: id.toString(), image: "avatar" }), "skipped");
      assert.equal(asked("/bob/avatar.webp"), 1);
    });

    test("a picture the cache will not keep is the placeholder through the proxy, never its remote URL", async () => {
      const core = islet.islet.core;
      const avatarUrl = serve("/erin/avatar.png", "image/png", new TextEncoder().encode("<html><script>alert(1)</script></html>"));
      const id = newId();
      await core.db.insert(accounts).values({ id, username: "erin", domain: "remote.example", uri: "https://remote.example/users/erin", avatarUrl });
      const json = await accountJson(id);
      assert.equal(json.avatar, `${islet.origin}/media_proxy/avatars/${id}/original`);
      assert.deepEqual(await viaProxy(json.avatar), { status: 302, location: `${islet.origin}/avatars/original/missing.png` });
      // Not tried again for a while.
      assert.deepEqual(await viaProxy(json.avatar_static), { status: 302, location: `${islet.origin}/avatars/original/missing.png` });
      assert.equal(asked("/erin/avatar.png"), 1);
      assert.equal((await rowOf(id)).avatarFileKey, null);
      await core.db.delete(accounts).where(eq(accounts.id, id));
    });

    test("a pruned avatar is served through the proxy again, which fetches it anew", async () => {
      const core = islet.islet.core;
      const old = await rowOf(alice.id);
      assert.equal((await pruneRemoteMedia(core, new Date(Date.now() - 3600_000))).profileImages, 0, "nothing cached an hour ago");
      const result = await pruneRemoteMedia(core, new Date(Date.now() + 60_000));
      assert.ok(result.profileImages >= 3, `${result.profileImages} pictures pruned`);
      assert.ok(result.files >= 4);
      for (const key of [old.avatarFileKey, old.headerFileKey, old.headerStaticKey]) assert.ok(!onDisk(key), `${key} deleted`);
      assert.equal((await mediaUsage(core)).remote.files, 0);
      const pruned = await rowOf(alice.id);
      assert.equal(pruned.avatarFileKey, null);
      assert.equal(pruned.avatarUrl, old.avatarUrl, "the remote URL is kept");

      const json = await accountJson(alice.id);
      assert.equal(json.avatar, `${islet.origin}/media_proxy/avatars/${alice.id}/original`);
      assert.equal(json.header_static, `${islet.origin}/media_proxy/headers/${alice.id}/static`);
      assert.equal((await fetch(local(`${islet.origin}/system/${old.avatarFileKey}`))).status, 404);
      const again = await viaProxy(json.avatar);
      assert.equal(again.status, 302);
      const row = await rowOf(alice.id);
      assert.ok(row.avatarFileKey != null && row.avatarFileKey !== old.avatarFileKey);
      assert.equal(again.location, `${islet.origin}/system/${row.avatarFileKey}`);
      assert.equal((await fetch(local(again.location!))).status, 200);
      assert.equal(asked("/alice/avatar.png"), 2);
    });

    test("a new picture replaces the copy; a removed one deletes it", async () => {
      const before = await cachedAvatar(alice.id);
      const avatarUrl = serve("/alice/avatar-2.png", "image/png", await picture("png", 64, 64, "#0a0"));
      await insertRemoteAccount(islet.islet.core, "alice", { avatarUrl, headerUrl: null });
      // Until the new one is cached the old copy is not shown.
      const shown = await accountJson(alice.id);
      assert.notEqual(shown.avatar, `${islet.origin}/system/${before.avatarFileKey}`);
      assert.equal(shown.header, `${islet.origin}/headers/original/missing.png`);
      const after = await cachedAvatar(alice.id);
      assert.notEqual(after.avatarFileKey, before.avatarFileKey);
      assert.equal(after.avatarFileSource, avatarUrl);
      assert.ok(!onDisk(before.avatarFileKey), "the old avatar is deleted");
      assert.ok(onDisk(after.avatarFileKey));
      assert.equal((await accountJson(alice.id)).avatar, `${islet.origin}/system/${after.avatarFileKey}`);

      await insertRemoteAccount(islet.islet.core, "alice", { avatarUrl: null, headerUrl: null });
      const cleared = await eventually(async () => {
        const row = await rowOf(alice.id);
        return row.avatarFileKey == null ? row : null;
      }, "the removed avatar's copy to go");
      assert.equal(cleared.avatarStaticKey, null);
      assert.ok(!onDisk(after.avatarFileKey), "the removed avatar is deleted");
      assert.equal((await accountJson(alice.id)).avatar, `${islet.origin}/avatars/original/missing.png`);
    });

    test("a picture on a suspended host is a 404 and never asked for; a suspended account's copies are deleted", async () => {
      const core = islet.islet.core;
      const blocked = await startPictureServer();
      after(() => closeHttpServer(blocked.server));
      blocked.files.set("/carol.png", { contentType: "image/png", body: await picture("png", 50, 50) });
      await blockDomain(core, blocked.host, { severity: "suspend" });
      const carol = await insertRemoteAccount(core, "carol", { avatarUrl: `${blocked.origin}/carol.png` });
      // A picture stored after carol's is cached: the queue has moved on.
      const sentinel = await insertRemoteAccount(core, "dave", { avatarUrl: serve("/dave.png", "image/png", await picture("png", 40, 40)) });
      await cachedAvatar(sentinel.id);
      await settled();
      assert.equal((await rowOf(carol.id)).avatarFileKey, null);
      const json = await accountJson(carol.id);
      assert.equal(json.avatar, `${islet.origin}/media_proxy/avatars/${carol.id}/original`);
      assert.deepEqual(await viaProxy(json.avatar), { status: 404, location: null });
      assert.equal(blocked.gets.size, 0, "the suspended host was never asked");

      // Suspending dave's own domain deletes dave and his cached avatar.
      const dave = await rowOf(sentinel.id);
      assert.ok(onDisk(dave.avatarFileKey));
      await blockDomain(core, "remote.example", { severity: "suspend" });
      assert.ok(!onDisk(dave.avatarFileKey), "the suspended account's avatar is deleted");
      const daveGets = asked("/dave.png");
      assert.deepEqual(await viaProxy(`${islet.origin}/media_proxy/avatars/${dave.id}/original`), { status: 404, location: null });
      assert.equal(asked("/dave.png"), daveGets);
      // Unknown ids and kinds.
      assert.equal((await viaProxy(`${islet.origin}/media_proxy/avatars/1/original`)).status, 404);
      assert.equal((await viaProxy(`${islet.origin}/media_proxy/avatars/${islet.owner!.account.id}/original`)).status, 404, "not a remote account");
      assert.equal((await viaProxy(`${islet.origin}/media_proxy/avatars/99999999999999999999/original`)).status, 404);
      assert.equal((await viaProxy(`${islet.origin}/media_proxy/headers/${carol.id}/small`)).status, 404);
    });
  });
}
