/**
 * Notifications made from real core actions (a remote mention, favourite,
 * boost, follow, follow request, a post of an account followed with
 * notify, the edit of a boosted post, a closed poll), the rules that drop
 * some (blocks, mutes, muted conversations, oneself, hide filters), and
 * the API: v1 lists with type filters and paging, one by id, dismiss and
 * clear; v2 groups, a group and its accounts, dismissing a group; unread
 * counts against the notifications marker.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { createFilter, deleteFilter } from "../../src/core/filters.ts";
import { receiveFollow } from "../../src/core/follows.ts";
import { newId } from "../../src/core/ids.ts";
import { favouriteStatus, muteConversation, reblogStatus } from "../../src/core/interactions.ts";
import { registerNotifications } from "../../src/core/notifications.ts";
import { receiveReblog, receiveStatus, receiveStatusUpdate, type RemoteStatusInput } from "../../src/core/remote-statuses.ts";
import { postStatus, type StatusRow } from "../../src/core/statuses.ts";
import { accounts, follows, markers, notifications, pollVotes, polls } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, linkUrl, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { asDescribed } from "../helpers/string-ids.ts";

const skipContract = !openApiSchema() && "../shared/mastodon-openapi absent";

async function remoteAccount(core: CoreContext, username: string): Promise<Account> {
  return await insertRemoteAccount(core, username, {
    // Deliveries to it fail at once (nothing listens on port 9).
    inboxUrl: "http://127.0.0.1:9/inbox",
  });
}

let counter = 0;

function remotePost(author: Account, content: string, extra: Partial<RemoteStatusInput> = {}): RemoteStatusInput {
  counter++;
  return {
    uri: `${author.uri}/statuses/${Date.now()}-${counter}`,
    url: null,
    content: `<p>${content}</p>`,
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
    ...extra,
  };
}

type Json = Record<string, any>;

const types = (list: Json[]) => list.map((n) => n.type);

for (const kind of databaseKinds()) {
  describe(`notifications (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let token: string;
    let mine: StatusRow;
    let people: Account[] = [];

    const clear = () => core.db.delete(notifications).where(eq(notifications.accountId, owner.id));
    const list = async (query = "") => {
      const response = await api(instance, "GET", `/api/v1/notifications${query}`, { token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as Json[];
    };
    const post = async (text: string) => (await postStatus(core, owner, { text })).status!;
    /** Four new remote accounts: a favourite or a follow can happen once per account. */
    let round = 0;
    const crowd = async () => {
      round++;
      return await Promise.all(["ann", "ben", "cid", "dee"].map((name) => remoteAccount(core, `${name}${round}`)));
    };

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      registerNotifications(core);
      registerNotifications(core); // a second call adds nothing
      token = await ownerToken(instance, "read write follow push");
      mine = await post("my first post");
    });
    after(async () => {
      await instance?.close();
    });

    describe("made from core actions", () => {
      beforeEach(clear);

      test("a mention, a favourite, a boost and a follow", async () => {
        const [ann, ben, cid, dee] = await crowd();
        const mine = await post("a post to like");
        const mention = await receiveStatus(core, ann, remotePost(ann, "hello @owner"), [owner]);
        await favouriteStatus(core, ben, mine);
        const boost = await receiveReblog(core, cid, mine, `${cid.uri}/statuses/boost-${Date.now()}`, new Date());
        await receiveFollow(core, dee, owner, `${dee.uri}/follows/1`);
        const body = await list();
        assert.deepEqual(types(body), ["follow", "reblog", "favourite", "mention"]);
        const [follow, reblog, favourite, mentioned] = body;
        assert.equal(follow.account.id, dee.id.toString());
        assert.equal(follow.status, undefined);
        assert.equal(reblog.account.id, cid.id.toString());
        assert.equal(reblog.status.id, mine.id.toString(), "a boost notification shows the owner's post");
        assert.notEqual(boost.id, mine.id);
        assert.equal(favourite.status.id, mine.id.toString());
        assert.equal(mentioned.status.id, mention.id.toString());
        assert.match(favourite.group_key, new RegExp(`^favourite-${mine.id}-\\d+$`));
        assert.match(reblog.group_key, new RegExp(`^reblog-${mine.id}-\\d+$`));
        assert.match(follow.group_key, /^follow-\d+$/);
        assert.equal(mentioned.group_key, `ungrouped-${mentioned.id}`);
        // A repeated Follow of the same follow notifies once.
        await receiveFollow(core, dee, owner, `${dee.uri}/follows/1`);
        assert.equal((await list("?types[]=follow")).length, 1);
      });

      test("notifications match the Notification schema", { skip: skipContract }, async () => {
        const [ann, ben, cid] = await crowd();
        await receiveStatus(core, ann, remotePost(ann, "schema @owner"), [owner]);
        await favouriteStatus(core, ben, mine);
        await receiveFollow(core, cid, owner, `${cid.uri}/follows/schema`);
        const body = await list();
        assert.ok(body.length >= 3);
        for (const notification of body) assertMatchesSchema("Notification", notification);
      });

      test("a follow request on a locked owner, gone once answered", async () => {
        await core.db.update(accounts).set({ locked: true }).where(eq(accounts.id, owner.id));
        try {
          const asker = await remoteAccount(core, "asker");
          const locked = (await core.db.select().from(accounts).where(eq(accounts.id, owner.id)))[0];
          await receiveFollow(core, asker, locked, `${asker.uri}/follows/1`);
          const body = await list();
          assert.deepEqual(types(body), ["follow_request"]);
          assert.equal(body[0].group_key, `ungrouped-${body[0].id}`);
          const authorized = await api(instance, "POST", `/api/v1/follow_requests/${asker.id}/authorize`, { token });
          assert.equal(authorized.status, 200);
          assert.deepEqual(await list(), []);
        } finally {
          await core.db.update(accounts).set({ locked: false }).where(eq(accounts.id, owner.id));
        }
      });

      test("a post of an account followed with notify, but not its replies to others", async () => {
        const [ann, ben] = await crowd();
        await core.db.insert(follows).values({ id: newId(), accountId: owner.id, targetAccountId: ann.id, state: "accepted", notify: true });
        await core.db.insert(follows).values({ id: newId(), accountId: owner.id, targetAccountId: ben.id, state: "accepted", notify: false });
        try {
          const first = await receiveStatus(core, ann, remotePost(ann, "news"), []);
          await receiveStatus(core, ben, remotePost(ben, "news from ben"), []);
          const other = await receiveStatus(core, ben, remotePost(ben, "a thread"), []);
          await receiveStatus(core, ann, remotePost(ann, "reply to ben", { inReplyToUri: other.uri }), []);
          await receiveStatus(core, ann, remotePost(ann, "reply to myself", { inReplyToUri: first.uri }), []);
          const body = await list();
          assert.deepEqual(types(body), ["status", "status"]);
          assert.ok(body.every((n) => n.account.id === ann.id.toString()));
        } finally {
          await core.db.delete(follows).where(eq(follows.accountId, owner.id));
        }
      });

      test("the edit of a post the owner boosted", async () => {
        const [ann] = await crowd();
        const input = remotePost(ann, "original");
        const status = await receiveStatus(core, ann, input, []);
        await receiveStatusUpdate(core, ann, { ...input, content: "<p>not boosted yet</p>", updated: new Date(Date.now() + 1000) }, []);
        assert.deepEqual(await list(), []);
        await reblogStatus(core, owner, status);
        await receiveStatusUpdate(core, ann, { ...input, content: "<p>edited</p>", updated: new Date(Date.now() + 2000) }, []);
        const body = await list();
        assert.deepEqual(types(body), ["update"]);
        assert.equal(body[0].status.id, status.id.toString());
      });

      test("a closed poll of the owner's, and one the owner voted in", async () => {
        const pollStatus = await post("which one?");
        const pollId = newId();
        await core.db.insert(polls).values({ id: pollId, statusId: pollStatus.id, options: ["a", "b"], votesCounts: [0, 0] });
        await core.events.emit("poll.expired", { pollId, statusId: pollStatus.id });
        const body = await list();
        assert.deepEqual(types(body), ["poll"]);
        assert.equal(body[0].account.id, owner.id.toString(), "the owner's own poll comes from the owner");
        // Someone else's poll the owner did not vote in says nothing.
        const [ann] = await crowd();
        const theirs = await receiveStatus(core, ann, remotePost(ann, "vote!"), []);
        const theirPoll = newId();
        await core.db.insert(polls).values({ id: theirPoll, statusId: theirs.id, options: ["x", "y"], votesCounts: [0, 0] });
        await core.events.emit("poll.expired", { pollId: theirPoll, statusId: theirs.id });
        assert.equal((await list()).length, 1);
        // One the owner voted in does.
        const voted = await receiveStatus(core, ann, remotePost(ann, "vote again!"), []);
        const votedPoll = newId();
        await core.db.insert(polls).values({ id: votedPoll, statusId: voted.id, options: ["x", "y"], votesCounts: [1, 0] });
        await core.db.insert(pollVotes).values({ id: newId(), pollId: votedPoll, accountId: owner.id, choice: 0 });
        await core.events.emit("poll.expired", { pollId: votedPoll, statusId: voted.id });
        const after = await list();
        assert.deepEqual(types(after), ["poll", "poll"]);
        assert.equal(after[0].account.id, ann.id.toString());
        assert.equal(after[0].status.id, voted.id.toString());
      });

      test("none about oneself, from blocked or muted accounts, or in muted conversations", async () => {
        const [ann, ben, cid, dee] = await crowd();
        await favouriteStatus(core, owner, mine);
        await api(instance, "POST", `/api/v1/accounts/${ann.id}/block`, { token });
        await api(instance, "POST", `/api/v1/accounts/${ben.id}/mute`, { token });
        await api(instance, "POST", `/api/v1/accounts/${cid.id}/mute`, { token, body: { notifications: false } });
        try {
          await receiveStatus(core, ann, remotePost(ann, "@owner hi"), [owner]);
          await receiveStatus(core, ben, remotePost(ben, "@owner hi"), [owner]);
          await receiveStatus(core, cid, remotePost(cid, "@owner hi"), [owner]);
          assert.deepEqual((await list()).map((n) => n.account.id), [cid.id.toString()], "a mute without notifications lets them through");
          const quiet = await post("quiet thread");
          await muteConversation(core, owner, quiet);
          await favouriteStatus(core, dee, quiet);
          assert.equal((await list()).length, 1);
        } finally {
          await api(instance, "POST", `/api/v1/accounts/${ann.id}/unblock`, { token });
          await api(instance, "POST", `/api/v1/accounts/${ben.id}/unmute`, { token });
          await api(instance, "POST", `/api/v1/accounts/${cid.id}/unmute`, { token });
        }
      });

      test("blocking an account drops its notifications", async () => {
        const pest = await remoteAccount(core, "pest");
        await receiveStatus(core, pest, remotePost(pest, "@owner buy now"), [owner]);
        assert.equal((await list()).length, 1);
        await api(instance, "POST", `/api/v1/accounts/${pest.id}/block`, { token });
        assert.deepEqual(await list(), []);
      });

      test("a hide filter for notifications hides them; a warn filter marks the status", async () => {
        const [ann, ben] = await crowd();
        const hide = await createFilter(core, owner.id, { title: "no spoilers", context: ["notifications"], filterAction: "hide", keywords: [{ keyword: "spoiler" }] });
        const warn = await createFilter(core, owner.id, { title: "careful", context: ["notifications"], filterAction: "warn", keywords: [{ keyword: "politics" }] });
        try {
          await receiveStatus(core, ann, remotePost(ann, "@owner big spoiler ahead"), [owner]);
          await receiveStatus(core, ben, remotePost(ben, "@owner politics again"), [owner]);
          const body = await list();
          assert.deepEqual(body.map((n) => n.account.id), [ben.id.toString()]);
          assert.equal(body[0].status.filtered?.[0]?.filter?.title, "careful");
        } finally {
          await deleteFilter(core, owner.id, hide.filter.id);
          await deleteFilter(core, owner.id, warn.filter.id);
        }
      });
    });

    describe("API v1", () => {
      const made: Json[] = [];

      before(async () => {
        await clear();
        people = await crowd();
        const [ann, ben, cid] = people;
        await receiveStatus(core, ann, remotePost(ann, "one @owner"), [owner]);
        await favouriteStatus(core, ben, mine);
        await receiveStatus(core, cid, remotePost(cid, "two @owner"), [owner]);
        await receiveReblog(core, ann, mine, `${ann.uri}/statuses/boost-v1`, new Date());
        await receiveFollow(core, ben, owner, `${ben.uri}/follows/v1`);
        made.push(...(await list()));
      });

      test("types, exclude_types and account_id narrow the list", async () => {
        assert.deepEqual(types(made), ["follow", "reblog", "mention", "favourite", "mention"]);
        assert.deepEqual(types(await list("?types[]=mention")), ["mention", "mention"]);
        assert.deepEqual(types(await list("?types[]=mention&types[]=follow")), ["follow", "mention", "mention"]);
        assert.deepEqual(types(await list("?exclude_types[]=mention&exclude_types[]=follow")), ["reblog", "favourite"]);
        assert.deepEqual(types(await list(`?account_id=${people[1].id}`)), ["follow", "favourite"]);
        assert.deepEqual(await list("?types[]=no_such_type"), []);
      });

      test("pages with max_id, since_id, min_id and Link", async () => {
        const response = await api(instance, "GET", "/api/v1/notifications?limit=2", { token });
        assert.deepEqual(response.body.map((n: Json) => n.id), made.slice(0, 2).map((n) => n.id));
        const link = response.headers.get("link") ?? "";
        const next = linkUrl(link, "next");
        assert.equal(new URL(next!).searchParams.get("max_id"), made[1].id);
        const second = await api(instance, "GET", `${new URL(next!).pathname}${new URL(next!).search}`, { token });
        assert.deepEqual(second.body.map((n: Json) => n.id), made.slice(2, 4).map((n) => n.id));
        assert.deepEqual((await list(`?min_id=${made[3].id}&limit=2`)).map((n) => n.id), made.slice(1, 3).map((n) => n.id));
        assert.deepEqual((await list(`?since_id=${made[3].id}&limit=2`)).map((n) => n.id), made.slice(0, 2).map((n) => n.id));
        assert.deepEqual(await list(`?max_id=${made[4].id}`), []);
        assert.equal((await list("?limit=1000")).length, 5);
        assert.equal((await api(instance, "GET", "/api/v1/notifications?limit=x", { token })).status, 422);
        assert.equal((await api(instance, "GET", "/api/v1/notifications?account_id=abc", { token })).status, 422);
      });

      test("one notification by id; unknown ids are 404", async () => {
        const one = await api(instance, "GET", `/api/v1/notifications/${made[2].id}`, { token });
        assert.equal(one.status, 200);
        assert.deepEqual(one.body, made[2]);
        assert.equal((await api(instance, "GET", "/api/v1/notifications/1", { token })).status, 404);
      });

      test("scopes: read:notifications to read, write:notifications to dismiss", async () => {
        assert.equal((await api(instance, "GET", "/api/v1/notifications")).status, 401);
        const statusesOnly = await ownerToken(instance, "read:statuses");
        assert.equal((await api(instance, "GET", "/api/v1/notifications", { token: statusesOnly })).status, 403);
        assert.equal((await api(instance, "GET", "/api/v2/notifications", { token: statusesOnly })).status, 403);
        assert.equal((await api(instance, "GET", "/api/v1/notifications/unread_count", { token: statusesOnly })).status, 403);
        const readOnly = await ownerToken(instance, "read");
        assert.equal((await api(instance, "POST", `/api/v1/notifications/${made[0].id}/dismiss`, { token: readOnly })).status, 403);
        assert.equal((await api(instance, "POST", "/api/v1/notifications/clear", { token: readOnly })).status, 403);
        assert.equal((await api(instance, "POST", "/api/v2/notifications/x/dismiss", { token: readOnly })).status, 403);
      });

      test("dismiss one, then clear all", async () => {
        const dismissed = await api(instance, "POST", `/api/v1/notifications/${made[0].id}/dismiss`, { token });
        assert.equal(dismissed.status, 200);
        assert.deepEqual(dismissed.body, {});
        assert.equal((await api(instance, "GET", `/api/v1/notifications/${made[0].id}`, { token })).status, 404);
        assert.equal((await api(instance, "POST", `/api/v1/notifications/${made[0].id}/dismiss`, { token })).status, 404);
        assert.equal((await list()).length, 4);
        const cleared = await api(instance, "POST", "/api/v1/notifications/clear", { token });
        assert.equal(cleared.status, 200);
        assert.deepEqual(await list(), []);
      });
    });

    describe("API v2, grouped", () => {
      let second: StatusRow;

      before(async () => {
        await clear();
        people = await crowd();
        const [ann, ben, cid, dee] = people;
        second = await post("another post");
        await favouriteStatus(core, ann, mine);
        await favouriteStatus(core, ben, mine);
        await receiveStatus(core, dee, remotePost(dee, "between @owner"), [owner]);
        await favouriteStatus(core, cid, mine);
        await favouriteStatus(core, ann, second);
        await receiveReblog(core, ann, mine, `${ann.uri}/statuses/boost-v2a`, new Date());
        await receiveReblog(core, ben, mine, `${ben.uri}/statuses/boost-v2b`, new Date());
        await receiveFollow(core, cid, owner, `${cid.uri}/follows/v2`);
        await receiveFollow(core, dee, owner, `${dee.uri}/follows/v2`);
      });

      const grouped = async (query = "") => {
        const response = await api(instance, "GET", `/api/v2/notifications${query}`, { token });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        return response;
      };

      test("favourites and boosts of one post, and follows, come as groups", async () => {
        const { body } = await grouped();
        const summary = body.notification_groups.map((g: Json) => [g.type, g.notifications_count, g.sample_account_ids.length]);
        assert.deepEqual(summary, [["follow", 2, 2], ["reblog", 2, 2], ["favourite", 1, 1], ["favourite", 3, 3], ["mention", 1, 1]]);
        const [follows, reblogs, favouriteOfSecond, favourites, mention] = body.notification_groups;
        const [ann, ben, cid, dee] = people.map((p) => p.id.toString());
        assert.deepEqual(follows.sample_account_ids, [dee, cid]);
        assert.deepEqual(favourites.sample_account_ids, [cid, ben, ann], "newest first");
        assert.equal(favourites.status_id, mine.id.toString());
        assert.equal(favouriteOfSecond.status_id, second.id.toString());
        assert.equal(reblogs.status_id, mine.id.toString());
        assert.equal(follows.status_id, undefined);
        assert.equal(mention.group_key, `ungrouped-${mention.page_max_id}`);
        assert.ok(BigInt(favourites.page_min_id) < BigInt(favourites.page_max_id));
        assert.deepEqual(new Set(body.accounts.map((a: Json) => a.id)), new Set([ann, ben, cid, dee]));
        assert.deepEqual(new Set(body.statuses.map((s: Json) => s.id)), new Set([mine.id.toString(), second.id.toString(), body.statuses.find((s: Json) => s.content.includes("between")).id]));
      });

      test("most_recent_notification_id is the newest notification's id, as a string", async () => {
        const { body } = await grouped("?types[]=follow");
        const v1 = await list("?types[]=follow");
        assert.equal(body.notification_groups[0].most_recent_notification_id, v1[0].id);
      });

      test("results match the GroupedNotificationsResults schema", { skip: skipContract }, async () => {
        assertMatchesSchema("GroupedNotificationsResults", asDescribed((await grouped()).body));
        assertMatchesSchema("GroupedNotificationsResults", asDescribed((await grouped("?expand_accounts=partial_avatars")).body));
      });

      test("grouped_types limits which types group; types and exclude_types filter", async () => {
        const { body } = await grouped("?grouped_types[]=follow");
        const favourites = body.notification_groups.filter((g: Json) => g.type === "favourite");
        assert.equal(favourites.length, 4);
        assert.ok(favourites.every((g: Json) => g.group_key.startsWith("ungrouped-") && g.notifications_count === 1));
        assert.equal(body.notification_groups.filter((g: Json) => g.type === "follow").length, 1);
        const only = await grouped("?types[]=reblog");
        assert.deepEqual(only.body.notification_groups.map((g: Json) => g.type), ["reblog"]);
        const without = await grouped("?exclude_types[]=favourite&exclude_types[]=reblog");
        assert.deepEqual(without.body.notification_groups.map((g: Json) => g.type), ["follow", "mention"]);
      });

      test("partial_avatars: the newest account of each group in full, the rest partial", async () => {
        const { body } = await grouped("?types[]=favourite&expand_accounts=partial_avatars");
        const full = new Set(body.accounts.map((a: Json) => a.id));
        const partial = body.partial_accounts.map((a: Json) => a.id);
        for (const group of body.notification_groups) assert.ok(full.has(group.sample_account_ids[0]));
        assert.ok(partial.length > 0);
        assert.ok(partial.every((id: string) => !full.has(id)));
        assert.deepEqual(Object.keys(body.partial_accounts[0]).sort(), ["acct", "avatar", "avatar_static", "bot", "id", "locked", "url"]);
        assert.equal((await api(instance, "GET", "/api/v2/notifications?expand_accounts=some", { token })).status, 422);
      });

      test("a limit counts groups; the next page goes on after them", async () => {
        const first = await grouped("?limit=2");
        assert.deepEqual(first.body.notification_groups.map((g: Json) => g.type), ["follow", "reblog"]);
        const next = linkUrl(first.headers.get("link"), "next");
        assert.ok(next != null);
        const second = await grouped(new URL(next).search);
        assert.deepEqual(second.body.notification_groups.map((g: Json) => g.type), ["favourite", "favourite"]);
        const prev = linkUrl(second.headers.get("link"), "prev");
        const back = await grouped(new URL(prev!).search);
        assert.deepEqual(back.body.notification_groups.map((g: Json) => g.type), ["follow", "reblog"]);
      });

      test("one group, its accounts, and dismissing it", async () => {
        const { body } = await grouped("?types[]=favourite");
        const key = body.notification_groups.find((g: Json) => g.notifications_count === 3).group_key;
        const group = await api(instance, "GET", `/api/v2/notifications/${encodeURIComponent(key)}`, { token });
        assert.equal(group.status, 200);
        assert.equal(group.body.notification_groups.length, 1);
        assert.equal(group.body.notification_groups[0].notifications_count, 3);
        if (openApiSchema()) assertMatchesSchema("GroupedNotificationsResults", asDescribed(group.body));
        const members = await api(instance, "GET", `/api/v2/notifications/${encodeURIComponent(key)}/accounts`, { token });
        assert.deepEqual(members.body.map((a: Json) => a.id), [people[2], people[1], people[0]].map((p) => p.id.toString()));
        const mention = (await grouped("?types[]=mention")).body.notification_groups[0].group_key;
        assert.equal((await api(instance, "GET", `/api/v2/notifications/${mention}`, { token })).status, 200);

        const dismissed = await api(instance, "POST", `/api/v2/notifications/${encodeURIComponent(key)}/dismiss`, { token });
        assert.equal(dismissed.status, 200);
        assert.equal((await api(instance, "GET", `/api/v2/notifications/${encodeURIComponent(key)}`, { token })).status, 404);
        assert.equal((await list("?types[]=favourite")).length, 1);
        assert.equal((await api(instance, "POST", `/api/v2/notifications/${mention}/dismiss`, { token })).status, 200);
        assert.equal((await api(instance, "POST", `/api/v2/notifications/${mention}/dismiss`, { token })).status, 404);
        assert.equal((await api(instance, "GET", "/api/v2/notifications/ungrouped-1/accounts", { token })).status, 404);
        assert.equal((await api(instance, "GET", "/api/v2/notifications/nothing-here", { token })).status, 404);
      });
    });

    describe("unread counts and the notifications marker", () => {
      const ids: string[] = [];

      before(async () => {
        await clear();
        people = await crowd();
        const [ann, ben, cid] = people;
        await favouriteStatus(core, ann, mine);
        await favouriteStatus(core, ben, mine);
        await receiveStatus(core, cid, remotePost(cid, "count @owner"), [owner]);
        await favouriteStatus(core, cid, mine);
        ids.push(...(await list()).map((n) => n.id));
      });

      const count = async (path: string) => {
        const response = await api(instance, "GET", path, { token });
        assert.equal(response.status, 200);
        if (openApiSchema()) assertMatchesSchema("CountResponse", response.body);
        return response.body.count as number;
      };

      test("without a marker everything is unread; the marker moves the line", async () => {
        await core.db.delete(markers);
        assert.equal(await count("/api/v1/notifications/unread_count"), 4);
        assert.equal(await count("/api/v2/notifications/unread_count"), 2, "three favourites of one post are one group");
        assert.equal(await count("/api/v1/notifications/unread_count?limit=2"), 2);
        assert.equal(await count("/api/v1/notifications/unread_count?types[]=mention"), 1);
        assert.equal(await count("/api/v1/notifications/unread_count?exclude_types[]=mention"), 3);
        assert.equal(await count(`/api/v1/notifications/unread_count?account_id=${people[2].id}`), 2);
        assert.equal(await count("/api/v2/notifications/unread_count?grouped_types[]=follow"), 4);

        const marked = await api(instance, "POST", "/api/v1/markers", { token, body: { notifications: { last_read_id: ids[2] } } });
        assert.equal(marked.status, 200);
        assert.equal(await count("/api/v1/notifications/unread_count"), 2);
        assert.equal(await count("/api/v2/notifications/unread_count"), 2);
        await api(instance, "POST", "/api/v1/markers", { token, body: { notifications: { last_read_id: ids[0] } } });
        assert.equal(await count("/api/v1/notifications/unread_count"), 0);
        assert.equal(await count("/api/v2/notifications/unread_count"), 0);
        assert.equal((await api(instance, "GET", "/api/v1/notifications/unread_count?limit=x", { token })).status, 422);
      });
    });

    test("the notification policy accepts everything; there are no requests", async () => {
      const policy = await api(instance, "GET", "/api/v2/notifications/policy", { token });
      assert.equal(policy.status, 200);
      assert.equal(policy.body.for_not_following, "accept");
      if (openApiSchema()) assertMatchesSchema("NotificationPolicy", policy.body);
      assert.deepEqual((await api(instance, "GET", "/api/v1/notifications/requests", { token })).body, []);
    });

    test("notification requests: many accepted or dismissed at once; one that does not exist is 404", async () => {
      for (const action of ["accept", "dismiss"]) {
        const many = await api(instance, "POST", `/api/v1/notifications/requests/${action}`, { token, body: { id: ["12345", "67890"] } });
        assert.equal(many.status, 200, JSON.stringify(many.body));
        assert.deepEqual(many.body, {});
        const form = await api(instance, "POST", `/api/v1/notifications/requests/${action}?id[]=1&id[]=2`, { token });
        assert.equal(form.status, 200);
        const bad = await api(instance, "POST", `/api/v1/notifications/requests/${action}`, { token, body: { id: ["not-an-id"] } });
        assert.equal(bad.status, 422);
        assert.equal(typeof bad.body.error, "string");
        const one = await api(instance, "POST", `/api/v1/notifications/requests/12345/${action}`, { token });
        assert.equal(one.status, 404);
      }
      assert.equal((await api(instance, "GET", "/api/v1/notifications/requests/12345", { token })).status, 404);
      const readOnly = await ownerToken(instance, "read");
      assert.equal((await api(instance, "POST", "/api/v1/notifications/requests/accept", { token: readOnly, body: { id: ["1"] } })).status, 403);
    });
  });
}
