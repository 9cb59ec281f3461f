/**
 * Mastodon API: direct-message conversations. A Conversation names the
 * other participants (the owner alone for notes to self), its latest
 * status and whether it is unread.
 */
import { Hono } from "hono";
import { accountsByIds } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import {
  deleteConversation,
  listConversations,
  markConversationRead,
  type AccountConversation,
} from "../core/conversations.ts";
import { parseId } from "../core/ids.ts";
import { statusesByIds } from "../core/timelines.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccount, type MastodonAccount } from "./entities/account.ts";
import { serializeStatuses, type MastodonStatus } from "./entities/status.ts";
import { pathId } from "./params.ts";
import { readPage } from "./pagination.ts";
import { setCursorLinkHeader } from "./saved.ts";

export interface MastodonConversation {
  id: string;
  unread: boolean;
  accounts: MastodonAccount[];
  last_status: MastodonStatus | null;
}

/** Conversations as Mastodon's Conversation entity, in the order given. */
export async function serializeConversations(
  core: CoreContext,
  rows: readonly AccountConversation[],
  viewerId: bigint,
): Promise<MastodonConversation[]> {
  const participantIds = [...new Set(rows.flatMap((row) => row.participantIds.map((id) => parseId(id)).filter((id): id is bigint => id != null)))];
  const accountIds = [...new Set([...participantIds, ...rows.map((row) => row.accountId)])];
  const accountJson = new Map<bigint, MastodonAccount>();
  for (const account of (await accountsByIds(core, accountIds)).values()) accountJson.set(account.id, await serializeAccount(core, account));

  const statusRows = await statusesByIds(core, rows.flatMap((row) => (row.lastStatusId == null ? [] : [row.lastStatusId])));
  const statusJson = new Map<string, MastodonStatus>();
  for (const status of await serializeStatuses(core, statusRows, viewerId)) statusJson.set(status.id, status);

  return rows.map((row) => {
    const others = row.participantIds
      .map((id) => parseId(id))
      .flatMap((id) => (id == null ? [] : [accountJson.get(id)].filter((a): a is MastodonAccount => a != null)));
    const self = accountJson.get(row.accountId);
    return {
      id: row.id.toString(),
      unread: row.unread,
      accounts: others.length > 0 || self == null ? others : [self],
      last_status: row.lastStatusId == null ? null : (statusJson.get(row.lastStatusId.toString()) ?? null),
    };
  });
}

export function conversationsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/conversations", async (c) => {
    const ownerId = requireUser(c, "read:statuses");
    const page = readPage(c);
    const rows = await listConversations(core, ownerId, page);
    const body = await serializeConversations(core, rows, ownerId);
    const first = rows[0]?.lastStatusId;
    const last = rows[rows.length - 1]?.lastStatusId;
    setCursorLinkHeader(c, core.config.origin, first == null || last == null ? null : { newest: first, oldest: last }, rows.length === page.limit);
    return c.json(body);
  });

  app.post("/api/v1/conversations/:id/read", async (c) => {
    const ownerId = requireUser(c, "write:conversations");
    const row = await markConversationRead(core, ownerId, pathId(c));
    const [body] = await serializeConversations(core, [row], ownerId);
    return c.json(body);
  });

  app.delete("/api/v1/conversations/:id", async (c) => {
    const ownerId = requireUser(c, "write:conversations");
    await deleteConversation(core, ownerId, pathId(c));
    return c.json({});
  });

  return app;
}
