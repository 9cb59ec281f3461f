import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Temporal } from "@js-temporal/polyfill";
import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/connect.ts";
import { DatabaseKvStore } from "../../src/db/kv-store.ts";
import { databaseKinds, withOpenDatabase } from "../helpers/database.ts";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

for (const kind of databaseKinds()) {
  describe(kind, () => {
    let database: Database;
    let store: DatabaseKvStore;

    withOpenDatabase(kind, (opened) => {
      database = opened;
      store = new DatabaseKvStore(database);
    });

    test("get, set and delete", async () => {
      assert.equal(await store.get(["basic", "a"]), undefined);
      const value = { text: "héllo", list: [1, 2.5, null, true], nested: { deep: ["x"] } };
      await store.set(["basic", "a"], value);
      assert.deepEqual(await store.get(["basic", "a"]), value);
      // A key is the whole array: neither a prefix nor an extension matches.
      assert.equal(await store.get(["basic"]), undefined);
      assert.equal(await store.get(["basic", "a", "b"]), undefined);
      await store.set(["basic", "a"], "replaced");
      assert.equal(await store.get(["basic", "a"]), "replaced");
      await store.set(["basic", "null"], null);
      assert.equal(await store.get(["basic", "null"]), null);
      await store.delete(["basic", "a"]);
      assert.equal(await store.get(["basic", "a"]), undefined);
      await store.delete(["basic", "missing"]); // no error
      // Keys whose parts contain separators, quotes and braces stay distinct.
      await store.set(["odd", "a,b"], 1);
      await store.set(["odd", "a", "b"], 2);
      await store.set(["odd", '{"x"}'], 3);
      assert.equal(await store.get(["odd", "a,b"]), 1);
      assert.equal(await store.get(["odd", "a", "b"]), 2);
      assert.equal(await store.get(["odd", '{"x"}']), 3);
    });

    test("ttl makes an entry expire; deleteExpired removes it", async () => {
      await store.set(["ttl", "short"], "soon gone", { ttl: Temporal.Duration.from({ milliseconds: 300 }) });
      await store.set(["ttl", "long"], "stays", { ttl: Temporal.Duration.from({ hours: 1 }) });
      await store.set(["ttl", "forever"], "stays");
      assert.equal(await store.get(["ttl", "short"]), "soon gone");
      await sleep(450);
      assert.equal(await store.get(["ttl", "short"]), undefined);
      assert.equal(await store.get(["ttl", "long"]), "stays");
      assert.equal(await store.get(["ttl", "forever"]), "stays");
      assert.deepEqual((await collect(store.list(["ttl"]))).map((entry) => entry.key[1]).sort(), ["forever", "long"]);
      const before = await database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM kv_entries WHERE key[1] = 'ttl'`);
      assert.equal(Number(before[0].n), 3, "the expired row is still stored until deleteExpired");
      assert.equal(await store.deleteExpired(), 1);
      assert.equal(await store.deleteExpired(), 0);
      const rest = await database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM kv_entries WHERE key[1] = 'ttl'`);
      assert.equal(Number(rest[0].n), 2);
      // Setting without a ttl clears an earlier one.
      await store.set(["ttl", "cleared"], 1, { ttl: Temporal.Duration.from({ milliseconds: 200 }) });
      await store.set(["ttl", "cleared"], 2);
      await sleep(300);
      assert.equal(await store.get(["ttl", "cleared"]), 2);
    });

    test("cas succeeds only when the current value matches", async () => {
      // Missing key matches undefined.
      assert.equal(await store.cas(["cas", "k"], "something", 1), false);
      assert.equal(await store.get(["cas", "k"]), undefined);
      assert.equal(await store.cas(["cas", "k"], undefined, { n: 1, tags: ["a"] }), true);
      assert.deepEqual(await store.get(["cas", "k"]), { n: 1, tags: ["a"] });
      // Present key no longer matches undefined.
      assert.equal(await store.cas(["cas", "k"], undefined, "clobber"), false);
      // Wrong expected value.
      assert.equal(await store.cas(["cas", "k"], { n: 2, tags: ["a"] }, "no"), false);
      assert.deepEqual(await store.get(["cas", "k"]), { n: 1, tags: ["a"] });
      // JSON equality: key order does not matter.
      assert.equal(await store.cas(["cas", "k"], { tags: ["a"], n: 1 }, { n: 2 }), true);
      assert.deepEqual(await store.get(["cas", "k"]), { n: 2 });
      // Swapping to undefined deletes.
      assert.equal(await store.cas(["cas", "k"], { n: 2 }, undefined), true);
      assert.equal(await store.get(["cas", "k"]), undefined);
      // An expired entry counts as missing.
      await store.set(["cas", "old"], "stale", { ttl: Temporal.Duration.from({ milliseconds: 150 }) });
      assert.equal(await store.cas(["cas", "old"], undefined, "fresh"), false);
      await sleep(250);
      assert.equal(await store.cas(["cas", "old"], "stale", "nope"), false);
      assert.equal(await store.cas(["cas", "old"], undefined, "fresh"), true);
      assert.equal(await store.get(["cas", "old"]), "fresh");
    });

    test("cas is atomic under concurrent callers", async () => {
      await store.set(["cas", "counter"], 0);
      const winners = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.cas(["cas", "counter"], 0, i + 1)),
      );
      assert.equal(winners.filter(Boolean).length, 1);
      const created = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.cas(["cas", "fresh"], undefined, i)),
      );
      assert.equal(created.filter(Boolean).length, 1);
    });

    test("list by prefix", async () => {
      await store.set(["list", "a"], 1);
      await store.set(["list", "a", "x"], 2);
      await store.set(["list", "a", "y"], 3);
      await store.set(["list", "b"], 4);
      await store.set(["listing"], 5);
      await store.set(["list", "gone"], 6, { ttl: Temporal.Duration.from({ milliseconds: 1 }) });
      await sleep(20);
      const under = await collect(store.list(["list"]));
      assert.deepEqual(under, [
        { key: ["list", "a"], value: 1 },
        { key: ["list", "a", "x"], value: 2 },
        { key: ["list", "a", "y"], value: 3 },
        { key: ["list", "b"], value: 4 },
      ]);
      assert.deepEqual(
        (await collect(store.list(["list", "a"]))).map((entry) => entry.key),
        [["list", "a"], ["list", "a", "x"], ["list", "a", "y"]],
      );
      assert.deepEqual(await collect(store.list(["list", "zzz"])), []);
      const all = await collect(store.list());
      const keys = all.map((entry) => JSON.stringify(entry.key));
      assert.ok(keys.includes(JSON.stringify(["listing"])));
      assert.ok(keys.includes(JSON.stringify(["list", "a", "y"])));
      assert.ok(!keys.includes(JSON.stringify(["list", "gone"])));
    });
  });
}
