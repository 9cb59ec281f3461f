/**
 * Hashtags: looking one up, following and unfollowing, the followed tags
 * with their pages, and featured tags (with counts of the owner's posts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { newId } from "../../src/core/ids.ts";
import { statusTags, statuses, tags } from "../../src/db/schema.ts";
import { api, linkPath, ownerToken, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import type { TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const skipContract = !schema && "../shared/mastodon-openapi absent";

/** Stores a post of the owner's tagged with these tags (created when missing). */
async function ownerPost(instance: TestInstance, names: string[], visibility: "public" | "unlisted" | "private" = "public"): Promise<void> {
  const db = instance.islet.core.db;
  const id = newId();
  await db.insert(statuses).values({ id, accountId: instance.owner!.account.id, uri: `${instance.origin}/statuses/${id}`, content: "<p>tagged</p>", visibility });
  for (const name of names) {
    await db.insert(tags).values({ id: newId(), name: name.toLowerCase(), displayName: name }).onConflictDoNothing();
    const [tag] = await db.select().from(tags).where(eq(tags.name, name.toLowerCase()));
    await db.insert(statusTags).values({ statusId: id, tagId: tag.id });
  }
}

for (const kind of databaseKinds()) {
  describe(`tags (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    withOwnerInstance(kind, (started, ownerAccess) => {
      instance = started;
      token = ownerAccess;
    });

    test("a tag nobody used: a week of zeros, not stored", async () => {
      const anonymous = await api(instance, "GET", "/api/v1/tags/NeverUsed");
      assert.equal(anonymous.status, 200);
      assert.equal(anonymous.body.name, "NeverUsed");
      assert.equal(anonymous.body.url, `${instance.origin}/tags/neverused`);
      assert.equal(anonymous.body.history.length, 7);
      assert.ok(anonymous.body.history.every((day: { uses: string; accounts: string }) => day.uses === "0" && day.accounts === "0"));
      assert.equal(anonymous.body.following, undefined);
      if (!skipContract) assertMatchesSchema("Tag", anonymous.body);
      const viewer = await api(instance, "GET", "/api/v1/tags/NeverUsed", { token });
      assert.equal(viewer.body.following, false);
      const stored = await instance.islet.core.db.select().from(tags).where(eq(tags.name, "neverused"));
      assert.equal(stored.length, 0);
    });

    test("a used tag: its id and today's use", async () => {
      await ownerPost(instance, ["Used"]);
      const response = await api(instance, "GET", "/api/v1/tags/used", { token });
      assert.equal(response.status, 200);
      assert.match(response.body.id, /^\d+$/);
      assert.equal(response.body.name, "Used", "the spelling first seen");
      assert.equal(response.body.history[0].uses, "1");
      assert.equal(response.body.history[0].accounts, "1");
      const today = Math.floor(Date.now() / 86_400_000) * 86_400;
      assert.equal(response.body.history[0].day, String(today));
      if (!skipContract) assertMatchesSchema("Tag", response.body);
    });

    test("names that are not hashtags are 404s", async () => {
      for (const name of ["123", "foo-bar", "%20", "a%2Fb", "x".repeat(200)]) {
        const response = await api(instance, "GET", `/api/v1/tags/${name}`, { token });
        assert.equal(response.status, 404, name);
        assert.equal((await api(instance, "POST", `/api/v1/tags/${name}/follow`, { token })).status, 404, name);
        assert.equal((await api(instance, "POST", `/api/v1/tags/${name}/unfollow`, { token })).status, 404, name);
      }
    });

    test("follow, idempotently, whatever the case; unfollow", async () => {
      const followed = await api(instance, "POST", "/api/v1/tags/Caturday/follow", { token });
      assert.equal(followed.status, 200);
      assert.equal(followed.body.following, true);
      assert.equal(followed.body.name, "Caturday");
      assert.match(followed.body.id, /^\d+$/, "the tag was stored");
      if (!skipContract) assertMatchesSchema("Tag", followed.body);
      const again = await api(instance, "POST", "/api/v1/tags/caturday/follow", { token });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, followed.body.id);
      assert.equal((await api(instance, "GET", "/api/v1/tags/CATURDAY", { token })).body.following, true);
      const list = await api(instance, "GET", "/api/v1/followed_tags", { token });
      assert.deepEqual(list.body.map((tag: { name: string }) => tag.name), ["Caturday"]);
      assert.equal(list.body[0].following, true);

      const unfollowed = await api(instance, "POST", "/api/v1/tags/caturday/unfollow", { token });
      assert.equal(unfollowed.status, 200);
      assert.equal(unfollowed.body.following, false);
      assert.deepEqual((await api(instance, "GET", "/api/v1/followed_tags", { token })).body, []);
      const unknown = await api(instance, "POST", "/api/v1/tags/NotStored/unfollow", { token });
      assert.equal(unknown.status, 200);
      assert.equal(unknown.body.following, false);
    });

    test("non-ASCII hashtags work", async () => {
      const followed = await api(instance, "POST", `/api/v1/tags/${encodeURIComponent("Café")}/follow`, { token });
      assert.equal(followed.status, 200);
      assert.equal(followed.body.name, "Café");
      if (!skipContract) assertMatchesSchema("Tag", followed.body);
      await api(instance, "POST", `/api/v1/tags/${encodeURIComponent("café")}/unfollow`, { token });
    });

    test("followed tags come in pages, newest follow first", async () => {
      for (const name of ["one", "two", "three"]) await api(instance, "POST", `/api/v1/tags/${name}/follow`, { token });
      const first = await api(instance, "GET", "/api/v1/followed_tags?limit=2", { token });
      assert.deepEqual(first.body.map((tag: { name: string }) => tag.name), ["three", "two"]);
      if (!skipContract) for (const tag of first.body) assertMatchesSchema("Tag", tag);
      const next = linkPath(first.headers.get("link"), "next");
      assert.ok(next != null);
      const second = await api(instance, "GET", next, { token });
      assert.deepEqual(second.body.map((tag: { name: string }) => tag.name), ["one"]);
      const prev = linkPath(second.headers.get("link"), "prev");
      const back = await api(instance, "GET", prev!, { token });
      assert.deepEqual(back.body.map((tag: { name: string }) => tag.name), ["three", "two"]);
      for (const name of ["one", "two", "three"]) await api(instance, "POST", `/api/v1/tags/${name}/unfollow`, { token });
    });

    test("scopes: write:follows to follow, read:follows to list", async () => {
      const readOnly = await ownerToken(instance, "read");
      const writeFollows = await ownerToken(instance, "write:follows");
      assert.equal((await api(instance, "POST", "/api/v1/tags/x/follow")).status, 401);
      assert.equal((await api(instance, "POST", "/api/v1/tags/x/follow", { token: readOnly })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/tags/x/unfollow", { token: readOnly })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/tags/x/follow", { token: writeFollows })).status, 200);
      assert.equal((await api(instance, "POST", "/api/v1/tags/x/unfollow", { token: writeFollows })).status, 200);
      assert.equal((await api(instance, "GET", "/api/v1/followed_tags")).status, 401);
      assert.equal((await api(instance, "GET", "/api/v1/followed_tags", { token: writeFollows })).status, 403);
      assert.equal((await api(instance, "GET", "/api/v1/followed_tags", { token: readOnly })).status, 200);
    });
  });

  describe(`featured tags (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    withOwnerInstance(kind, (started, ownerAccess) => {
      instance = started;
      token = ownerAccess;
    });

    test("feature a tag: counts of the owner's public and unlisted posts", async () => {
      const created = await api(instance, "POST", "/api/v1/featured_tags", { token, body: { name: "#Islet" } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.name, "Islet");
      assert.equal(created.body.statuses_count, "0");
      assert.equal(created.body.last_status_at, null);
      assert.equal(created.body.url, `${instance.origin}/@owner/tagged/islet`);
      if (!skipContract) assertMatchesSchema("FeaturedTag", created.body);

      await ownerPost(instance, ["Islet"]);
      await ownerPost(instance, ["islet"], "unlisted");
      await ownerPost(instance, ["islet"], "private");
      const list = await api(instance, "GET", "/api/v1/featured_tags", { token });
      assert.equal(list.body.length, 1);
      assert.equal(list.body[0].id, created.body.id);
      assert.equal(list.body[0].statuses_count, "2");
      assert.equal(list.body[0].last_status_at, new Date().toISOString().slice(0, 10));
      if (!skipContract) assertMatchesSchema("FeaturedTag", list.body[0]);

      const again = await api(instance, "POST", "/api/v1/featured_tags", { token, body: { name: "islet" } });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, created.body.id, "featuring twice changes nothing");

      const profile = await api(instance, "GET", `/api/v1/accounts/${instance.owner!.account.id}/featured_tags`);
      assert.equal(profile.status, 200);
      assert.deepEqual(profile.body, list.body);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/999999/featured_tags")).status, 404);

      const tag = await api(instance, "GET", "/api/v1/tags/islet", { token });
      assert.equal(tag.body.featuring, true);
    });

    test("bad names are 422s", async () => {
      for (const body of [{}, { name: "" }, { name: "123" }, { name: "no spaces" }, { name: ["a"] }]) {
        const response = await api(instance, "POST", "/api/v1/featured_tags", { token, body });
        assert.equal(response.status, 422, JSON.stringify(body));
        assert.equal(typeof response.body.error, "string");
      }
    });

    test("suggestions: the owner's used tags not featured yet", async () => {
      await ownerPost(instance, ["Often", "Rarely"]);
      await ownerPost(instance, ["often"]);
      const response = await api(instance, "GET", "/api/v1/featured_tags/suggestions", { token });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.map((tag: { name: string }) => tag.name), ["Often", "Rarely"]);
      if (!skipContract) for (const tag of response.body) assertMatchesSchema("Tag", tag);
    });

    test("at most ten", async () => {
      const have = (await api(instance, "GET", "/api/v1/featured_tags", { token })).body.length;
      for (let i = have; i < 10; i++) {
        assert.equal((await api(instance, "POST", "/api/v1/featured_tags", { token, body: { name: `tag${i}` } })).status, 200);
      }
      const refused = await api(instance, "POST", "/api/v1/featured_tags", { token, body: { name: "eleventh" } });
      assert.equal(refused.status, 422);
      assert.equal((await api(instance, "GET", "/api/v1/featured_tags", { token })).body.length, 10);
    });

    test("unfeature by id; unknown ids are 404s", async () => {
      const [first] = (await api(instance, "GET", "/api/v1/featured_tags", { token })).body;
      const removed = await api(instance, "DELETE", `/api/v1/featured_tags/${first.id}`, { token });
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.body, {});
      assert.equal((await api(instance, "DELETE", `/api/v1/featured_tags/${first.id}`, { token })).status, 404);
      assert.equal((await api(instance, "DELETE", "/api/v1/featured_tags/abc", { token })).status, 404);
      const left = (await api(instance, "GET", "/api/v1/featured_tags", { token })).body;
      assert.ok(!left.some((tag: { id: string }) => tag.id === first.id));
    });

    test("feature and unfeature through /api/v1/tags/:name", async () => {
      await api(instance, "DELETE", `/api/v1/featured_tags/${(await api(instance, "GET", "/api/v1/featured_tags", { token })).body[0].id}`, { token });
      const featured = await api(instance, "POST", "/api/v1/tags/Shiny/feature", { token });
      assert.equal(featured.status, 200);
      assert.equal(featured.body.featuring, true);
      assert.ok((await api(instance, "GET", "/api/v1/featured_tags", { token })).body.some((tag: { name: string }) => tag.name === "Shiny"));
      const unfeatured = await api(instance, "POST", "/api/v1/tags/shiny/unfeature", { token });
      assert.equal(unfeatured.status, 200);
      assert.equal(unfeatured.body.featuring, false);
      assert.ok(!(await api(instance, "GET", "/api/v1/featured_tags", { token })).body.some((tag: { name: string }) => tag.name === "Shiny"));
    });

    test("scopes: read:accounts to read, write:accounts to change", async () => {
      const readOnly = await ownerToken(instance, "read:accounts");
      const writeOnly = await ownerToken(instance, "write:accounts");
      for (const path of ["/api/v1/featured_tags", "/api/v1/featured_tags/suggestions"]) {
        assert.equal((await api(instance, "GET", path)).status, 401, path);
        assert.equal((await api(instance, "GET", path, { token: writeOnly })).status, 403, path);
        assert.equal((await api(instance, "GET", path, { token: readOnly })).status, 200, path);
      }
      assert.equal((await api(instance, "POST", "/api/v1/featured_tags", { body: { name: "x" } })).status, 401);
      assert.equal((await api(instance, "POST", "/api/v1/featured_tags", { token: readOnly, body: { name: "x" } })).status, 403);
      assert.equal((await api(instance, "DELETE", "/api/v1/featured_tags/1", { token: readOnly })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/tags/x/feature", { token: readOnly })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/tags/x/unfeature", { token: readOnly })).status, 403);
    });
  });
}
