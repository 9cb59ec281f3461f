/** Islet's statuses as ActivityPub objects: Note, or Question for polls. */
import type { Context } from "@fedify/fedify";
import { Document, Hashtag, InteractionPolicy, InteractionRule, LanguageString, Mention, Note, PUBLIC_COLLECTION, Question } from "@fedify/vocab";
import { Collection } from "@fedify/vocab";
import { asc, eq, inArray } from "drizzle-orm";
import type { Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findQuoteOf, quotePolicyOf } from "../core/quotes.ts";
import { findStatusWithAuthor } from "../core/statuses.ts";
import { accounts, mediaAttachments, mentions, polls, statusTags, statuses, tags } from "../db/schema.ts";
import { toInstant, toInstantOrNull } from "./time.ts";
import { mediaUrl } from "../media/storage/index.ts";

type Status = typeof statuses.$inferSelect;
type Poll = typeof polls.$inferSelect;
type Media = typeof mediaAttachments.$inferSelect;

/** A status with everything its ActivityPub object names. */
export interface FederatedStatus {
  status: Status;
  author: Account;
  mentioned: Account[];
  tagNames: string[];
  media: Media[];
  poll: Poll | null;
  inReplyToUri: string | null;
  /** The post it quotes, and the stamp approving it once accepted. */
  quote: { uri: string; authorizationUri: string | null } | null;
}

/** Loads a status and what its object needs, or null when it is gone. */
export async function loadFederatedStatus(core: CoreContext, statusId: bigint): Promise<FederatedStatus | null> {
  const row = await findStatusWithAuthor(core, statusId);
  if (row == null) return null;
  const [mentioned, tagRows, media, pollRows, parent, quote] = await Promise.all([
    core.db.select({ account: accounts }).from(mentions).innerJoin(accounts, eq(accounts.id, mentions.accountId)).where(eq(mentions.statusId, statusId)),
    core.db.select({ name: tags.displayName }).from(statusTags).innerJoin(tags, eq(tags.id, statusTags.tagId)).where(eq(statusTags.statusId, statusId)),
    core.db.select().from(mediaAttachments).where(eq(mediaAttachments.statusId, statusId)).orderBy(asc(mediaAttachments.position), asc(mediaAttachments.id)),
    core.db.select().from(polls).where(eq(polls.statusId, statusId)).limit(1),
    row.status.inReplyToId == null
      ? Promise.resolve([])
      : core.db.select({ uri: statuses.uri }).from(statuses).where(eq(statuses.id, row.status.inReplyToId)).limit(1),
    findQuoteOf(core, statusId),
  ]);
  return {
    status: row.status,
    author: row.author,
    mentioned: mentioned.map((m) => m.account),
    tagNames: tagRows.map((t) => t.name),
    media,
    poll: pollRows[0] ?? null,
    inReplyToUri: parent[0]?.uri ?? null,
    // As Mastodon: the quoted post is named whatever the quote's state; the stamp only while it stands.
    quote: quote == null ? null : { uri: quote.quotedUri, authorizationUri: quote.state === "accepted" ? quote.authorizationUri : null },
  };
}

/**
 * Who may quote a post, as GoToSocial's and Mastodon's `interactionPolicy`
 * says it: anyone (Public), the author's followers, or nobody else; the
 * author always may.
 */
export function quotePolicyDocument(ctx: Context<void>, author: Account, status: Status): InteractionPolicy {
  const policy = status.visibility === "private" || status.visibility === "direct" ? "nobody" : quotePolicyOf(status, ctx.canonicalOrigin);
  const actor = ctx.getActorUri(author.username);
  const automatic = policy === "public" ? [PUBLIC_COLLECTION] : policy === "followers" ? [ctx.getFollowersUri(author.username)] : [];
  return new InteractionPolicy({ canQuote: new InteractionRule({ automaticApprovals: [...automatic, actor] }) });
}

