/**
 * src/core/timelines.ts, filters.ts and conversations.ts on a real database:
 * who appears in home, public, hashtag, list and direct timelines; paging;
 * filters applied to pages; conversations kept by events; saved statuses;
 * and the home query's plan and speed on 100,000 statuses.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import {
  forgetDirectStatus,
  listConversations,
  recordDirectStatus,
  registerConversations,
} from "../../src/core/conversations.ts";
import { applyFilters, createFilter, filterResults, htmlToPlainText, keywordRegExp } from "../../src/core/filters.ts";
import { serializeFilterResult } from "../../src/api/entities/filter.ts";
import { newId } from "../../src/core/ids.ts";
import {
  directTimeline,
  homeTimeline,
  homeTimelineQuery,
  listTimeline,
  loadFilteredPage,
  publicTimeline,
  savedStatuses,
  tagTimeline,
  type StatusRow,
} from "../../src/core/timelines.ts";
import {
  accountConversations,
  blocks,
  bookmarks,
  favourites,
  filters,
  follows,
  listAccounts,
  lists,
  mutes,
  statuses,
  statusTags,
  tagFollows,
  tags,
  userDomainBlocks,
} from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus } from "../helpers/statuses.ts";

interface PostOptions {
  visibility?: StatusRow["visibility"];
  content?: string;
  spoilerText?: string;
  reblogOf?: StatusRow;
  inReplyTo?: StatusRow;
  mentions?: readonly Account[];
  tags?: readonly string[];
  media?: boolean;
}

/** Builds accounts, follows and statuses straight in the database. */
function fixtures(core: CoreContext) {
  const tagIds = new Map<string, bigint>();
  return {
    async remote(username: string, domain = "remote.example"): Promise<Account> {
      return await insertRemoteAccount(core, username, { domain, inboxUrl: `https://${domain}/users/${username}/inbox` });
    },
    async follow(from: Account, to: Account, extra: { showReblogs?: boolean; state?: "pending" | "accepted" } = {}): Promise<void> {
      await core.db.insert(follows).values({ id: newId(), accountId: from.id, targetAccountId: to.id, state: extra.state ?? "accepted", showReblogs: extra.showReblogs ?? true });
    },
    async tag(name: string): Promise<bigint> {
      let id = tagIds.get(name.toLowerCase());
      if (id == null) {
        id = newId();
        await core.db.insert(tags).values({ id, name: name.toLowerCase(), displayName: name });
        tagIds.set(name.toLowerCase(), id);
      }
      return id;
    },
    async post(account: Account, options: PostOptions = {}): Promise<StatusRow> {
      const row = await insertTestStatus(core, account, {
        ...options,
        conversationId: options.inReplyTo?.conversationId ?? options.reblogOf?.conversationId,
      });
      for (const name of options.tags ?? []) {
        await core.db.insert(statusTags).values({ statusId: row.id, tagId: await this.tag(name) });
      }
      return row;
    },
  };
}

const ids = (rows: readonly { id: bigint }[]) => rows.map((row) => row.id);
const page = (limit = 40) => ({ limit });

