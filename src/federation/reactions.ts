/**
 * Emoji reactions from Misskey, Pleroma and Akkoma: an EmojiReact (or a
 * Like carrying an emoji in `content`, as Misskey sends along with
 * `_misskey_reaction`) on a post Islet has. A custom emoji comes with an
 * Emoji tag naming its image.
 */
import type { InboxContext } from "@fedify/fedify";
import { Emoji, EmojiReact, Image, Link, type Like } from "@fedify/vocab";
import { findAccountByUri } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { addReaction, normalizeReactionName, removeReaction } from "../core/reactions.ts";
import { findStatusByUri } from "../core/remote-statuses.ts";
import { fetchOptions } from "./domain-policy.ts";
import { senderAccount } from "./inbox-statuses.ts";

/** The emoji a reaction names, and a custom emoji's image. */
async function emojiOf(ctx: InboxContext<void>, core: CoreContext, activity: EmojiReact | Like): Promise<{ name: string; emojiUrl: string | null } | null> {
  const content = activity.content == null ? null : normalizeReactionName(String(activity.content));
  if (content == null) return null;
  let emojiUrl: string | null = null;
  if (/^:[^:]+:$/.test(content)) {
    for await (const tag of activity.getTags({ ...fetchOptions(core, ctx), suppressError: true })) {
      if (!(tag instanceof Emoji) || tag.name == null) continue;
      const name = String(tag.name);
      if (name !== content && `:${name.replace(/^:|:$/g, "")}:` !== content) continue;
      const icon = await tag.getIcon({ ...fetchOptions(core, ctx), suppressError: true }).catch(() => null);
      const url = icon instanceof Image ? icon.url : null;
      emojiUrl = url instanceof URL ? url.href : url instanceof Link ? url.href?.href ?? null : null;
      break;
    }
  }
  return { name: content, emojiUrl };
}

/** Stores a reaction; returns whether the activity was one. */
export async function onReaction(ctx: InboxContext<void>, core: CoreContext, activity: EmojiReact | Like): Promise<boolean> {
  if (activity.actorId == null || activity.objectId == null) return false;
  const emoji = await emojiOf(ctx, core, activity);
  if (emoji == null) return false;
  const status = await findStatusByUri(core, activity.objectId.href);
  if (status == null) return true;
  const reactor = await senderAccount(ctx, core, activity);
  if (reactor == null || reactor.domain == null) return true;
  await addReaction(core, reactor, status, { ...emoji, uri: activity.id?.href ?? null }).catch((error) => {
    core.log.debug(`a reaction from ${reactor.uri} was not stored`, error);
  });
  return true;
}

export async function onEmojiReact(ctx: InboxContext<void>, core: CoreContext, react: EmojiReact): Promise<void> {
  await onReaction(ctx, core, react);
}

/** Undo of an EmojiReact (or of a Like that carried one). */
export async function onUndoReaction(core: CoreContext, actorId: URL, activity: EmojiReact | Like | null, activityId: URL | null): Promise<void> {
  const reactor = await findAccountByUri(core, actorId.href);
  if (reactor == null) return;
  if (activity != null && activity.actorId != null && activity.actorId.href !== actorId.href) return;
  const status = activity?.objectId == null ? undefined : (await findStatusByUri(core, activity.objectId.href)) ?? undefined;
  const name = activity?.content == null ? null : String(activity.content);
  await removeReaction(core, reactor, {
    uri: activity?.id?.href ?? activityId?.href ?? null,
    // Without the emoji, by the activity's IRI only.
    status: name == null ? undefined : status,
    name,
  });
}
