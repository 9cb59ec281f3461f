/** Tag rows as Mastodon's Tag entity (with a week of use), and a status's tags. */
import type { CoreContext } from "../../core/context.ts";
import { tagHistory, tagMarks, type Tag, type TagDay } from "../../core/tags.ts";

export interface MastodonTag {
  id: string;
  name: string;
  url: string;
  history: TagDay[];
  following?: boolean;
  featuring?: boolean;
}

/** The short form a Status carries in `tags`. */
export interface MastodonStatusTag {
  name: string;
  url: string;
}

export function tagUrl(origin: string, name: string): string {
  return `${origin}/tags/${encodeURIComponent(name)}`;
}

export function serializeStatusTag(origin: string, tag: Tag): MastodonStatusTag {
  return { name: tag.name, url: tagUrl(origin, tag.name) };
}

/** Serialises tags with their history, and for a viewer whether it follows and features each. */
export async function serializeTags(ctx: CoreContext, tags: readonly Tag[], viewerId: bigint | null): Promise<MastodonTag[]> {
  if (tags.length === 0) return [];
  const ids = tags.map((tag) => tag.id);
  const [history, { following, featuring }] = await Promise.all([
    tagHistory(ctx, ids),
    viewerId == null ? { following: new Set<bigint>(), featuring: new Set<bigint>() } : tagMarks(ctx, ids, viewerId),
  ]);
  return tags.map((tag) => ({
    id: tag.id.toString(),
    name: tag.displayName,
    url: tagUrl(ctx.config.origin, tag.name),
    history: history.get(tag.id) ?? [],
    ...(viewerId == null ? {} : { following: following.has(tag.id), featuring: featuring.has(tag.id) }),
  }));
}

export async function serializeTag(ctx: CoreContext, tag: Tag, viewerId: bigint | null): Promise<MastodonTag> {
  return (await serializeTags(ctx, [tag], viewerId))[0];
}
