/**
 * GET /api/v2/search with Mastodon's search operators: from:, has:, is:,
 * language:, before:/after:/during:, in:library, quoted phrases, `-`
 * exclusion, and hashtags written in the text.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { favourites, statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus } from "../helpers/statuses.ts";

type Json = Record<string, any>;

for (const kind of databaseKinds()) {
  describe(`search operators (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let token: string;
    let ann: Account;
    const ids: Record<string, string> = {};

    const post = async (body: Json) => {
      const response = await api(instance, "POST", "/api/v1/statuses", { token, body });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body.id as string;
    };
    const setDay = async (id: string, day: string) => {
      await core.db.update(statuses).set({ createdAt: new Date(`${day}T12:00:00Z`) }).where(eq(statuses.id, BigInt(id)));
    };

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      token = await ownerToken(instance, "read write follow");
      ann = await insertRemoteAccount(core, "ann", { domain: "remote.example", displayName: "Ann", inboxUrl: "http://127.0.0.1:9/inbox" });
      ids.tagged = await post({ status: "Sleepy kittens for #Caturday", language: "en" });
      ids.poll = await post({ status: "Which kittens?", poll: { options: ["grey", "white"], expires_in: 3600 } });
      ids.reply = await post({ status: "More kittens here", in_reply_to_id: ids.tagged });
      ids.sensitive = await post({ status: "Angry kittens", sensitive: true, language: "fr" });
      ids.link = await post({ status: "Kittens at https://kittens.example/page" });
      const annMedia = await insertTestStatus(core, ann, { content: "<p>Kittens in a box, very fluffy</p>", media: true });
      const annPlain = await insertTestStatus(core, ann, { content: "<p>fluffy dogs and kittens</p>" });
      ids.annMedia = annMedia.id.toString();
      ids.annPlain = annPlain.id.toString();
      await core.db.insert(favourites).values({ id: newId(), accountId: instance.owner!.account.id, statusId: annMedia.id });
      await setDay(ids.tagged, "2024-01-10");
      await setDay(ids.poll, "2024-01-15");
      await setDay(ids.reply, "2024-01-15");
      await setDay(ids.sensitive, "2024-02-01");
    });
    after(async () => {
      await instance?.close();
    });

    const found = async (q: string) => {
      const response = await api(instance, "GET", `/api/v2/search?type=statuses&q=${encodeURIComponent(q)}`, { token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return new Set((response.body.statuses as Json[]).map((status) => status.id));
    };
    const names = (...keys: string[]) => new Set(keys.map((key) => ids[key]));

    test("a hashtag written in the text is found by #tag", async () => {
      assert.deepEqual(await found("#caturday"), names("tagged"));
      assert.deepEqual(await found("for #Caturday"), names("tagged"));
    });

    test("from:me, from:@user@domain, and a `-` before it", async () => {
      assert.deepEqual(await found("from:me"), names("tagged", "poll", "reply", "sensitive", "link"));
      assert.deepEqual(await found("kittens from:@ann@remote.example"), names("annMedia", "annPlain"));
      assert.deepEqual(await found("kittens -from:me"), names("annMedia", "annPlain"));
      assert.deepEqual(await found("kittens from:@nobody@remote.example"), new Set());
    });

    test("has:media, has:poll, has:link; is:reply, is:sensitive; language:", async () => {
      assert.deepEqual(await found("kittens has:media"), names("annMedia"));
      assert.deepEqual(await found("kittens has:poll"), names("poll"));
      assert.deepEqual(await found("has:link"), names("link"));
      assert.deepEqual(await found("kittens is:reply"), names("reply"));
      assert.deepEqual(await found("kittens is:sensitive"), names("sensitive"));
      assert.deepEqual(await found("from:me -is:reply -has:poll -is:sensitive"), names("tagged", "link"));
      assert.deepEqual(await found("language:fr"), names("sensitive"));
    });

    test("before:, after: and during: a day", async () => {
      assert.deepEqual(await found("from:me during:2024-01-15"), names("poll", "reply"));
      assert.deepEqual(await found("from:me before:2024-01-15"), names("tagged"));
      assert.deepEqual(await found("from:me after:2024-01-15 before:2024-03-01"), names("sensitive"));
    });

    test("quoted phrases, `-` words, and in:library", async () => {
      assert.deepEqual(await found(`"very fluffy"`), names("annMedia"));
      assert.deepEqual(await found(`fluffy -"in a box"`), names("annPlain"));
      assert.deepEqual(await found("kittens -dogs from:@ann@remote.example"), names("annMedia"));
      assert.deepEqual(await found("fluffy in:library"), names("annMedia"), "favourited by the owner");
      assert.deepEqual(await found("fluffy in:all"), names("annMedia", "annPlain"));
    });

    test("a word that looks like an operator but is none is searched as a word", async () => {
      assert.deepEqual(await found("has:feathers"), new Set());
    });
  });
}