/** The addressing Mastodon uses for each visibility. */
export function addressing(ctx: Context<void>, author: Account, visibility: Status["visibility"], mentioned: readonly Account[] = []) {
  const followers = ctx.getFollowersUri(author.username);
  const mentionedUris = mentioned.map((account) => new URL(account.uri));
  switch (visibility) {
    case "public":
      return { tos: [PUBLIC_COLLECTION], ccs: [followers, ...mentionedUris] };
    case "unlisted":
      return { tos: [followers], ccs: [PUBLIC_COLLECTION, ...mentionedUris] };
    case "private":
      return { tos: [followers], ccs: mentionedUris };
    case "direct":
      return { tos: mentionedUris, ccs: [] };
  }
}

function mediaDocument(origin: string, media: Media): Document {
  const url = media.fileKey != null ? mediaUrl(origin, media.fileKey) : media.remoteUrl;
  const original = media.meta.original;
  return new Document({
    mediaType: media.contentType,
    url: url == null ? null : new URL(url),
    name: media.description,
    width: typeof original?.width === "number" ? original.width : null,
    height: typeof original?.height === "number" ? original.height : null,
  });
}

/** A local status as a Note, or a Question when it carries a poll. */
export function objectFromStatus(ctx: Context<void>, data: FederatedStatus): Note | Question {
  const { status, author } = data;
  const origin = ctx.canonicalOrigin;
  const values = {
    id: new URL(status.uri),
    attribution: ctx.getActorUri(author.username),
    // Fedify takes either `content` or `contents`; with a language the
    // post carries both the plain content and its contentMap.
    ...(status.language == null
      ? { content: status.content }
      : { contents: [status.content, new LanguageString(status.content, status.language)] }),
    summary: status.spoilerText === "" ? null : status.spoilerText,
    sensitive: status.sensitive,
    url: status.url == null ? null : new URL(status.url),
    published: toInstant(status.createdAt),
    updated: toInstantOrNull(status.editedAt),
    replyTarget: data.inReplyToUri == null ? null : new URL(data.inReplyToUri),
    attachments: data.media.map((media) => mediaDocument(origin, media)),
    tags: [
      ...data.mentioned.map((account) => new Mention({
        href: new URL(account.uri),
        name: account.domain == null ? `@${account.username}@${ctx.hostname}` : `@${account.username}@${account.domain}`,
      })),
      ...data.tagNames.map((name) => new Hashtag({ href: new URL(`${origin}/tags/${encodeURIComponent(name.toLowerCase())}`), name: `#${name}` })),
    ],
    ...addressing(ctx, author, status.visibility, data.mentioned),
    interactionPolicy: quotePolicyDocument(ctx, author, status),
    // FEP-044f's `quote`, and quoteUrl (which Fedify also writes as
    // _misskey_quote and quoteUri) for servers that know only those.
    ...(data.quote == null
      ? {}
      : {
        quote: new URL(data.quote.uri),
        quoteUrl: new URL(data.quote.uri),
        quoteAuthorization: data.quote.authorizationUri == null ? null : new URL(data.quote.authorizationUri),
      }),
  };
  if (data.poll == null) return new Note(values);
  const { poll } = data;
  const options = poll.options.map((title, index) => new Note({
    name: title,
    replies: new Collection({ totalItems: poll.votesCounts[index] ?? 0 }),
  }));
  const expired = poll.expiresAt != null && poll.expiresAt.getTime() <= Date.now();
  return new Question({
    ...values,
    exclusiveOptions: poll.multiple ? [] : options,
    inclusiveOptions: poll.multiple ? options : [],
    endTime: toInstantOrNull(poll.expiresAt),
    closed: expired && poll.expiresAt != null ? toInstant(poll.expiresAt) : null,
    voters: poll.votersCount ?? 0,
  });
}

/** Remote accounts with an inbox among a list of account ids. */
export async function remoteRecipients(core: CoreContext, ids: readonly bigint[]): Promise<Account[]> {
  if (ids.length === 0) return [];
  const rows = await core.db.select().from(accounts).where(inArray(accounts.id, [...ids]));
  return rows.filter((account) => account.domain != null && account.inboxUrl != null);
}
