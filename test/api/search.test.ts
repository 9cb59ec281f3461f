/**
 * GET /api/v2/search: accounts by handle or name, statuses by text among
 * those the owner may see, hashtags by name; one type at a time with
 * offset and paging; URLs of known accounts and statuses; what an
 * anonymous caller gets; scopes and bad input. (Resolving a remote actor
 * URL through federation is exercised in relationships.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { blocks, follows, statuses, statusTags, tags } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { insertTestStatus } from "../helpers/statuses.ts";

type StatusRow = typeof statuses.$inferSelect;
type Json = Record<string, any>;
const skipContract = !openApiSchema() && "../shared/mastodon-openapi absent";

async function remoteAccount(core: CoreContext, username: string, displayName: string): Promise<Account> {
  return await insertRemoteAccount(core, username, { displayName, inboxUrl: "http://127.0.0.1:9/inbox" });
}

async function insertStatus(
  core: CoreContext,
  account: Account,
  content: string,
  options: { visibility?: StatusRow["visibility"]; reblogOf?: StatusRow; mentions?: Account[]; spoiler?: string } = {},
): Promise<StatusRow> {
  return await insertTestStatus(core, account, {
    ...options,
    content,
    spoilerText: options.spoiler,
    url: (id) => `${account.url}/${id}`,
  });
}

const ids = (list: { id: string }[]) => list.map((item) => item.id);

for (const kind of databaseKinds()) {
  describe(`search API (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let token: string;
    let alice: Account;
    let albert: Account;
    let mallory: Account;
    const posts: Record<string, StatusRow> = {};

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      token = await ownerToken(instance, "read write follow");
      alice = await remoteAccount(core, "alice", "Alice Cooper");
      albert = await remoteAccount(core, "albert", "Bertie");
      mallory = await remoteAccount(core, "mallory", "Mal");
      posts.own = await insertStatus(core, owner, "<p>I love <b>kittens</b></p>", { visibility: "private" });
      posts.alicePublic = await insertStatus(core, alice, "<p>Kittens are great</p>");
      posts.alicePrivate = await insertStatus(core, alice, "<p>secret kittens</p>", { visibility: "private" });
      posts.aliceDirect = await insertStatus(core, alice, "<p>kittens for you</p>", { visibility: "direct", mentions: [owner] });
      posts.aliceBoost = await insertStatus(core, alice, "", { reblogOf: posts.alicePublic });
      posts.albertWarning = await insertStatus(core, albert, "<p>fluffy</p>", { spoiler: "kittens inside" });
      posts.albertDogs = await insertStatus(core, albert, '<p><a href="https://kittens.example">dogs</a></p>');
      posts.mallory = await insertStatus(core, mallory, "<p>buy kittens</p>");
      await core.db.insert(blocks).values({ id: newId(), accountId: owner.id, targetAccountId: mallory.id });
      for (const name of ["kittens", "kitten_pics", "dogs", "kittenish"]) {
        await core.db.insert(tags).values({ id: newId(), name, displayName: name === "kittens" ? "Kittens" : name });
      }
      const [kittens] = await core.db.select().from(tags).where(eq(tags.name, "kittens"));
      await core.db.insert(statusTags).values({ statusId: posts.alicePublic.id, tagId: kittens.id });
    });
    after(async () => {
      await instance?.close();
    });

    const search = async (query: string, auth: string | null = token) => {
      const response = await api(instance, "GET", `/api/v2/search?${query}`, { token: auth });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as Json;
    };

    test("statuses the owner may see, words anywhere in the text or warning; hashtags by prefix", async () => {
      const body = await search("q=kittens");
      const expected = [posts.albertWarning, posts.aliceDirect, posts.alicePublic, posts.own].map((p) => p.id.toString());
      assert.deepEqual(ids(body.statuses), expected, "newest first; no private post of an unfollowed account, no boost, no blocked author, no link target");
      assert.deepEqual(body.hashtags.map((t: Json) => t.name), ["Kittens"]);
      assert.equal(body.hashtags[0].url, `${instance.origin}/tags/kittens`);
      assert.equal(body.hashtags[0].history.length, 7);
      assert.equal(body.hashtags[0].following, false);
      assert.deepEqual(body.accounts, []);
      const twoWords = await search("q=kittens%20great");
      assert.deepEqual(ids(twoWords.statuses), [posts.alicePublic.id.toString()]);
    });

    test("hashtags: the exact name first, then the shortest", async () => {
      const body = await search("q=%23kitten&type=hashtags");
      assert.deepEqual(body.hashtags.map((t: Json) => t.name), ["Kittens", "kittenish", "kitten_pics"]);
      assert.deepEqual((await search("q=kitten_pics&type=hashtags")).hashtags.map((t: Json) => t.name), ["kitten_pics"], "_ is no wildcard");
      assert.deepEqual(body.statuses, []);
      assert.deepEqual(body.accounts, []);
    });

    test("private posts show once the owner follows their author", async () => {
      await core.db.insert(follows).values({ id: newId(), accountId: owner.id, targetAccountId: alice.id, state: "accepted" });
      try {
        const body = await search("q=secret&type=statuses");
        assert.deepEqual(ids(body.statuses), [posts.alicePrivate.id.toString()]);
        const followed = await search("q=al&type=accounts&following=true");
        assert.deepEqual(ids(followed.accounts), [alice.id.toString()]);
      } finally {
        await core.db.delete(follows).where(eq(follows.targetAccountId, alice.id));
      }
      assert.deepEqual((await search("q=secret&type=statuses")).statuses, []);
    });

    test("accounts by handle prefix or display name, the exact handle first", async () => {
      const byPrefix = await search("q=al&type=accounts");
      assert.deepEqual(new Set(ids(byPrefix.accounts)), new Set([alice.id.toString(), albert.id.toString()]));
      const exact = await search("q=%40albert%40remote.example&type=accounts");
      assert.equal(exact.accounts[0].id, albert.id.toString());
      const byName = await search("q=cooper");
      assert.deepEqual(ids(byName.accounts), [alice.id.toString()]);
      const owners = await search("q=owner&type=accounts");
      assert.deepEqual(ids(owners.accounts), [owner.id.toString()]);
      assert.deepEqual((await search("q=mallory&type=accounts")).accounts, [], "blocked accounts are left out");
    });

    test("limit, offset (with a type), max_id, min_id and account_id", async () => {
      const all = ids((await search("q=kittens&type=statuses")).statuses);
      assert.deepEqual(ids((await search("q=kittens&type=statuses&limit=2")).statuses), all.slice(0, 2));
      assert.deepEqual(ids((await search("q=kittens&type=statuses&limit=2&offset=2")).statuses), all.slice(2, 4));
      assert.deepEqual(ids((await search(`q=kittens&type=statuses&max_id=${all[1]}`)).statuses), all.slice(2));
      assert.deepEqual(ids((await search(`q=kittens&type=statuses&min_id=${all[3]}&limit=2`)).statuses), all.slice(1, 3));
      assert.deepEqual(ids((await search(`q=kittens&type=statuses&account_id=${alice.id}`)).statuses), [posts.aliceDirect, posts.alicePublic].map((p) => p.id.toString()));
      assert.equal((await search("q=kittens&limit=100")).statuses.length, all.length);
      assert.deepEqual(ids((await search("q=kittens&offset=2")).statuses), all, "offset applies to one type only");
    });

    test("a URL finds the known account or status it names", async () => {
      const account = await search(`q=${encodeURIComponent(alice.uri)}`);
      assert.deepEqual(ids(account.accounts), [alice.id.toString()]);
      assert.deepEqual(account.statuses, []);
      const profile = await search(`q=${encodeURIComponent(alice.url!)}&type=accounts`);
      assert.deepEqual(ids(profile.accounts), [alice.id.toString()]);
      const status = await search(`q=${encodeURIComponent(posts.alicePublic.uri)}&resolve=true`);
      assert.deepEqual(ids(status.statuses), [posts.alicePublic.id.toString()]);
      const hidden = await search(`q=${encodeURIComponent(posts.alicePrivate.uri)}`);
      assert.deepEqual(hidden.statuses, []);
      const unknown = await search(`q=${encodeURIComponent("http://127.0.0.1:9/users/nobody")}&resolve=true`);
      assert.deepEqual(unknown, { accounts: [], statuses: [], hashtags: [] });
    });

    test("the answer matches the Search schema", { skip: skipContract }, async () => {
      const body = await search("q=kittens");
      assert.ok(body.statuses.length > 0 && body.hashtags.length > 0);
      assertMatchesSchema("Search", body);
      assertMatchesSchema("Search", await search("q=al", null));
    });

    test("without a token: accounts and hashtags, no statuses, no resolve, no offset", async () => {
      const body = await search("q=kittens", null);
      assert.deepEqual(body.statuses, []);
      assert.equal(body.hashtags.length, 1);
      assert.equal(body.hashtags[0].following, undefined);
      assert.deepEqual(ids((await search("q=cooper", null)).accounts), [alice.id.toString()]);
      assert.equal((await api(instance, "GET", "/api/v2/search?q=a&resolve=true")).status, 401);
      assert.equal((await api(instance, "GET", "/api/v2/search?q=a&type=accounts&offset=1")).status, 401);
    });

    test("scopes and bad input", async () => {
      const wrong = await ownerToken(instance, "read:accounts");
      assert.equal((await api(instance, "GET", "/api/v2/search?q=a", { token: wrong })).status, 403);
      const granular = await ownerToken(instance, "read:search");
      assert.equal((await api(instance, "GET", "/api/v2/search?q=a", { token: granular })).status, 200);
      assert.equal((await api(instance, "GET", "/api/v2/search", { token })).status, 400);
      for (const query of ["q=a&type=people", "q=a&limit=x", "q=a&resolve=maybe", "q=a&type=statuses&offset=-1", "q=a&account_id=abc"]) {
        const response = await api(instance, "GET", `/api/v2/search?${query}`, { token });
        assert.equal(response.status, 422, query);
        assert.equal(typeof response.body.error, "string");
      }
      assert.deepEqual(await search("q=%20%20"), { accounts: [], statuses: [], hashtags: [] });
    });
  });
}
