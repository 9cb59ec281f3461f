/** Reading an archive's collections item by item, whatever falls on a chunk boundary. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { readCollectionItems } from "../../../src/core/imports/collection-items.ts";

describe("reading collection items from disk", () => {
  let dir: string | undefined;
  after(async () => {
    if (dir != null) await rm(dir, { recursive: true, force: true });
  });

  async function itemsOf(document: string): Promise<unknown[]> {
    dir ??= await mkdtemp(join(tmpdir(), "islet-items-"));
    const path = join(dir, `c-${Math.random()}.json`);
    await writeFile(path, document);
    const items: unknown[] = [];
    for await (const { item } of readCollectionItems(path)) items.push(item);
    return items;
  }

  test("objects and IRIs, with quotes, brackets and long text spanning chunks", async () => {
    const items = [
      { id: "a", content: 'he said "}]" and left', tag: [{ name: "#x" }] },
      "https://example.com/notes/1",
      { id: "b", content: "é".repeat(400_000), nested: { orderedItems: [1, 2] } },
      { id: "c" },
    ];
    const document = JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: "outbox.json", type: "OrderedCollection", totalItems: 4, orderedItems: items, after: ["x"] });
    assert.deepEqual(await itemsOf(document), items);
  });

  test("a key split across chunks is still found", async () => {
    // The 256 KiB chunk boundary falls inside the key "orderedItems".
    const padding = "p".repeat(256 * 1024 - 15);
    const document = `{"pad":"${padding}","orderedItems":[{"id":"one"}]}`;
    assert.deepEqual(await itemsOf(document), [{ id: "one" }]);
  });

  test("a file that is not a collection is refused", async () => {
    await assert.rejects(itemsOf('{"type":"Person"}'), /not an ActivityPub collection/);
    await assert.rejects(itemsOf("[1, 2]"), /not a JSON object/);
    await assert.rejects(itemsOf('{"orderedItems":[{"id": nope}]}'), /not JSON/);
  });
});
