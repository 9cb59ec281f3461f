/** Islet's statuses as ActivityPub objects. */
import type { Context } from "@fedify/fedify";
import { Note, PUBLIC_COLLECTION } from "@fedify/vocab";
import { toInstant, toInstantOrNull } from "./time.ts";
import type { Account } from "../core/accounts.ts";
import type { statuses } from "../db/schema.ts";

type Status = typeof statuses.$inferSelect;

/** The addressing Mastodon uses for each visibility. */
export function addressing(ctx: Context<void>, author: Account, visibility: Status["visibility"]) {
  const followers = ctx.getFollowersUri(author.username);
  switch (visibility) {
    case "public":
      return { tos: [PUBLIC_COLLECTION], ccs: [followers] };
    case "unlisted":
      return { tos: [followers], ccs: [PUBLIC_COLLECTION] };
    case "private":
      return { tos: [followers], ccs: [] };
    case "direct":
      return { tos: [], ccs: [] };
  }
}

/** A local status as a Note. */
export function noteFromStatus(ctx: Context<void>, author: Account, status: Status): Note {
  return new Note({
    id: new URL(status.uri),
    attribution: ctx.getActorUri(author.username),
    content: status.content,
    summary: status.spoilerText === "" ? null : status.spoilerText,
    sensitive: status.sensitive,
    url: status.url == null ? null : new URL(status.url),
    published: toInstant(status.createdAt),
    updated: toInstantOrNull(status.editedAt),
    ...addressing(ctx, author, status.visibility),
  });
}
