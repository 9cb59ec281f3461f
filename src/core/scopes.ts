/**
 * OAuth scopes as Mastodon defines them: `read`, `write`, `follow`, `push`,
 * `profile`, and granular ones such as `read:statuses`. A broad scope grants
 * its granular ones; `follow` grants the follow, block and mute scopes.
 * `profile` grants nothing else and nothing grants it: a route that also
 * serves broader tokens (verify_credentials) lists `read:accounts` beside it.
 */

export const TOP_SCOPES = ["read", "write", "follow", "push", "profile"] as const;

export const GRANULAR_SCOPES = [
  "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters", "read:follows",
  "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
  "write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites",
  "write:filters", "write:follows", "write:lists", "write:media", "write:mutes", "write:notifications",
  "write:reports", "write:statuses",
] as const;

const ALL = new Set<string>([...TOP_SCOPES, ...GRANULAR_SCOPES]);

const FOLLOW_GRANTS = new Set(["read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"]);

/** Splits a space- or plus-separated scope string; unknown scopes are returned too. */
export function parseScopes(value: string | undefined | null): string[] {
  return [...new Set((value ?? "").split(/[\s+]+/).filter((s) => s !== ""))];
}

/** The scopes of a list that Islet does not know. */
export function unknownScopes(scopes: string[]): string[] {
  return scopes.filter((scope) => !ALL.has(scope));
}

/** Whether the granted scopes allow `required`. */
export function scopeAllows(granted: readonly string[], required: string): boolean {
  for (const scope of granted) {
    if (scope === required) return true;
    if (!scope.includes(":") && required.startsWith(`${scope}:`)) return true;
    if (scope === "follow" && FOLLOW_GRANTS.has(required)) return true;
  }
  return false;
}

/** Whether every scope in `requested` lies within `allowed` (an app's scopes). */
export function scopesWithin(requested: readonly string[], allowed: readonly string[]): boolean {
  return requested.every((scope) => scopeAllows(allowed, scope));
}
