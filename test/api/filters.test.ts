/**
 * /api/v2/filters (with keywords and statuses) and the v1 view of them:
 * CRUD, Rails-style form parameters, validation, ownership, scopes,
 * `filters.changed`, and the shapes of Filter, FilterKeyword, FilterStatus
 * and V1::Filter.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { filterKeywords, filters, statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();

function check(name: string, value: unknown): void {
  if (schema != null) assertMatchesSchema(name, value);
}

async function remoteAccount(core: CoreContext, username: string): Promise<Account> {
  return await insertRemoteAccount(core, username, {
    domain: "filters.example",
    url: null,
    inboxUrl: `https://filters.example/users/${username}/inbox`,
  });
}

for (const kind of databaseKinds()) {
  describe(`filters API (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let token: string;
    let changes = 0;

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      token = await ownerToken(instance);
      core.events.on("filters.changed", ({ accountId }) => {
        if (accountId === instance.owner!.account.id) changes++;
      });
    });
    after(async () => {
      await instance?.close();
    });

    test("scopes: read:filters to read, write:filters to change; a user token", async () => {
      assert.equal((await api(instance, "GET", "/api/v2/filters")).status, 401);
      assert.equal((await api(instance, "GET", "/api/v1/filters")).status, 401);
      const writeOnly = await ownerToken(instance, "write:filters");
      const readOnly = await ownerToken(instance, "read:filters");
      assert.equal((await api(instance, "GET", "/api/v2/filters", { token: writeOnly })).status, 403);
      assert.equal((await api(instance, "GET", "/api/v2/filters", { token: readOnly })).status, 200);
      const refused = await api(instance, "POST", "/api/v2/filters", { token: readOnly, body: { title: "x", context: ["home"] } });
      assert.equal(refused.status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/filters", { token: readOnly, body: { phrase: "x", context: ["home"] } })).status, 403);
      assert.equal((await api(instance, "GET", "/api/v2/filters", { token: await ownerToken(instance, "read") })).status, 200);
      assert.deepEqual((await api(instance, "GET", "/api/v2/filters", { token })).body, []);
    });

    test("create from a Rails-style form; read it back; schema", async () => {
      const before = changes;
      const form = new URLSearchParams();
      form.append("title", "Crossposts");
      form.append("context[]", "home");
      form.append("context[]", "public");
      form.append("filter_action", "hide");
      form.append("expires_in", "3600");
      form.append("keywords_attributes[][keyword]", "from birdsite");
      form.append("keywords_attributes[][whole_word]", "true");
      form.append("keywords_attributes[][keyword]", "@twitter.com");
      form.append("keywords_attributes[][whole_word]", "false");
      form.append("keywords_attributes[][keyword]", "t.co");
      const created = await api(instance, "POST", "/api/v2/filters", { token, body: form });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const filter = created.body;
      assert.equal(filter.title, "Crossposts");
      assert.deepEqual(filter.context, ["home", "public"]);
      assert.equal(filter.filter_action, "hide");
      const expires = Date.parse(filter.expires_at) - Date.now();
      assert.ok(expires > 3500_000 && expires <= 3600_000, `expires in ${expires} ms`);
      assert.deepEqual(filter.keywords.map((k: Record<string, unknown>) => [k.keyword, k.whole_word]), [
        ["from birdsite", true],
        ["@twitter.com", false],
        ["t.co", true],
      ]);
      assert.deepEqual(filter.statuses, []);
      check("Filter", filter);
      assert.ok(changes > before, "filters.changed was emitted");

      const one = await api(instance, "GET", `/api/v2/filters/${filter.id}`, { token });
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, filter);
      const all = await api(instance, "GET", "/api/v2/filters", { token });
      assert.deepEqual(all.body, [filter]);
      for (const item of all.body) check("Filter", item);

      // Indexed hashes work too.
      const indexed = new URLSearchParams();
      indexed.append("title", "Indexed");
      indexed.append("context[]", "thread");
      indexed.append("keywords_attributes[0][keyword]", "first");
      indexed.append("keywords_attributes[1][keyword]", "second");
      indexed.append("keywords_attributes[1][whole_word]", "0");
      const second = await api(instance, "POST", "/api/v2/filters", { token, body: indexed });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body.keywords.map((k: Record<string, unknown>) => [k.keyword, k.whole_word]), [["first", true], ["second", false]]);
      assert.equal(second.body.filter_action, "warn", "warn by default");
      assert.equal(second.body.expires_at, null);
      assert.equal((await api(instance, "DELETE", `/api/v2/filters/${second.body.id}`, { token })).status, 200);
      assert.equal((await api(instance, "DELETE", `/api/v2/filters/${filter.id}`, { token })).status, 200);
    });

    test("validation: 422 for a blank title, missing or unknown context, unknown action, blank keyword; 404 for a keyword id", async () => {
      const post = (body: Record<string, unknown>) => api(instance, "POST", "/api/v2/filters", { token, body });
      for (const body of [
        { context: ["home"] },
        { title: "  ", context: ["home"] },
        { title: "t" },
        { title: "t", context: [] },
        { title: "t", context: ["home", "everywhere"] },
        { title: "t", context: ["home"], filter_action: "explode" },
        { title: "t", context: ["home"], keywords_attributes: [{ keyword: "" }] },
        { title: "t", context: ["home"], expires_in: "soon" },
        { title: "t", context: "home", keywords_attributes: "oops" },
        { title: ["t"], context: ["home"] },
      ]) {
        const response = await post(body);
        assert.equal(response.status, 422, JSON.stringify(body));
        assert.match(response.body.error, /^Validation failed: /);
      }
      assert.equal((await post({ title: "t", context: ["home"], keywords_attributes: [{ id: "1", keyword: "x" }] })).status, 404);
      assert.deepEqual((await api(instance, "GET", "/api/v2/filters", { token })).body, [], "nothing was stored");
      const blur = await post({ title: "blurred", context: ["account"], filter_action: "blur", expires_in: "" });
      assert.equal(blur.status, 200);
      assert.equal(blur.body.filter_action, "blur");
      assert.equal(blur.body.expires_at, null);
      check("Filter", blur.body);
      await api(instance, "DELETE", `/api/v2/filters/${blur.body.id}`, { token });
    });

    test("update: title, context, action, expiry; keywords changed, removed and added", async () => {
      const created = await api(instance, "POST", "/api/v2/filters", {
        token,
        body: { title: "test", context: ["public"], expires_in: 60, keywords_attributes: [{ keyword: "foo", whole_word: false }, { keyword: "bar" }] },
      });
      const [foo, bar] = created.body.keywords;
      const updated = await api(instance, "PUT", `/api/v2/filters/${created.body.id}`, {
        token,
        body: {
          title: "renamed",
          context: ["home", "notifications"],
          filter_action: "hide",
          expires_in: null,
          keywords_attributes: [{ id: foo.id, _destroy: true }, { id: bar.id, keyword: "baz" }, { keyword: "qux", whole_word: false }],
        },
      });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.title, "renamed");
      assert.deepEqual(updated.body.context, ["home", "notifications"]);
      assert.equal(updated.body.filter_action, "hide");
      assert.equal(updated.body.expires_at, null);
      assert.deepEqual(updated.body.keywords.map((k: Record<string, unknown>) => [k.id, k.keyword, k.whole_word]), [
        [bar.id, "baz", true],
        [updated.body.keywords[1].id, "qux", false],
      ]);
      check("Filter", updated.body);

      // Only what is given changes.
      const titleOnly = await api(instance, "PUT", `/api/v2/filters/${created.body.id}`, { token, body: { title: "again" } });
      assert.deepEqual({ ...titleOnly.body, title: "renamed" }, updated.body);

      const form = new URLSearchParams();
      form.append("keywords_attributes[][id]", bar.id);
      form.append("keywords_attributes[][_destroy]", "true");
      const removed = await api(instance, "PUT", `/api/v2/filters/${created.body.id}`, { token, body: form });
      assert.deepEqual(removed.body.keywords.map((k: Record<string, unknown>) => k.keyword), ["qux"]);

      assert.equal((await api(instance, "PUT", `/api/v2/filters/${created.body.id}`, { token, body: { keywords_attributes: [{ id: foo.id, keyword: "x" }] } })).status, 404, "a keyword that is gone");
      assert.equal((await api(instance, "PUT", `/api/v2/filters/${created.body.id}`, { token, body: { context: ["nowhere"] } })).status, 422);
      assert.equal((await api(instance, "PUT", `/api/v2/filters/${created.body.id}`, { token, body: { title: "" } })).status, 422);
      assert.equal((await api(instance, "PUT", `/api/v2/filters/${newId()}`, { token, body: { title: "x" } })).status, 404);

      const deleted = await api(instance, "DELETE", `/api/v2/filters/${created.body.id}`, { token });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, {});
      assert.equal((await api(instance, "GET", `/api/v2/filters/${created.body.id}`, { token })).status, 404);
      assert.equal((await api(instance, "DELETE", `/api/v2/filters/${created.body.id}`, { token })).status, 404);
      assert.equal((await api(instance, "GET", "/api/v2/filters/not-a-number", { token })).status, 404);
      const keywordsLeft = await core.db.select().from(filterKeywords);
      assert.ok(keywordsLeft.every((k) => k.filterId.toString() !== created.body.id), "keywords go with their filter");
    });

    test("keywords: list, add, show, change, remove", async () => {
      const created = await api(instance, "POST", "/api/v2/filters", { token, body: { title: "kw", context: ["home"] } });
      const id = created.body.id;
      assert.deepEqual((await api(instance, "GET", `/api/v2/filters/${id}/keywords`, { token })).body, []);
      const added = await api(instance, "POST", `/api/v2/filters/${id}/keywords`, { token, body: { keyword: "some", whole_word: false } });
      assert.equal(added.status, 200);
      assert.deepEqual({ keyword: added.body.keyword, whole_word: added.body.whole_word }, { keyword: "some", whole_word: false });
      check("FilterKeyword", added.body);
      assert.equal((await api(instance, "POST", `/api/v2/filters/${id}/keywords`, { token, body: { keyword: " " } })).status, 422);
      assert.equal((await api(instance, "POST", `/api/v2/filters/${id}/keywords`, { token, body: {} })).status, 422);
      assert.equal((await api(instance, "POST", `/api/v2/filters/${newId()}/keywords`, { token, body: { keyword: "x" } })).status, 404);

      const shown = await api(instance, "GET", `/api/v2/filters/keywords/${added.body.id}`, { token });
      assert.deepEqual(shown.body, added.body);
      const changed = await api(instance, "PUT", `/api/v2/filters/keywords/${added.body.id}`, { token, body: { keyword: "other" } });
      assert.deepEqual(changed.body, { ...added.body, keyword: "other" });
      assert.equal((await api(instance, "PUT", `/api/v2/filters/keywords/${added.body.id}`, { token, body: { keyword: "" } })).status, 422);
      const listed = await api(instance, "GET", `/api/v2/filters/${id}/keywords`, { token });
      assert.deepEqual(listed.body, [changed.body]);
      assert.deepEqual((await api(instance, "GET", `/api/v2/filters/${id}`, { token })).body.keywords, [changed.body]);

      assert.deepEqual((await api(instance, "DELETE", `/api/v2/filters/keywords/${added.body.id}`, { token })).body, {});
      assert.equal((await api(instance, "GET", `/api/v2/filters/keywords/${added.body.id}`, { token })).status, 404);
      assert.equal((await api(instance, "DELETE", `/api/v2/filters/keywords/${added.body.id}`, { token })).status, 404);
      assert.equal((await api(instance, "GET", `/api/v2/filters/keywords/${added.body.id}`, { token: await ownerToken(instance, "write") })).status, 403);
      await api(instance, "DELETE", `/api/v2/filters/${id}`, { token });
    });

    test("statuses: add by id, list, show, remove; unknown status 404, twice 422", async () => {
      const author = await remoteAccount(core, "filtered_author");
      const statusId = newId();
      await core.db.insert(statuses).values({ id: statusId, accountId: author.id, uri: `${author.uri}/statuses/${statusId}`, content: "<p>x</p>" });
      const created = await api(instance, "POST", "/api/v2/filters", { token, body: { title: "st", context: ["home"] } });
      const id = created.body.id;
      const added = await api(instance, "POST", `/api/v2/filters/${id}/statuses`, { token, body: { status_id: statusId.toString() } });
      assert.equal(added.status, 200);
      assert.equal(added.body.status_id, statusId.toString());
      check("FilterStatus", added.body);
      assert.equal((await api(instance, "POST", `/api/v2/filters/${id}/statuses`, { token, body: { status_id: statusId.toString() } })).status, 422);
      assert.equal((await api(instance, "POST", `/api/v2/filters/${id}/statuses`, { token, body: { status_id: newId().toString() } })).status, 404);
      assert.equal((await api(instance, "POST", `/api/v2/filters/${id}/statuses`, { token, body: {} })).status, 422);
      assert.equal((await api(instance, "POST", `/api/v2/filters/${id}/statuses`, { token, body: { status_id: "abc" } })).status, 422);

      assert.deepEqual((await api(instance, "GET", `/api/v2/filters/${id}/statuses`, { token })).body, [added.body]);
      assert.deepEqual((await api(instance, "GET", `/api/v2/filters/statuses/${added.body.id}`, { token })).body, added.body);
      assert.deepEqual((await api(instance, "GET", `/api/v2/filters/${id}`, { token })).body.statuses, [added.body]);
      assert.deepEqual((await api(instance, "DELETE", `/api/v2/filters/statuses/${added.body.id}`, { token })).body, {});
      assert.equal((await api(instance, "GET", `/api/v2/filters/statuses/${added.body.id}`, { token })).status, 404);
      assert.equal((await api(instance, "GET", `/api/v2/filters/${newId()}/statuses`, { token })).status, 404);
      await api(instance, "DELETE", `/api/v2/filters/${id}`, { token });
    });

    test("someone else's filter is not found", async () => {
      const other = await remoteAccount(core, "filter_stranger");
      const filterId = newId();
      await core.db.insert(filters).values({ id: filterId, accountId: other.id, title: "theirs", context: ["home"] });
      const keywordId = newId();
      await core.db.insert(filterKeywords).values({ id: keywordId, filterId, keyword: "secret" });
      assert.equal((await api(instance, "GET", `/api/v2/filters/${filterId}`, { token })).status, 404);
      assert.equal((await api(instance, "PUT", `/api/v2/filters/${filterId}`, { token, body: { title: "mine" } })).status, 404);
      assert.equal((await api(instance, "DELETE", `/api/v2/filters/${filterId}`, { token })).status, 404);
      assert.equal((await api(instance, "GET", `/api/v2/filters/keywords/${keywordId}`, { token })).status, 404);
      assert.equal((await api(instance, "GET", `/api/v1/filters/${keywordId}`, { token })).status, 404);
      assert.deepEqual((await api(instance, "GET", "/api/v2/filters", { token })).body, []);
      assert.deepEqual((await api(instance, "GET", "/api/v1/filters", { token })).body, []);
    });

    test("v1: every keyword is a filter of one phrase; create, change, delete", async () => {
      const v2 = await api(instance, "POST", "/api/v2/filters", {
        token,
        body: { title: "group", context: ["home", "thread"], filter_action: "hide", keywords_attributes: [{ keyword: "one" }, { keyword: "two", whole_word: false }] },
      });
      const listed = await api(instance, "GET", "/api/v1/filters", { token });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body, v2.body.keywords.map((k: Record<string, unknown>) => ({
        id: k.id, phrase: k.keyword, context: ["home", "thread"], whole_word: k.whole_word, expires_at: null, irreversible: true,
      })));
      for (const item of listed.body) check("V1Filter", item);

      const created = await api(instance, "POST", "/api/v1/filters", { token, body: { phrase: "spoon", context: ["public"], irreversible: false, expires_in: 600 } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.phrase, "spoon");
      assert.equal(created.body.whole_word, false);
      assert.equal(created.body.irreversible, false);
      assert.ok(created.body.expires_at != null);
      check("V1Filter", created.body);
      const asV2 = (await api(instance, "GET", "/api/v2/filters", { token })).body.find((f: { title: string }) => f.title === "spoon");
      assert.ok(asV2 != null, "a v2 filter titled with the phrase");
      assert.equal(asV2.filter_action, "warn");

      const changed = await api(instance, "PUT", `/api/v1/filters/${created.body.id}`, { token, body: { phrase: "fork", context: ["public", "home"], irreversible: true, whole_word: true } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.deepEqual({ ...changed.body, expires_at: null }, { id: created.body.id, phrase: "fork", context: ["public", "home"], whole_word: true, expires_at: null, irreversible: true });
      assert.equal((await api(instance, "GET", `/api/v1/filters/${created.body.id}`, { token })).body.phrase, "fork");

      const shared = v2.body.keywords[0].id;
      assert.equal((await api(instance, "PUT", `/api/v1/filters/${shared}`, { token, body: { context: ["public"] } })).status, 422, "context of a shared filter");
      const renamed = await api(instance, "PUT", `/api/v1/filters/${shared}`, { token, body: { phrase: "uno", context: ["home", "thread"] } });
      assert.equal(renamed.status, 200, "the same context is no change");
      assert.equal(renamed.body.phrase, "uno");

      assert.equal((await api(instance, "POST", "/api/v1/filters", { token, body: { context: ["home"] } })).status, 422);
      assert.equal((await api(instance, "POST", "/api/v1/filters", { token, body: { phrase: "x", context: ["bogus"] } })).status, 422);
      assert.deepEqual((await api(instance, "DELETE", `/api/v1/filters/${created.body.id}`, { token })).body, {});
      assert.equal((await api(instance, "GET", `/api/v1/filters/${created.body.id}`, { token })).status, 404);
      assert.equal((await api(instance, "DELETE", `/api/v1/filters/${created.body.id}`, { token })).status, 404);
      assert.equal((await api(instance, "GET", "/api/v1/filters", { token })).body.length, 2);
    });
  });
}
