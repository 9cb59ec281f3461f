/**
 * What the database says about where media are: the owner's avatar and
 * header are kept as URLs, which name the store they were saved in. After
 * `islet media migrate` they are pointed at the new one.
 */
import { eq, isNull } from "drizzle-orm";
import { DatabaseKvStore } from "../db/kv-store.ts";
import { accounts } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { getPreferences } from "./profile.ts";

/**
 * Rewrites the local accounts' avatar and header URLs (and their stills,
 * kept with the preferences) that start with one
 * of `fromBases` (followed by `/KEY`) to `toUrl(KEY)`. Returns how many
 * URLs changed.
 */
export async function relocateLocalMediaUrls(ctx: CoreContext, fromBases: readonly string[], toUrl: (key: string) => string): Promise<number> {
  const keyOf = (url: string | null): string | null => {
    if (url == null) return null;
    for (const base of fromBases) if (url.startsWith(`${base}/`)) return url.slice(base.length + 1);
    return null;
  };
  let changed = 0;
  const rows = await ctx.db.select({ id: accounts.id, avatarUrl: accounts.avatarUrl, headerUrl: accounts.headerUrl }).from(accounts).where(isNull(accounts.domain));
  for (const row of rows) {
    const set: { avatarUrl?: string; headerUrl?: string } = {};
    const avatar = keyOf(row.avatarUrl);
    const header = keyOf(row.headerUrl);
    if (avatar != null && toUrl(avatar) !== row.avatarUrl) set.avatarUrl = toUrl(avatar);
    if (header != null && toUrl(header) !== row.headerUrl) set.headerUrl = toUrl(header);
    if (Object.keys(set).length > 0) {
      await ctx.db.update(accounts).set(set).where(eq(accounts.id, row.id));
      changed += Object.keys(set).length;
    }
    const preferences = await getPreferences(ctx, row.id);
    let moved = false;
    for (const name of ["avatarStaticUrl", "headerStaticUrl"] as const) {
      const key = keyOf(preferences[name]);
      if (key != null && toUrl(key) !== preferences[name]) {
        preferences[name] = toUrl(key);
        moved = true;
        changed++;
      }
    }
    // The same key as src/core/profile.ts keeps the preferences under.
    if (moved) await new DatabaseKvStore(ctx.database).set(["preferences", row.id.toString()], preferences);
  }
  return changed;
}
