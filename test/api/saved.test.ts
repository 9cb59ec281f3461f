/**
 * GET /api/v1/bookmarks and /api/v1/favourites: the owner's, most recently
 * saved first, paged by the bookmark or favourite id with Mastodon's Link
 * header; scopes; Status shapes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { bookmarks, favourites, statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();

for (const kind of databaseKinds()) {
  describe(`bookmarks and favourites API (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let writer: Account;
    let token: string;
    const posts: bigint[] = [];

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      token = await ownerToken(instance);
      writer = await insertRemoteAccount(core, "writer", {
        domain: "saved.example",
        displayName: "Writer",
        inboxUrl: "https://saved.example/users/writer/inbox",
      });
      for (let i = 0; i < 3; i++) {
        const id = newId();
        await core.db.insert(statuses).values({ id, accountId: writer.id, uri: `${writer.uri}/statuses/${id}`, url: `${writer.uri}/statuses/${id}`, content: `<p>saved ${i}</p>` });
        posts.push(id);
      }
    });
    after(async () => {
      await instance?.close();
    });

    for (const kind of ["bookmarks", "favourites"] as const) {
      const table = kind === "bookmarks" ? bookmarks : favourites;
      const path = `/api/v1/${kind}`;

      test(`${kind}: scopes; empty`, async () => {
        assert.equal((await api(instance, "GET", path)).status, 401);
        const other = kind === "bookmarks" ? "read:favourites" : "read:bookmarks";
        assert.equal((await api(instance, "GET", path, { token: await ownerToken(instance, other) })).status, 403);
        const empty = await api(instance, "GET", path, { token: await ownerToken(instance, `read:${kind}`) });
        assert.equal(empty.status, 200);
        assert.deepEqual(empty.body, []);
        assert.equal(empty.headers.get("link"), null);
      });

      test(`${kind}: most recently saved first, paged by the saved row's id`, async () => {
        // Saved in the order 1, 0, 2; someone else's does not count.
        const saved: bigint[] = [];
        for (const index of [1, 0, 2]) {
          const id = newId();
          await core.db.insert(table).values({ id, accountId: owner.id, statusId: posts[index] });
          saved.push(id);
        }
        await core.db.insert(table).values({ id: newId(), accountId: writer.id, statusId: posts[1] });
        const expected = [posts[2], posts[0], posts[1]].map(String);

        const all = await api(instance, "GET", path, { token });
        assert.equal(all.status, 200);
        assert.deepEqual(all.body.map((s: { id: string }) => s.id), expected);
        assert.equal(all.headers.get("link"), `<${instance.origin}${path}?min_id=${saved[2]}>; rel="prev"`, "no next: the page is not full");
        const flag = kind === "bookmarks" ? "bookmarked" : "favourited";
        assert.ok(all.body.every((s: Record<string, unknown>) => s[flag] === true), `${flag} is true`);
        if (schema) for (const status of all.body) assertMatchesSchema("Status", status);

        const first = await api(instance, "GET", `${path}?limit=2`, { token });
        assert.deepEqual(first.body.map((s: { id: string }) => s.id), expected.slice(0, 2));
        assert.equal(
          first.headers.get("link"),
          `<${instance.origin}${path}?limit=2&max_id=${saved[1]}>; rel="next", <${instance.origin}${path}?limit=2&min_id=${saved[2]}>; rel="prev"`,
        );
        const next = await api(instance, "GET", `${path}?limit=2&max_id=${saved[1]}`, { token });
        assert.deepEqual(next.body.map((s: { id: string }) => s.id), expected.slice(2));
        const newer = await api(instance, "GET", `${path}?limit=1&min_id=${saved[0]}`, { token });
        assert.deepEqual(newer.body.map((s: { id: string }) => s.id), [expected[1]], "min_id: the one saved just after");
        const since = await api(instance, "GET", `${path}?since_id=${saved[0]}`, { token });
        assert.deepEqual(since.body.map((s: { id: string }) => s.id), expected.slice(0, 2));
        assert.equal((await api(instance, "GET", `${path}?limit=x`, { token })).status, 422);
        assert.equal((await api(instance, "GET", `${path}?limit=0`, { token })).body.length, 1);
      });
    }
  });
}
