/**
 * Every id in a Mastodon API answer is a string: a JSON number past 2^53
 * reaches a JavaScript client already changed. These find the ones that
 * are not, in a parsed answer and in its raw text.
 */

const ID_KEY = /^(id|.+_id)$/;
const IDS_KEY = /^.+_ids$/;

/** The paths of ids (`id`, `*_id`, items of `*_ids`) that are JSON numbers. */
export function numericIds(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => numericIds(item, `${path}[${index}]`));
  if (value == null || typeof value !== "object") return [];
  const found: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    if (ID_KEY.test(key) && typeof member === "number") found.push(`${path}.${key}`);
    if (IDS_KEY.test(key) && Array.isArray(member)) {
      member.forEach((item, index) => {
        if (typeof item === "number") found.push(`${path}.${key}[${index}]`);
      });
    }
    found.push(...numericIds(member, `${path}.${key}`));
  }
  return found;
}

/** Integers in raw JSON text that a JavaScript number cannot hold exactly (outside strings). */
export function unsafeIntegers(json: string): string[] {
  const found: string[] = [];
  // Strings are skipped whole; what is left are numbers, literals and punctuation.
  for (const match of json.matchAll(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) {
    const token = match[0];
    if (token.startsWith("\"") || /[.eE]/.test(token)) continue;
    if (!Number.isSafeInteger(Number(token)) || BigInt(token) !== BigInt(Number(token))) found.push(token);
  }
  return found;
}

/**
 * An answer as the Mastodon description types it, for a schema check:
 * where the description has an integer id (a scheduled status's
 * `params.in_reply_to_id` and `application_id`, a notification group's
 * `most_recent_notification_id`), Islet sends a string; the check sees the
 * number it stands for.
 */
export function asDescribed(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(asDescribed);
  if (body == null || typeof body !== "object") return body;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) copy[key] = asDescribed(value);
  if (typeof copy.most_recent_notification_id === "string") copy.most_recent_notification_id = Number(copy.most_recent_notification_id);
  const params = copy.params as Record<string, unknown> | undefined;
  if (typeof copy.scheduled_at === "string" && params != null && typeof params === "object" && "application_id" in params) {
    for (const key of ["in_reply_to_id", "application_id"]) {
      if (typeof params[key] === "string") params[key] = Number(params[key]);
    }
    if (params.application_id == null) params.application_id = 0;
  }
  return copy;
}
