/** Rails-style form fields become nested values as Mastodon's clients expect. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nest } from "../../src/api/params.ts";

describe("nest", () => {
  test("arrays, nested objects and indexed objects", () => {
    assert.deepEqual(nest([["media_ids[]", "1"], ["media_ids[]", "2"], ["poll[options][]", "a"], ["poll[options][]", "b"], ["poll[expires_in]", "300"], ["fields_attributes[0][name]", "n"], ["status", "hi"]]), {
      media_ids: ["1", "2"],
      poll: { options: ["a", "b"], expires_in: "300" },
      fields_attributes: { 0: { name: "n" } },
      status: "hi",
    });
  });

  test("a[][b] starts a new item only when the last one has that key", () => {
    assert.deepEqual(nest([["k[][keyword]", "x"], ["k[][whole_word]", "false"], ["k[][keyword]", "y"]]), {
      k: [{ keyword: "x", whole_word: "false" }, { keyword: "y" }],
    });
  });

  test("a repeated plain key keeps the last value", () => {
    assert.deepEqual(nest([["a", "1"], ["a", "2"]]), { a: "2" });
  });
});
