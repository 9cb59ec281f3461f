/**
 * GET /api/v1/timelines/{home,public,tag/:hashtag,list/:list_id,direct} as
 * clients call them: scopes, composition, paging and Link headers, filters
 * applied to home, bad input, and Status lists checked against the Mastodon
 * OpenAPI description.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import {
  blocks,
  follows,
  listAccounts,
  lists,
  mutes,
  statuses,
  statusTags,
  tags,
} from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { insertTestStatus } from "../helpers/statuses.ts";

type StatusRow = typeof statuses.$inferSelect;
const skipContract = !openApiSchema() && "../shared/mastodon-openapi absent";

function fixtures(core: CoreContext) {
  const tagIds = new Map<string, bigint>();
  return {
    async remote(username: string, domain = "remote.example"): Promise<Account> {
      return await insertRemoteAccount(core, username, { domain, inboxUrl: `https://${domain}/users/${username}/inbox` });
    },
    async follow(from: Account, to: Account, showReblogs = true): Promise<void> {
      await core.db.insert(follows).values({ id: newId(), accountId: from.id, targetAccountId: to.id, state: "accepted", showReblogs });
    },
    async post(
      account: Account,
      options: { visibility?: StatusRow["visibility"]; content?: string; reblogOf?: StatusRow; mentions?: Account[]; tags?: string[]; media?: boolean } = {},
    ): Promise<StatusRow> {
      const row = await insertTestStatus(core, account, {
        ...options,
        url: account.domain == null ? undefined : (id) => `${account.uri}/statuses/${id}`,
      });
      for (const name of options.tags ?? []) {
        let tagId = tagIds.get(name);
        if (tagId == null) {
          tagId = newId();
          await core.db.insert(tags).values({ id: tagId, name, displayName: name });
          tagIds.set(name, tagId);
        }
        await core.db.insert(statusTags).values({ statusId: row.id, tagId });
      }
      return row;
    },
  };
}

const idsOf = (body: { id: string }[]) => body.map((status) => status.id);

/** The Link header as Mastodon writes it. */
function link(origin: string, path: string, next: string | null, prev: string | null, extra = ""): string {
  const parts: string[] = [];
  if (next != null) parts.push(`<${origin}${path}?${extra}max_id=${next}>; rel="next"`);
  if (prev != null) parts.push(`<${origin}${path}?${extra}min_id=${prev}>; rel="prev"`);
  return parts.join(", ");
}

