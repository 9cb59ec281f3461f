/**
 * A status search query as Mastodon's search reads it: words and "quoted
 * phrases" that must all appear, `-` before any of them (or an operator)
 * to exclude it, and the operators
 *
 * - `from:me`, `from:user`, `from:@user@domain`
 * - `has:media|image|video|audio|poll|link|embed`
 * - `is:reply|sensitive`
 * - `language:xx`
 * - `before:`, `after:`, `during:` a day (YYYY-MM-DD, UTC)
 * - `in:library|all|public`
 *
 * An operator that is unknown or has a value it cannot take is searched
 * as a word, as Mastodon does.
 */

export type SearchOperator =
  | { kind: "from"; account: "me" | { username: string; domain: string | null } }
  | { kind: "has"; what: "media" | "image" | "video" | "audio" | "poll" | "link" | "embed" }
  | { kind: "is"; what: "reply" | "sensitive" }
  | { kind: "language"; code: string }
  | { kind: "before" | "after" | "during"; day: Date }
  | { kind: "in"; scope: "library" | "all" | "public" };

export interface SearchTerm {
  /** A word (a hashtag keeps its `#`) or a phrase. */
  text: string;
  phrase: boolean;
  exclude: boolean;
}

export interface ParsedStatusQuery {
  terms: SearchTerm[];
  operators: (SearchOperator & { exclude: boolean })[];
}

const HAS = ["media", "image", "video", "audio", "poll", "link", "embed"] as const;
const IS = ["reply", "sensitive"] as const;
const IN = ["library", "all", "public"] as const;

/** At most this many terms and operators are taken from a query. */
export const MAX_SEARCH_CLAUSES = 16;

function oneOf<T extends string>(values: readonly T[], value: string): T | null {
  return (values as readonly string[]).includes(value) ? (value as T) : null;
}

/** A day as YYYY-MM-DD, at 00:00 UTC; null for anything else. */
function readDay(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match == null) return null;
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  // 2024-02-31 is no day.
  return day.toISOString().slice(0, 10) === value ? day : null;
}

function readOperator(name: string, value: string): SearchOperator | null {
  const lower = value.toLowerCase();
  switch (name) {
    case "from": {
      if (lower === "me") return { kind: "from", account: "me" };
      const match = /^@?([a-z0-9_.-]+)(?:@([a-z0-9.-]+(?::\d+)?))?$/i.exec(value);
      return match == null ? null : { kind: "from", account: { username: match[1], domain: match[2]?.toLowerCase() ?? null } };
    }
    case "has": {
      const what = oneOf(HAS, lower);
      return what == null ? null : { kind: "has", what };
    }
    case "is": {
      const what = oneOf(IS, lower);
      return what == null ? null : { kind: "is", what };
    }
    case "language":
      return /^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$/i.test(value) ? { kind: "language", code: lower } : null;
    case "before":
    case "after":
    case "during": {
      const day = readDay(value);
      return day == null ? null : { kind: name, day };
    }
    case "in": {
      const scope = oneOf(IN, lower);
      return scope == null ? null : { kind: "in", scope };
    }
    default:
      return null;
  }
}

/** Splits a query into its terms and operators. */
export function parseStatusQuery(q: string): ParsedStatusQuery {
  const parsed: ParsedStatusQuery = { terms: [], operators: [] };
  // A clause: an optional sign, then "a phrase", or name:"a phrase", or a run of non-space.
  const clause = /([+-]?)(?:"([^"]*)"?|([a-z_]+):"([^"]*)"?|(\S+))/giy;
  let at = 0;
  while (at < q.length && parsed.terms.length + parsed.operators.length < MAX_SEARCH_CLAUSES) {
    const space = /\s*/y;
    space.lastIndex = at;
    space.exec(q);
    at = space.lastIndex;
    if (at >= q.length) break;
    clause.lastIndex = at;
    const match = clause.exec(q);
    if (match == null) break;
    at = clause.lastIndex;
    const exclude = match[1] === "-";
    const [, , phrase, quotedName, quotedValue, bare] = match;
    if (phrase != null) {
      if (phrase.trim() !== "") parsed.terms.push({ text: phrase.trim(), phrase: true, exclude });
      continue;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (quotedName != null) {
      name = quotedName.toLowerCase();
      value = quotedValue;
    } else {
      const colon = /^([a-z_]+):(.+)$/i.exec(bare);
      if (colon != null) {
        name = colon[1].toLowerCase();
        value = colon[2];
      }
    }
    const operator = name == null || value == null ? null : readOperator(name, value);
    if (operator != null) {
      parsed.operators.push({ ...operator, exclude });
      continue;
    }
    const text = quotedName != null ? `${quotedName}:${quotedValue}` : bare;
    if (text === "-" || text === "+") continue;
    parsed.terms.push({ text, phrase: quotedName != null, exclude });
  }
  return parsed;
}