for (const kind of databaseKinds()) {
  describe(`core timelines (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let f: ReturnType<typeof fixtures>;

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      f = fixtures(core);
    });
    after(async () => {
      await instance?.close();
    });

    test("home: own statuses, followees' statuses and boosts, mentions; not strangers", async () => {
      const friend = await f.remote("home_friend");
      const stranger = await f.remote("home_stranger");
      const pending = await f.remote("home_pending");
      await f.follow(owner, friend);
      await f.follow(owner, pending, { state: "pending" });
      // Someone following the owner is not someone the owner follows.
      await f.follow(stranger, owner);

      const ownPublic = await f.post(owner);
      const ownDirect = await f.post(owner, { visibility: "direct", mentions: [friend] });
      const friendPublic = await f.post(friend);
      const friendUnlisted = await f.post(friend, { visibility: "unlisted" });
      const friendPrivate = await f.post(friend, { visibility: "private" });
      const friendDirectToOthers = await f.post(friend, { visibility: "direct", mentions: [stranger] });
      const friendDirectToOwner = await f.post(friend, { visibility: "direct", mentions: [owner] });
      const strangerPublic = await f.post(stranger);
      const strangerPrivate = await f.post(stranger, { visibility: "private" });
      const strangerMention = await f.post(stranger, { mentions: [owner] });
      const strangerPrivateMention = await f.post(stranger, { visibility: "private", mentions: [owner] });
      const pendingPublic = await f.post(pending);
      const boost = await f.post(friend, { reblogOf: strangerPublic });

      const home = ids(await homeTimeline(core, owner.id, page()));
      for (const row of [ownPublic, ownDirect, friendPublic, friendUnlisted, friendPrivate, friendDirectToOwner, strangerMention, strangerPrivateMention, boost]) {
        assert.ok(home.includes(row.id), `home has ${row.id}`);
      }
      for (const row of [friendDirectToOthers, strangerPublic, strangerPrivate, pendingPublic]) {
        assert.ok(!home.includes(row.id), `home lacks ${row.id}`);
      }
      const sorted = [...home].sort((a, b) => (a > b ? -1 : 1));
      assert.deepEqual(home, sorted, "newest first");
    });

    test("home: show_reblogs=false hides a followee's boosts, not their posts", async () => {
      const quiet = await f.remote("quiet_booster");
      const other = await f.remote("quiet_other");
      await f.follow(owner, quiet, { showReblogs: false });
      const original = await f.post(other);
      const post = await f.post(quiet);
      const boost = await f.post(quiet, { reblogOf: original });
      const home = ids(await homeTimeline(core, owner.id, page()));
      assert.ok(home.includes(post.id));
      assert.ok(!home.includes(boost.id));
    });

    test("home: mutes (until they expire), blocks both ways and blocked domains hide accounts and boosts of them", async () => {
      const booster = await f.remote("hide_booster");
      const muted = await f.remote("hide_muted");
      const expired = await f.remote("hide_expired");
      const blocked = await f.remote("hide_blocked");
      const blocker = await f.remote("hide_blocker");
      const walled = await f.remote("hide_walled", "walled.example");
      const walledSub = await f.remote("hide_walled_sub", "sub.walled.example");
      for (const account of [booster, muted, expired, blocked, blocker, walled, walledSub]) await f.follow(owner, account);
      await core.db.insert(mutes).values({ id: newId(), accountId: owner.id, targetAccountId: muted.id });
      await core.db.insert(mutes).values({ id: newId(), accountId: owner.id, targetAccountId: expired.id, expiresAt: new Date(Date.now() - 60_000) });
      await core.db.insert(blocks).values({ id: newId(), accountId: owner.id, targetAccountId: blocked.id });
      await core.db.insert(blocks).values({ id: newId(), accountId: blocker.id, targetAccountId: owner.id });
      await core.db.insert(userDomainBlocks).values({ accountId: owner.id, domain: "walled.example" });

      const mutedPost = await f.post(muted);
      const mutedMention = await f.post(muted, { mentions: [owner] });
      const expiredPost = await f.post(expired);
      const blockedPost = await f.post(blocked);
      const blockerPost = await f.post(blocker);
      const walledPost = await f.post(walled);
      const walledSubPost = await f.post(walledSub);
      const boostOfMuted = await f.post(booster, { reblogOf: mutedPost });
      const boostOfBlocked = await f.post(booster, { reblogOf: blockedPost });
      const boostOfWalled = await f.post(booster, { reblogOf: walledPost });
      const boostOfExpired = await f.post(booster, { reblogOf: expiredPost });

      const home = ids(await homeTimeline(core, owner.id, page()));
      for (const row of [mutedPost, mutedMention, blockedPost, blockerPost, walledPost, walledSubPost, boostOfMuted, boostOfBlocked, boostOfWalled]) {
        assert.ok(!home.includes(row.id), `home lacks ${row.id}`);
      }
      assert.ok(home.includes(expiredPost.id), "an expired mute hides nothing");
      assert.ok(home.includes(boostOfExpired.id));
    });

    test("home: members of exclusive lists stay out of home; other lists do not matter", async () => {
      const exclusive = await f.remote("in_exclusive");
      const inclusive = await f.remote("in_inclusive");
      await f.follow(owner, exclusive);
      await f.follow(owner, inclusive);
      const exclusiveList = newId();
      const plainList = newId();
      await core.db.insert(lists).values([
        { id: exclusiveList, accountId: owner.id, title: "only here", exclusive: true },
        { id: plainList, accountId: owner.id, title: "also home" },
      ]);
      await core.db.insert(listAccounts).values([
        { listId: exclusiveList, accountId: exclusive.id },
        { listId: plainList, accountId: inclusive.id },
      ]);
      const hidden = await f.post(exclusive);
      const shown = await f.post(inclusive);
      const home = ids(await homeTimeline(core, owner.id, page()));
      assert.ok(!home.includes(hidden.id));
      assert.ok(home.includes(shown.id));
      assert.ok(ids(await listTimeline(core, owner.id, exclusiveList, page())).includes(hidden.id), "the exclusive list shows it");
    });

    test("home: a followee's replies show only when they answer themselves, the owner or a followee", async () => {
      const talker = await f.remote("reply_talker");
      const followed = await f.remote("reply_followed");
      const unknown = await f.remote("reply_unknown");
      await f.follow(owner, talker);
      await f.follow(owner, followed);
      const ownPost = await f.post(owner);
      const followedPost = await f.post(followed);
      const unknownPost = await f.post(unknown);
      const talkerPost = await f.post(talker);
      const toSelf = await f.post(talker, { inReplyTo: talkerPost });
      const toOwner = await f.post(talker, { inReplyTo: ownPost });
      const toFollowed = await f.post(talker, { inReplyTo: followedPost });
      const toUnknown = await f.post(talker, { inReplyTo: unknownPost });
      const home = ids(await homeTimeline(core, owner.id, page()));
      for (const row of [toSelf, toOwner, toFollowed]) assert.ok(home.includes(row.id), `home has ${row.id}`);
      assert.ok(!home.includes(toUnknown.id));
    });

    test("home: public statuses with a followed hashtag", async () => {
      const poster = await f.remote("tagged_poster");
      const tagId = await f.tag("followedtag");
      await core.db.insert(tagFollows).values({ id: newId(), accountId: owner.id, tagId });
      const tagged = await f.post(poster, { tags: ["followedtag"] });
      const taggedUnlisted = await f.post(poster, { tags: ["followedtag"], visibility: "unlisted" });
      const home = ids(await homeTimeline(core, owner.id, page()));
      assert.ok(home.includes(tagged.id));
      assert.ok(!home.includes(taggedUnlisted.id));
    });

    test("paging: max_id, since_id and min_id", async () => {
      const pager = await f.remote("pager", "pager.example");
      const posts: StatusRow[] = [];
      for (let i = 0; i < 6; i++) posts.push(await f.post(pager));
      const load = (p: { maxId?: bigint; sinceId?: bigint; minId?: bigint; limit: number }) =>
        publicTimeline(core, null, { remote: true }, p).then((rows) => rows.filter((row) => row.accountId === pager.id));
      const newestFirst = [...posts].reverse().map((row) => row.id);
      assert.deepEqual(ids(await load({ maxId: posts[5].id, sinceId: posts[1].id, limit: 40 })), newestFirst.slice(1, 4));
      assert.deepEqual(ids(await load({ sinceId: posts[0].id, limit: 2 })).slice(0, 2), [posts[5].id, posts[4].id], "since_id: the newest");
      assert.deepEqual(ids(await load({ minId: posts[0].id, limit: 2 })), [posts[2].id, posts[1].id], "min_id: just after, newest first");
      assert.deepEqual(ids(await load({ minId: posts[1].id, maxId: posts[5].id, limit: 40 })), [posts[4].id, posts[3].id, posts[2].id]);
      assert.deepEqual(await load({ minId: posts[5].id, limit: 40 }), []);
    });

    test("public: public statuses only, no boosts, no replies to others; local, remote, only_media", async () => {
      const pub = await f.remote("public_poster", "public.example");
      const local = await f.post(owner, { content: "<p>local public</p>" });
      const remote = await f.post(pub);
      const unlisted = await f.post(pub, { visibility: "unlisted" });
      const priv = await f.post(pub, { visibility: "private" });
      const boost = await f.post(pub, { reblogOf: local });
      const reply = await f.post(pub, { inReplyTo: local });
      const thread = await f.post(pub, { inReplyTo: remote });
      const withMedia = await f.post(pub, { media: true });

      const all = ids(await publicTimeline(core, null, {}, page()));
      for (const row of [local, remote, thread, withMedia]) assert.ok(all.includes(row.id), `public has ${row.id}`);
      for (const row of [unlisted, priv, boost, reply]) assert.ok(!all.includes(row.id), `public lacks ${row.id}`);

      const localOnly = await publicTimeline(core, null, { local: true }, page());
      assert.ok(localOnly.length > 0 && localOnly.every((row) => row.accountId === owner.id));
      const remoteOnly = await publicTimeline(core, null, { remote: true }, page());
      assert.ok(remoteOnly.some((row) => row.id === remote.id) && remoteOnly.every((row) => row.accountId !== owner.id));
      assert.deepEqual(ids(await publicTimeline(core, null, { local: true, remote: true }, page())), all, "both mean all");
      assert.deepEqual(ids(await publicTimeline(core, null, { onlyMedia: true }, page())), [withMedia.id]);

      await core.db.insert(blocks).values({ id: newId(), accountId: owner.id, targetAccountId: pub.id });
      const seen = ids(await publicTimeline(core, owner.id, {}, page()));
      assert.ok(!seen.includes(remote.id), "the viewer's blocks apply");
      assert.ok(ids(await publicTimeline(core, null, {}, page())).includes(remote.id), "not for anonymous readers");
    });

    test("hashtag: the tag, any[], all[], none[], case-insensitive; unknown tags are empty", async () => {
      const tagger = await f.remote("tagger", "tags.example");
      const cats = await f.post(tagger, { tags: ["Cats"] });
      const dogs = await f.post(tagger, { tags: ["dogs"] });
      const both = await f.post(tagger, { tags: ["cats", "dogs"] });
      const catsAndBirds = await f.post(tagger, { tags: ["cats", "birds"] });
      const privateCats = await f.post(tagger, { tags: ["cats"], visibility: "private" });

      assert.deepEqual(ids(await tagTimeline(core, null, "CATS", {}, page())), [catsAndBirds.id, both.id, cats.id]);
      assert.deepEqual(ids(await tagTimeline(core, null, "cats", { any: ["dogs"] }, page())), [catsAndBirds.id, both.id, dogs.id, cats.id]);
      assert.deepEqual(ids(await tagTimeline(core, null, "cats", { all: ["dogs"] }, page())), [both.id]);
      assert.deepEqual(ids(await tagTimeline(core, null, "cats", { none: ["dogs", "birds"] }, page())), [cats.id]);
      assert.deepEqual(await tagTimeline(core, null, "cats", { all: ["nosuchtag"] }, page()), []);
      assert.deepEqual(ids(await tagTimeline(core, null, "cats", { any: ["nosuchtag"], none: ["nosuchtag"] }, page())), [catsAndBirds.id, both.id, cats.id]);
      assert.deepEqual(await tagTimeline(core, null, "nosuchtag", {}, page()), []);
      assert.ok(!ids(await tagTimeline(core, null, "cats", {}, page())).includes(privateCats.id));
      assert.deepEqual(ids(await tagTimeline(core, null, "#cats", { local: true }, page())), []);
      assert.deepEqual(ids(await tagTimeline(core, null, "cats", { remote: true, none: ["birds", "dogs"] }, page())), [cats.id]);
    });

    test("list: members' statuses the owner may see; replies by replies_policy; another's list is not found", async () => {
      const member = await f.remote("list_member");
      const follower = await f.remote("list_unfollowed_member");
      const followedOutsider = await f.remote("list_followed_outsider");
      const outsider = await f.remote("list_outsider");
      await f.follow(owner, member);
      await f.follow(owner, followedOutsider);
      const listId = newId();
      await core.db.insert(lists).values({ id: listId, accountId: owner.id, title: "members", repliesPolicy: "list" });
      await core.db.insert(listAccounts).values([{ listId, accountId: member.id }, { listId, accountId: follower.id }]);

      const memberPost = await f.post(member);
      const memberPrivate = await f.post(member, { visibility: "private" });
      const unfollowedPrivate = await f.post(follower, { visibility: "private" });
      const unfollowedPublic = await f.post(follower);
      const outsiderPost = await f.post(outsider);
      const followedOutsiderPost = await f.post(followedOutsider);
      const replyToMember = await f.post(member, { inReplyTo: unfollowedPublic });
      const replyToFollowed = await f.post(member, { inReplyTo: followedOutsiderPost });
      const replyToOutsider = await f.post(member, { inReplyTo: outsiderPost });
      const boost = await f.post(member, { reblogOf: outsiderPost });

      const shown = ids(await listTimeline(core, owner.id, listId, page()));
      for (const row of [memberPost, memberPrivate, unfollowedPublic, replyToMember, boost]) assert.ok(shown.includes(row.id), `list has ${row.id}`);
      for (const row of [unfollowedPrivate, outsiderPost, replyToFollowed, replyToOutsider]) assert.ok(!shown.includes(row.id), `list lacks ${row.id}`);

      await core.db.update(lists).set({ repliesPolicy: "followed" }).where(sql`${lists.id} = ${listId.toString()}::bigint`);
      const followedPolicy = ids(await listTimeline(core, owner.id, listId, page()));
      assert.ok(followedPolicy.includes(replyToFollowed.id));
      assert.ok(!followedPolicy.includes(replyToMember.id), "the member replied to is not followed");
      assert.ok(!followedPolicy.includes(replyToOutsider.id));

      await core.db.update(lists).set({ repliesPolicy: "none" }).where(sql`${lists.id} = ${listId.toString()}::bigint`);
      const none = ids(await listTimeline(core, owner.id, listId, page()));
      for (const row of [replyToMember, replyToFollowed, replyToOutsider]) assert.ok(!none.includes(row.id));
      assert.ok(none.includes(memberPost.id));

      const foreignList = newId();
      await core.db.insert(lists).values({ id: foreignList, accountId: outsider.id, title: "not yours" });
      await assert.rejects(listTimeline(core, owner.id, foreignList, page()), { name: "CoreError", code: "not_found" });
      await assert.rejects(listTimeline(core, owner.id, newId(), page()), { name: "CoreError", code: "not_found" });
    });

    test("direct: direct statuses by or to the owner", async () => {
      const pen = await f.remote("pen_pal");
      const toOwner = await f.post(pen, { visibility: "direct", mentions: [owner] });
      const fromOwner = await f.post(owner, { visibility: "direct", mentions: [pen] });
      const elsewhere = await f.post(pen, { visibility: "direct" });
      const mentionPublic = await f.post(pen, { mentions: [owner] });
      assert.deepEqual(ids(await directTimeline(core, owner.id, { minId: toOwner.id - 1n, limit: 40 })), [fromOwner.id, toOwner.id]);
      assert.ok(!ids(await directTimeline(core, owner.id, page())).includes(elsewhere.id));
      assert.ok(!ids(await directTimeline(core, owner.id, page())).includes(mentionPublic.id));
    });

    test("filters: whole-word keywords on text without HTML; statuses; boosts keyed both ways; contexts; expiry", async () => {
      assert.ok(keywordRegExp("cat", true).test("a Cat!"));
      assert.ok(!keywordRegExp("cat", true).test("concatenate"));
      assert.ok(keywordRegExp("cat", false).test("concatenate"));
      assert.ok(keywordRegExp("#tag", true).test("x#tag"), "a side that is not a word has no boundary");
      assert.ok(!keywordRegExp("été", true).test("étés"));
      assert.equal(htmlToPlainText("<p>a &amp; b<br>c</p><p>d&#39;e</p>"), "a & b\nc\n\nd'e");

      const writer = await f.remote("filter_writer");
      const spoiler = await f.post(writer, { content: "<p>nothing</p>", spoilerText: "Spoilers ahead" });
      const inTag = await f.post(writer, { content: '<p><a href="https://x/tags/spoilers">#<span>spoilers</span></a> not in html attrs</p>' });
      const plain = await f.post(writer, { content: "<p>a quiet day</p>" });
      const chosen = await f.post(writer, { content: "<p>chosen one</p>" });
      const boost = await f.post(writer, { reblogOf: spoiler });
      const boostOfChosen = await f.post(writer, { reblogOf: chosen });

      const warn = await createFilter(core, owner.id, { title: "spoilers", context: ["home", "thread"], filterAction: "warn", keywords: [{ keyword: "spoilers" }] });
      await createFilter(core, owner.id, { title: "by id", context: ["home"], filterAction: "hide", keywords: [] });
      const byId = await core.db.select().from(filters).where(sql`${filters.title} = 'by id'`);
      const { addFilterStatus } = await import("../../src/core/filters.ts");
      await addFilterStatus(core, owner.id, byId[0].id, chosen.id);
      await createFilter(core, owner.id, { title: "gone", context: ["home"], filterAction: "hide", expiresIn: 1, keywords: [{ keyword: "quiet" }] });
      await createFilter(core, owner.id, { title: "html", context: ["home"], filterAction: "hide", keywords: [{ keyword: "href", wholeWord: false }] });
      await new Promise((resolve) => setTimeout(resolve, 1100));

      const rows = [spoiler, inTag, plain, chosen, boost, boostOfChosen];
      const results = await filterResults(core, owner.id, "home", rows);
      assert.deepEqual(results.get(spoiler.id)?.map((r) => [r.filter.id, r.keywordMatches, r.statusMatches]), [[warn.filter.id, ["spoilers"], null]]);
      assert.ok(results.has(inTag.id), "the tag's text matches");
      assert.ok(!results.has(plain.id), "expired filters and HTML attributes match nothing");
      assert.deepEqual(results.get(chosen.id)?.map((r) => [r.filter.title, r.filter.filterAction, r.keywordMatches, r.statusMatches]), [["by id", "hide", null, [chosen.id.toString()]]]);
      assert.ok(results.has(boost.id), "a boost is filtered by what it boosts");
      assert.deepEqual(results.get(boostOfChosen.id)?.[0].statusMatches, [chosen.id.toString()]);
      assert.equal(serializeFilterResult(results.get(spoiler.id)![0]).filter.keywords, undefined, "no keywords inside a FilterResult");

      assert.equal((await filterResults(core, owner.id, "public", rows)).size, 0, "other contexts are not affected");
      assert.equal((await filterResults(core, owner.id, "thread", rows)).get(spoiler.id)?.length, 1);

      const applied = await applyFilters(core, owner.id, "home", rows);
      assert.deepEqual(ids(applied.visible), [spoiler.id, inTag.id, plain.id, boost.id], "hide drops, warn keeps");
      assert.ok(applied.filtered.has(spoiler.id));
      const anonymous = await applyFilters(core, null, "home", rows);
      assert.equal(anonymous.visible.length, rows.length);
      await core.db.delete(filters).where(sql`${filters.accountId} = ${owner.id.toString()}::bigint`);
    });

    test("a page keeps its size when a hide filter takes statuses out", async () => {
      const noisy = await f.remote("noisy", "noisy.example");
      const posts: StatusRow[] = [];
      for (let i = 0; i < 12; i++) posts.push(await f.post(noisy, { content: i % 3 === 0 ? "<p>keep</p>" : "<p>drop this</p>" }));
      await createFilter(core, owner.id, { title: "drop", context: ["public"], filterAction: "hide", keywords: [{ keyword: "drop" }] });
      const load = (p: { maxId?: bigint; minId?: bigint; limit: number }) => publicTimeline(core, owner.id, { remote: true }, p).then((rows) => rows.filter((row) => row.accountId === noisy.id));
      const kept = posts.filter((_, i) => i % 3 === 0).reverse();
      const result = await loadFilteredPage(core, owner.id, "public", { limit: 3 }, (p) => load(p));
      assert.deepEqual(ids(result.rows), ids(kept).slice(0, 3));
      const forward = await loadFilteredPage(core, owner.id, "public", { minId: posts[0].id, limit: 2 }, (p) => load(p));
      assert.deepEqual(ids(forward.rows), [posts[6].id, posts[3].id], "paging forward keeps the ones just after min_id");
      const unfiltered = await loadFilteredPage(core, null, "public", { limit: 3 }, (p) => load(p));
      assert.equal(unfiltered.rows.length, 3);
      assert.equal(unfiltered.rows[0].id, posts[11].id);
      await core.db.delete(filters).where(sql`${filters.accountId} = ${owner.id.toString()}::bigint`);
    });

    test("conversations follow direct statuses through events", async () => {
      const unsubscribe = registerConversations(core);
      try {
        const alice = await f.remote("conv_alice");
        const bob = await f.remote("conv_bob");
        const first = await f.post(alice, { visibility: "direct", mentions: [owner] });
        await core.events.emit("status.created", { statusId: first.id, accountId: alice.id });
        let rows = await listConversations(core, owner.id, page());
        const row = rows.find((r) => r.conversationId === first.conversationId);
        assert.ok(row != null, "a conversation was recorded");
        assert.deepEqual(row.participantIds, [alice.id.toString()]);
        assert.equal(row.unread, true);
        assert.equal(row.lastStatusId, first.id);

        const reply = await f.post(owner, { visibility: "direct", inReplyTo: first, mentions: [alice, bob] });
        await core.events.emit("status.created", { statusId: reply.id, accountId: owner.id });
        rows = await listConversations(core, owner.id, page());
        const updated = rows.find((r) => r.id === row.id);
        assert.ok(updated != null, "the same conversation");
        assert.deepEqual([...updated.participantIds].sort(), [alice.id.toString(), bob.id.toString()].sort());
        assert.equal(updated.unread, false, "the owner's own reply reads it");
        assert.equal(updated.lastStatusId, reply.id);

        const publicPost = await f.post(alice, { mentions: [owner] });
        await core.events.emit("status.created", { statusId: publicPost.id, accountId: alice.id });
        const notToOwner = await f.post(alice, { visibility: "direct", mentions: [bob] });
        await core.events.emit("status.created", { statusId: notToOwner.id, accountId: alice.id });
        assert.equal((await listConversations(core, owner.id, page())).length, rows.length, "nothing for others' or public statuses");

        await core.db.delete(statuses).where(sql`${statuses.id} = ${reply.id.toString()}::bigint`);
        await core.events.emit("status.deleted", { statusId: reply.id, accountId: owner.id, uri: reply.uri, visibility: "direct", reblogOfId: null, mentionedAccountIds: [alice.id, bob.id] });
        const back = (await listConversations(core, owner.id, page())).find((r) => r.id === row.id);
        assert.equal(back?.lastStatusId, first.id, "back to the previous status");
        await core.db.delete(statuses).where(sql`${statuses.id} = ${first.id.toString()}::bigint`);
        await forgetDirectStatus(core, first.id);
        assert.equal((await listConversations(core, owner.id, page())).find((r) => r.id === row.id), undefined, "gone with its last status");

        const again = await f.post(bob, { visibility: "direct", mentions: [owner] });
        assert.equal((await recordDirectStatus(core, again.id)).length, 1);
        await core.db.delete(accountConversations);
      } finally {
        unsubscribe();
      }
    });

    test("bookmarks and favourites: by when they were saved", async () => {
      const writer = await f.remote("saved_writer");
      const a = await f.post(writer);
      const b = await f.post(writer);
      const c = await f.post(writer);
      await core.db.insert(bookmarks).values([{ id: newId(), accountId: owner.id, statusId: b.id }]);
      await core.db.insert(bookmarks).values([{ id: newId(), accountId: owner.id, statusId: a.id }]);
      await core.db.insert(bookmarks).values([{ id: newId(), accountId: owner.id, statusId: c.id }]);
      await core.db.insert(favourites).values([{ id: newId(), accountId: writer.id, statusId: c.id }, { id: newId(), accountId: owner.id, statusId: a.id }]);
      const saved = await savedStatuses(core, owner.id, "bookmarks", page());
      assert.deepEqual(saved.map((s) => s.status.id), [c.id, a.id, b.id]);
      const older = await savedStatuses(core, owner.id, "bookmarks", { maxId: saved[0].cursor, limit: 1 });
      assert.deepEqual(older.map((s) => s.status.id), [a.id]);
      const newer = await savedStatuses(core, owner.id, "bookmarks", { minId: saved[2].cursor, limit: 1 });
      assert.deepEqual(newer.map((s) => s.status.id), [a.id]);
      assert.deepEqual((await savedStatuses(core, owner.id, "favourites", page())).map((s) => s.status.id), [a.id], "only the owner's");
    });
  });

  describe(`home timeline on 100,000 statuses (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let ownerId: bigint;
    const ACCOUNTS = 1000;
    const STATUSES = 100_000;

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      ownerId = instance.owner!.account.id;
      const accountBase = newId(Date.now() - 86_400_000);
      const statusBase = newId(Date.now() - 3_600_000);
      await core.database.query(sql.raw(`
        insert into accounts (id, username, domain, uri, inbox_url)
        select ${accountBase} + g, 'bench' || g, 'bench' || (g % 50) || '.example',
               'https://bench' || (g % 50) || '.example/users/bench' || g, 'https://bench' || (g % 50) || '.example/inbox'
        from generate_series(1, ${ACCOUNTS}) g`));
      await core.database.query(sql.raw(`
        insert into follows (id, account_id, target_account_id, state)
        select ${accountBase} + ${ACCOUNTS} + g, ${ownerId}, ${accountBase} + g, 'accepted' from generate_series(1, ${ACCOUNTS}) g`));
      await core.database.query(sql.raw(`
        insert into statuses (id, account_id, uri, content, visibility, conversation_id)
        select ${statusBase} + g * 16, ${accountBase} + 1 + (g % ${ACCOUNTS}), 'https://bench.example/statuses/' || g,
               '<p>status ' || g || '</p>', (array['public', 'public', 'unlisted', 'private'])[1 + g % 4], ${statusBase} + g * 16
        from generate_series(1, ${STATUSES}) g`));
      await core.database.query(sql`analyze`);
    });
    after(async () => {
      await instance?.close();
    });

    test("a page of 40 walks statuses by id with a LIMIT", async () => {
      const started = performance.now();
      const rows = await homeTimeline(core, ownerId, { limit: 40 });
      const firstMs = performance.now() - started;
      assert.equal(rows.length, 40);
      for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].id > rows[i].id, "newest first");

      const timings: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await homeTimeline(core, ownerId, { limit: 40, maxId: rows[39].id });
        timings.push(performance.now() - t);
      }
      const plan = (await core.database.query<Record<string, string>>(sql`explain (analyze, buffers) ${homeTimelineQuery(core, ownerId, { limit: 40 })}`))
        .map((row) => Object.values(row)[0])
        .join("\n");
      if (process.env.SHOW_PLAN) console.log(`${kind}: first ${firstMs.toFixed(1)} ms, then ${timings.map((t) => t.toFixed(1)).join(", ")} ms\n${plan}`);
      assert.match(plan, /Limit/);
      assert.match(plan, /Index Scan Backward using statuses_pkey/, "walks the primary key newest first");
      assert.doesNotMatch(plan, /Seq Scan on statuses/);
      assert.doesNotMatch(plan, /Sort/, "no sort of the candidates");
    });
  });
}
