/**
 * A client never receives another server's URL for a picture: remote
 * accounts' avatars and headers (cached or not), wherever an account
 * appears in the API (lookup, by id, lists, search, followers, statuses,
 * notifications v1 and grouped, with partial accounts), point at this
 * server's origin. Emoji in any answer likewise. Emoji reactions are not
 * shown by the API, so they appear nowhere here.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import { receiveFollow } from "../../src/core/follows.ts";
import { receiveStatus } from "../../src/core/remote-statuses.ts";
import { picture } from "../media/fixtures.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { closeHttpServer } from "../helpers/http-server.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

const IMAGE_KEYS = new Set(["avatar", "avatar_static", "header", "header_static"]);

/** Every picture URL in a JSON answer: account pictures, and emoji images. */
function pictureUrls(value: unknown, found: string[] = [], inEmojis = false): string[] {
  if (Array.isArray(value)) {
    for (const item of value) pictureUrls(item, found, inEmojis);
  } else if (value != null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if ((IMAGE_KEYS.has(key) || (inEmojis && (key === "url" || key === "static_url"))) && typeof item === "string") found.push(item);
      else pictureUrls(item, found, key === "emojis" || (inEmojis && typeof item === "object"));
    }
  }
  return found;
}

for (const kind of databaseKinds()) {
  describe(`remote accounts' pictures in the API (${kind})`, () => {
    let islet: TestInstance;
    let token: string;
    let server: Server;
    let elsewhere: string;
    let alice: Account;
    let bob: Account;
    let carol: Account;
    let statusId: string;

    before(async () => {
      const png = await picture("png", 60, 60, "#c60");
      // The remote accounts' pictures: alice's exist, bob's are 404.
      server = createServer((req, res) => {
        if (req.url?.startsWith("/alice/")) res.writeHead(200, { "Content-Type": "image/png" }).end(png);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      elsewhere = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      islet = await startInstance(kind);
      token = await ownerToken(islet);
      const core = islet.islet.core;
      alice = await insertRemoteAccount(core, "alice", { avatarUrl: `${elsewhere}/alice/avatar.png`, headerUrl: `${elsewhere}/alice/header.png` });
      bob = await insertRemoteAccount(core, "bob", { domain: "elsewhere.example", avatarUrl: `${elsewhere}/bob/avatar.png`, headerUrl: `${elsewhere}/bob/header.png` });
      carol = await insertRemoteAccount(core, "carol");
      const owner = islet.owner!.account;
      for (const follower of [alice, bob, carol]) await receiveFollow(core, follower, owner, `${follower.uri}/follows/1`);
      const status = await receiveStatus(core, bob, {
        uri: `${bob.uri}/statuses/1`,
        url: null,
        content: "<p>@owner hello</p>",
        spoilerText: "",
        sensitive: false,
        visibility: "public",
        language: "en",
        inReplyToUri: null,
        tagNames: [],
        attachments: [],
        poll: null,
        published: new Date(),
        updated: null,
      }, [owner]);
      statusId = status.id.toString();
      // Alice's pictures get cached; bob's stay uncached.
      await eventually(async () => {
        const response = await api(islet, "GET", `/api/v1/accounts/${alice.id}`, { token });
        return response.body.avatar.includes("/system/") && response.body.header.includes("/system/");
      }, "alice's pictures to be cached");
    });
    after(async () => {
      await islet?.close();
      if (server != null) await closeHttpServer(server);
    });

    /** GETs `path` and checks that every picture in the answer is on this server; returns them. */
    async function picturesOf(path: string): Promise<string[]> {
      const response = await api(islet, "GET", path, { token });
      assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
      const urls = pictureUrls(response.body);
      for (const url of urls) {
        assert.ok(url.startsWith(`${islet.origin}/`), `${path} gives a picture at ${url}`);
        assert.ok(!url.includes(elsewhere), `${path} names the remote server in ${url}`);
      }
      return urls;
    }

    test("an account by id: a cached picture from /system/, an uncached one through the media proxy, none as the placeholder", async () => {
      const a = await api(islet, "GET", `/api/v1/accounts/${alice.id}`, { token });
      assert.match(a.body.avatar, new RegExp(`^${islet.origin}/system/cache/accounts/avatars/`));
      assert.match(a.body.header_static, new RegExp(`^${islet.origin}/system/cache/accounts/headers/`));
      const b = await api(islet, "GET", `/api/v1/accounts/${bob.id}`, { token });
      assert.equal(b.body.avatar, `${islet.origin}/media_proxy/avatars/${bob.id}/original`);
      assert.equal(b.body.avatar_static, `${islet.origin}/media_proxy/avatars/${bob.id}/static`);
      assert.equal(b.body.header, `${islet.origin}/media_proxy/headers/${bob.id}/original`);
      assert.equal(b.body.header_static, `${islet.origin}/media_proxy/headers/${bob.id}/static`);
      const c = await api(islet, "GET", `/api/v1/accounts/${carol.id}`, { token });
      assert.equal(c.body.avatar, `${islet.origin}/avatars/original/missing.png`);
      assert.equal(c.body.header, `${islet.origin}/headers/original/missing.png`);
      for (const id of [alice.id, bob.id, carol.id]) assert.equal((await picturesOf(`/api/v1/accounts/${id}`)).length, 4);
    });

    test("lookup, lists, search and followers", async () => {
      assert.equal((await picturesOf("/api/v1/accounts/lookup?acct=alice@remote.example")).length, 4);
      assert.equal((await picturesOf("/api/v1/accounts/lookup?acct=bob@elsewhere.example")).length, 4);
      assert.equal((await picturesOf(`/api/v1/accounts?id[]=${alice.id}&id[]=${bob.id}&id[]=${carol.id}`)).length, 12);
      assert.ok((await picturesOf("/api/v1/accounts/search?q=bob")).length >= 4);
      assert.ok((await picturesOf("/api/v2/search?q=alice&type=accounts")).length >= 4);
      assert.ok((await picturesOf(`/api/v1/accounts/relationships?id[]=${bob.id}`)).length === 0);
      assert.equal((await picturesOf(`/api/v1/accounts/${islet.owner!.account.id}/followers`)).length, 12);
    });

    test("statuses by a remote author, and the timelines they are in", async () => {
      assert.ok((await picturesOf(`/api/v1/statuses/${statusId}`)).length >= 4);
      assert.ok((await picturesOf(`/api/v1/accounts/${bob.id}/statuses`)).length >= 4);
      assert.ok((await picturesOf("/api/v1/timelines/public")).length >= 4);
      await picturesOf(`/api/v1/statuses/${statusId}/context`);
    });

    test("notifications, v1 and grouped with partial accounts", async () => {
      const v1 = await picturesOf("/api/v1/notifications");
      assert.ok(v1.length >= 16, `${v1.length} pictures`);
      const grouped = await api(islet, "GET", "/api/v2/notifications?expand_accounts=partial_avatars", { token });
      assert.equal(grouped.status, 200);
      assert.ok((grouped.body.partial_accounts ?? []).length > 0, "some accounts are partial");
      await picturesOf("/api/v2/notifications?expand_accounts=partial_avatars");
      await picturesOf("/api/v2/notifications");
      const partial = (grouped.body.partial_accounts as { id: string; avatar: string; avatar_static: string }[]).find((a) => a.id === bob.id.toString());
      if (partial != null) assert.equal(partial.avatar_static, `${islet.origin}/media_proxy/avatars/${bob.id}/static`);
    });
  });
}
