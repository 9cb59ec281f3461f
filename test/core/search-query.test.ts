/** The status search query parser: words, phrases, exclusions and Mastodon's operators. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseStatusQuery } from "../../src/core/search-query.ts";

describe("parseStatusQuery", () => {
  test("words, quoted phrases and exclusions", () => {
    const parsed = parseStatusQuery(`kittens "very fluffy" -dogs -"big cats" #Caturday`);
    assert.deepEqual(parsed.terms, [
      { text: "kittens", phrase: false, exclude: false },
      { text: "very fluffy", phrase: true, exclude: false },
      { text: "dogs", phrase: false, exclude: true },
      { text: "big cats", phrase: true, exclude: true },
      { text: "#Caturday", phrase: false, exclude: false },
    ]);
    assert.deepEqual(parsed.operators, []);
  });

  test("every operator Mastodon knows", () => {
    const parsed = parseStatusQuery("from:me from:@ann@Remote.Example from:bob has:media -has:poll has:link is:reply -is:sensitive language:FR before:2024-03-01 after:2023-12-31 during:2024-01-15 in:library in:all");
    assert.deepEqual(parsed.terms, []);
    assert.deepEqual(parsed.operators, [
      { kind: "from", account: "me", exclude: false },
      { kind: "from", account: { username: "ann", domain: "remote.example" }, exclude: false },
      { kind: "from", account: { username: "bob", domain: null }, exclude: false },
      { kind: "has", what: "media", exclude: false },
      { kind: "has", what: "poll", exclude: true },
      { kind: "has", what: "link", exclude: false },
      { kind: "is", what: "reply", exclude: false },
      { kind: "is", what: "sensitive", exclude: true },
      { kind: "language", code: "fr", exclude: false },
      { kind: "before", day: new Date("2024-03-01T00:00:00Z"), exclude: false },
      { kind: "after", day: new Date("2023-12-31T00:00:00Z"), exclude: false },
      { kind: "during", day: new Date("2024-01-15T00:00:00Z"), exclude: false },
      { kind: "in", scope: "library", exclude: false },
      { kind: "in", scope: "all", exclude: false },
    ]);
  });

  test("an operator with a value it cannot take, or an unknown one, is a word", () => {
    const parsed = parseStatusQuery("has:feathers before:2024-02-31 colour:red https://example.com/x");
    assert.deepEqual(parsed.operators, []);
    assert.deepEqual(parsed.terms.map((term) => term.text), ["has:feathers", "before:2024-02-31", "colour:red", "https://example.com/x"]);
  });

  test("a quoted operator value, an unclosed quote, and lone signs", () => {
    const parsed = parseStatusQuery(`from:"me" - + "unclosed phrase`);
    assert.deepEqual(parsed.operators, [{ kind: "from", account: "me", exclude: false }]);
    assert.deepEqual(parsed.terms, [{ text: "unclosed phrase", phrase: true, exclude: false }]);
  });

  test("takes at most sixteen clauses", () => {
    const parsed = parseStatusQuery(Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "));
    assert.equal(parsed.terms.length, 16);
  });
});
