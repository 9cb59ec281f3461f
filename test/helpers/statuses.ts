/** Statuses stored straight in the database, without the core's checks. */
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { mediaAttachments, mentions, statuses } from "../../src/db/schema.ts";

type StatusRow = typeof statuses.$inferSelect;

export interface StatusFixture {
  visibility?: StatusRow["visibility"];
  /** Default: nothing for a boost, else `<p>post ID</p>`. */
  content?: string;
  spoilerText?: string;
  /** The web page, given the status's id (default: none). */
  url?: (id: bigint) => string | null;
  reblogOf?: StatusRow;
  inReplyTo?: StatusRow;
  /** Default: the parent's, else the status's own id. */
  conversationId?: bigint | null;
  mentions?: readonly Account[];
  /** Attach one remote image. */
  media?: boolean;
}

/** Stores a status of `account` at `${account.uri}/statuses/ID`, with its mentions and media. */
export async function insertTestStatus(core: CoreContext, account: Account, options: StatusFixture = {}): Promise<StatusRow> {
  const id = newId();
  const [row] = await core.db.insert(statuses).values({
    id,
    accountId: account.id,
    uri: `${account.uri}/statuses/${id}`,
    url: options.url?.(id) ?? null,
    content: options.reblogOf != null ? "" : (options.content ?? `<p>post ${id}</p>`),
    spoilerText: options.spoilerText ?? "",
    visibility: options.visibility ?? "public",
    reblogOfId: options.reblogOf?.id ?? null,
    inReplyToId: options.inReplyTo?.id ?? null,
    inReplyToAccountId: options.inReplyTo?.accountId ?? null,
    conversationId: options.conversationId ?? options.inReplyTo?.conversationId ?? id,
  }).returning();
  for (const mentioned of options.mentions ?? []) {
    await core.db.insert(mentions).values({ id: newId(), statusId: id, accountId: mentioned.id });
  }
  if (options.media) {
    await core.db.insert(mediaAttachments).values({
      id: newId(), accountId: account.id, statusId: id, type: "image", contentType: "image/png", remoteUrl: "https://remote.example/a.png",
    });
  }
  return row;
}