for (const kind of databaseKinds()) {
  describe(`timelines API (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let token: string;
    let f: ReturnType<typeof fixtures>;

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      token = await ownerToken(instance);
      f = fixtures(core);
    });
    after(async () => {
      await instance?.close();
    });

    test("home needs a user token with read:statuses; an empty home is [] without a Link header", async () => {
      assert.equal((await api(instance, "GET", "/api/v1/timelines/home")).status, 401);
      assert.equal((await api(instance, "GET", "/api/v1/timelines/home", { token: "not-a-token" })).status, 401);
      const writeOnly = await api(instance, "GET", "/api/v1/timelines/home", { token: await ownerToken(instance, "write") });
      assert.equal(writeOnly.status, 403);
      assert.deepEqual(writeOnly.body, { error: "This action is outside the authorized scopes" });
      const granular = await api(instance, "GET", "/api/v1/timelines/home", { token: await ownerToken(instance, "read:statuses") });
      assert.equal(granular.status, 200);
      assert.deepEqual(granular.body, []);
      assert.equal(granular.headers.get("link"), null);
    });

    test("home: own, followees' statuses and boosts, mentions; strangers, muted and blocked accounts are left out", async () => {
      const friend = await f.remote("api_friend");
      const quiet = await f.remote("api_quiet");
      const stranger = await f.remote("api_stranger");
      const muted = await f.remote("api_muted");
      const blocked = await f.remote("api_blocked");
      await f.follow(owner, friend);
      await f.follow(owner, quiet, false);
      await f.follow(owner, muted);
      await f.follow(owner, blocked);
      await core.db.insert(mutes).values({ id: newId(), accountId: owner.id, targetAccountId: muted.id });
      await core.db.insert(blocks).values({ id: newId(), accountId: owner.id, targetAccountId: blocked.id });

      const own = await f.post(owner, { visibility: "private" });
      const friendPost = await f.post(friend, { visibility: "private" });
      const strangerPost = await f.post(stranger);
      const boost = await f.post(friend, { reblogOf: strangerPost });
      const quietBoost = await f.post(quiet, { reblogOf: strangerPost });
      const mention = await f.post(stranger, { visibility: "direct", mentions: [owner] });
      const mutedPost = await f.post(muted);
      const blockedPost = await f.post(blocked);

      const response = await api(instance, "GET", "/api/v1/timelines/home", { token });
      assert.equal(response.status, 200);
      assert.deepEqual(idsOf(response.body), [mention, boost, friendPost, own].map((row) => row.id.toString()));
      const boosted = response.body[1];
      assert.equal(boosted.reblog?.id, strangerPost.id.toString(), "a boost carries what it boosts");
      assert.equal(boosted.account.id, friend.id.toString());
      for (const row of [strangerPost, quietBoost, mutedPost, blockedPost]) assert.ok(!idsOf(response.body).includes(row.id.toString()));
    });

    test("Status lists match the Mastodon Status schema", { skip: skipContract }, async () => {
      const poster = await f.remote("schema_poster");
      await f.follow(owner, poster);
      const original = await f.post(poster, { content: "<p>with #media</p>", tags: ["media"], media: true, mentions: [owner] });
      await f.post(poster, { reblogOf: original });
      for (const path of ["/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/media", "/api/v1/timelines/direct"]) {
        const response = await api(instance, "GET", path, { token });
        assert.equal(response.status, 200, path);
        assert.ok(Array.isArray(response.body), path);
        for (const status of response.body) assertMatchesSchema("Status", status);
      }
    });

    test("Link headers carry only the route's own parameters, within bounds", async () => {
      const poster = await f.remote("api_linked", "linked.example");
      await f.follow(owner, poster);
      const [older, newer] = [await f.post(poster, { media: true }), await f.post(poster, { media: true })];
      const huge = "x".repeat(10_000);
      const many = Array.from({ length: 60 }, (_, i) => `none[]=t${i}`).join("&");
      const response = await api(instance, "GET", `/api/v1/timelines/public?limit=2&only_media=true&q=${huge}&access_token=${token}&any[]=${"y".repeat(300)}&${many}`, { token });
      assert.equal(response.status, 200);
      const header = response.headers.get("link") ?? "";
      assert.ok(header.length < 2_000, `a Link header of ${header.length} characters`);
      const next = new URL(/<([^>]+)>; rel="next"/.exec(header)![1]);
      assert.equal(next.searchParams.get("only_media"), "true");
      assert.equal(next.searchParams.get("limit"), "2");
      assert.equal(next.searchParams.get("max_id"), older.id.toString());
      assert.equal(next.searchParams.get("q"), null, "an unknown parameter is left out");
      assert.equal(next.searchParams.get("access_token"), null, "the token never is in a link");
      assert.deepEqual(next.searchParams.getAll("any[]"), [], "an over-long value is left out");
      assert.equal(next.searchParams.getAll("none[]").length, 50, "array parameters are bounded");
      assert.ok(header.includes(`min_id=${newer.id}`));
    });

    test("paging: limit is clamped to 1..40; max_id, since_id, min_id; Link next and prev", async () => {
      const pager = await f.remote("api_pager", "pager.example");
      await f.follow(owner, pager);
      const posts: StatusRow[] = [];
      for (let i = 0; i < 45; i++) posts.push(await f.post(pager));
      const newest = [...posts].reverse().map((row) => row.id.toString());

      const first = await api(instance, "GET", "/api/v1/timelines/home?limit=2", { token });
      assert.deepEqual(idsOf(first.body), newest.slice(0, 2));
      assert.equal(first.headers.get("link"), link(instance.origin, "/api/v1/timelines/home", newest[1], newest[0], "limit=2&"));

      const next = await api(instance, "GET", `/api/v1/timelines/home?limit=2&max_id=${newest[1]}`, { token });
      assert.deepEqual(idsOf(next.body), newest.slice(2, 4));
      const prev = await api(instance, "GET", `/api/v1/timelines/home?limit=2&min_id=${newest[4]}`, { token });
      assert.deepEqual(idsOf(prev.body), newest.slice(2, 4), "min_id: the ones just after it, newest first");
      const since = await api(instance, "GET", `/api/v1/timelines/home?limit=2&since_id=${newest[4]}`, { token });
      assert.deepEqual(idsOf(since.body), newest.slice(0, 2), "since_id: the newest ones");
      const between = await api(instance, "GET", `/api/v1/timelines/home?max_id=${newest[1]}&min_id=${newest[5]}`, { token });
      assert.deepEqual(idsOf(between.body), newest.slice(2, 5));
      const beyond = await api(instance, "GET", `/api/v1/timelines/home?min_id=${newest[0]}`, { token });
      assert.deepEqual(beyond.body, []);
      assert.equal(beyond.headers.get("link"), null);

      assert.equal((await api(instance, "GET", "/api/v1/timelines/home?limit=0", { token })).body.length, 1);
      assert.equal((await api(instance, "GET", "/api/v1/timelines/home?limit=-5", { token })).body.length, 1);
      assert.equal((await api(instance, "GET", "/api/v1/timelines/home?limit=100", { token })).body.length, 40);
      assert.equal((await api(instance, "GET", "/api/v1/timelines/home", { token })).body.length, 20);
      const bad = await api(instance, "GET", "/api/v1/timelines/home?limit=many", { token });
      assert.equal(bad.status, 422);
      assert.equal(typeof bad.body.error, "string");
      const junkCursor = await api(instance, "GET", "/api/v1/timelines/home?max_id=junk&limit=1", { token });
      assert.equal(junkCursor.status, 200, "an unreadable cursor is ignored");
      assert.deepEqual(idsOf(junkCursor.body), newest.slice(0, 1));
    });

    test("public: anonymous or not; local, remote, only_media; unlisted and private never", async () => {
      const poster = await f.remote("public_api", "public-api.example");
      const local = await f.post(owner, { content: "<p>hello from here</p>" });
      const remote = await f.post(poster);
      const media = await f.post(poster, { media: true });
      const unlisted = await f.post(poster, { visibility: "unlisted" });

      const anonymous = await api(instance, "GET", "/api/v1/timelines/public?limit=40");
      assert.equal(anonymous.status, 200);
      const all = idsOf(anonymous.body);
      for (const row of [local, remote, media]) assert.ok(all.includes(row.id.toString()));
      assert.ok(!all.includes(unlisted.id.toString()));
      assert.ok(anonymous.body.every((status: { visibility: string }) => status.visibility === "public"));

      const localOnly = await api(instance, "GET", "/api/v1/timelines/public?local=true&limit=40");
      assert.ok(localOnly.body.length > 0 && localOnly.body.every((status: { account: { id: string } }) => status.account.id === owner.id.toString()));
      const remoteOnly = await api(instance, "GET", "/api/v1/timelines/public?remote=1&limit=40", { token });
      assert.ok(idsOf(remoteOnly.body).includes(remote.id.toString()));
      assert.ok(remoteOnly.body.every((status: { account: { id: string } }) => status.account.id !== owner.id.toString()));
      const onlyMedia = await api(instance, "GET", "/api/v1/timelines/public?only_media=true");
      const mediaIds = idsOf(onlyMedia.body);
      assert.equal(mediaIds[0], media.id.toString());
      assert.ok(!mediaIds.includes(remote.id.toString()));
      assert.ok(onlyMedia.body.every((status: { media_attachments: unknown[] }) => status.media_attachments.length > 0));
      assert.equal(
        onlyMedia.headers.get("link"),
        link(instance.origin, "/api/v1/timelines/public", mediaIds[mediaIds.length - 1], mediaIds[0], "only_media=true&"),
      );
      assert.equal((await api(instance, "GET", "/api/v1/timelines/public?local=perhaps")).status, 422);
      // The timeline is public, but a token presented must carry read:statuses, as on Mastodon.
      assert.equal((await api(instance, "GET", "/api/v1/timelines/public", { token: await ownerToken(instance, "write") })).status, 403);
    });

    test("hashtag: any[], all[], none[], local; an unknown tag is an empty list", async () => {
      const tagger = await f.remote("api_tagger", "tagger.example");
      const cats = await f.post(tagger, { tags: ["apicats"] });
      const both = await f.post(tagger, { tags: ["apicats", "apidogs"] });
      const dogs = await f.post(tagger, { tags: ["apidogs"] });
      const get = async (query: string) => {
        const response = await api(instance, "GET", `/api/v1/timelines/tag/${query}`);
        assert.equal(response.status, 200, query);
        return idsOf(response.body);
      };
      assert.deepEqual(await get("apicats"), [both, cats].map((row) => row.id.toString()));
      assert.deepEqual(await get("APICats"), [both, cats].map((row) => row.id.toString()));
      assert.deepEqual(await get("apicats?any[]=apidogs"), [dogs, both, cats].map((row) => row.id.toString()));
      assert.deepEqual(await get("apicats?all[]=apidogs"), [both.id.toString()]);
      assert.deepEqual(await get("apicats?none[]=apidogs"), [cats.id.toString()]);
      assert.deepEqual(await get("apicats?local=true"), []);
      assert.deepEqual(await get("nosuchtagatall"), []);
      assert.deepEqual(await get(encodeURIComponent("été")), []);
    });

    test("list: read:lists; statuses of its members; 404 for unknown or malformed ids", async () => {
      const member = await f.remote("api_list_member");
      const other = await f.remote("api_list_other");
      await f.follow(owner, member);
      await f.follow(owner, other);
      const listId = newId();
      await core.db.insert(lists).values({ id: listId, accountId: owner.id, title: "friends" });
      await core.db.insert(listAccounts).values({ listId, accountId: member.id });
      const inList = await f.post(member, { visibility: "private" });
      const notInList = await f.post(other);

      const response = await api(instance, "GET", `/api/v1/timelines/list/${listId}`, { token });
      assert.equal(response.status, 200);
      assert.deepEqual(idsOf(response.body), [inList.id.toString()]);
      assert.ok(!idsOf(response.body).includes(notInList.id.toString()));
      assert.equal(response.headers.get("link"), link(instance.origin, `/api/v1/timelines/list/${listId}`, inList.id.toString(), inList.id.toString()));

      assert.equal((await api(instance, "GET", `/api/v1/timelines/list/${listId}`, { token: await ownerToken(instance, "read:statuses") })).status, 403);
      assert.equal((await api(instance, "GET", `/api/v1/timelines/list/${listId}`, { token: await ownerToken(instance, "read:lists") })).status, 200);
      assert.equal((await api(instance, "GET", `/api/v1/timelines/list/${listId}`)).status, 401);
      const unknown = await api(instance, "GET", `/api/v1/timelines/list/${newId()}`, { token });
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, { error: "Record not found" });
      assert.equal((await api(instance, "GET", "/api/v1/timelines/list/not-an-id", { token })).status, 404);
    });

    test("direct: the old direct timeline lists direct statuses by or to the owner", async () => {
      const pal = await f.remote("api_pal");
      const toOwner = await f.post(pal, { visibility: "direct", mentions: [owner] });
      const toOthers = await f.post(pal, { visibility: "direct" });
      const response = await api(instance, "GET", "/api/v1/timelines/direct", { token });
      assert.equal(response.status, 200);
      assert.ok(idsOf(response.body).includes(toOwner.id.toString()));
      assert.ok(!idsOf(response.body).includes(toOthers.id.toString()));
      assert.ok(response.body.every((status: { visibility: string }) => status.visibility === "direct"));
      assert.equal((await api(instance, "GET", "/api/v1/timelines/direct")).status, 401);
    });

    test("filters in home: warn sets `filtered`, hide removes, expired filters do nothing", async () => {
      const chatter = await f.remote("api_chatter");
      await f.follow(owner, chatter);
      const warned = await f.post(chatter, { content: "<p>Big <b>Spoiler</b> here</p>" });
      const hidden = await f.post(chatter, { content: "<p>boring sportsball</p>" });
      const old = await f.post(chatter, { content: "<p>yesterday's news</p>" });
      const boostOfWarned = await f.post(chatter, { reblogOf: warned });
      const plain = await f.post(chatter, { content: "<p>nothing to see</p>" });

      const warn = await api(instance, "POST", "/api/v2/filters", {
        token,
        body: { title: "spoilers", context: ["home"], filter_action: "warn", keywords_attributes: [{ keyword: "spoiler", whole_word: true }] },
      });
      assert.equal(warn.status, 200);
      const hide = await api(instance, "POST", "/api/v2/filters", {
        token,
        body: { title: "sports", context: ["home", "public"], filter_action: "hide", keywords_attributes: [{ keyword: "sportsball" }] },
      });
      assert.equal(hide.status, 200);
      const expiring = await api(instance, "POST", "/api/v2/filters", {
        token,
        body: { title: "news", context: ["home"], filter_action: "hide", expires_in: 1, keywords_attributes: [{ keyword: "news" }] },
      });
      assert.equal(expiring.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 1100));

      const response = await api(instance, "GET", "/api/v1/timelines/home?limit=40", { token });
      const byId = new Map<string, Record<string, any>>(response.body.map((status: Record<string, any>) => [status.id, status]));
      assert.ok(!byId.has(hidden.id.toString()), "hide removes");
      assert.ok(byId.has(old.id.toString()), "an expired filter hides nothing");
      const filtered = byId.get(warned.id.toString())?.filtered;
      assert.equal(filtered?.length, 1);
      assert.equal(filtered[0].filter.id, warn.body.id);
      assert.equal(filtered[0].filter.filter_action, "warn");
      assert.deepEqual(filtered[0].keyword_matches, ["spoiler"]);
      assert.deepEqual(byId.get(plain.id.toString())?.filtered, []);
      const boost = byId.get(boostOfWarned.id.toString());
      assert.ok(boost != null);
      assert.equal(boost.reblog?.filtered?.length, 1, "the boosted status carries the result");
      if (openApiSchema()) for (const status of response.body) assertMatchesSchema("Status", status);

      // The public timeline uses the public context: the warn filter is for home only.
      const publicTimeline = await api(instance, "GET", "/api/v1/timelines/public?limit=40", { token });
      const publicIds = idsOf(publicTimeline.body);
      assert.ok(!publicIds.includes(hidden.id.toString()));
      const publicWarned = publicTimeline.body.find((status: { id: string }) => status.id === warned.id.toString());
      assert.deepEqual(publicWarned?.filtered, []);
      // Anonymous readers are not filtered.
      assert.ok(idsOf((await api(instance, "GET", "/api/v1/timelines/public?limit=40")).body).includes(hidden.id.toString()));

      for (const created of [warn, hide, expiring]) await api(instance, "DELETE", `/api/v2/filters/${created.body.id}`, { token });
      const after = await api(instance, "GET", "/api/v1/timelines/home?limit=40", { token });
      assert.ok(idsOf(after.body).includes(hidden.id.toString()), "back once the filter is gone");
    });
  });
}
