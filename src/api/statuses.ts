/**
 * Mastodon API: statuses. Posting, viewing, threads, editing and its
 * history, deleting, and what the owner does with a status (favourite,
 * boost, bookmark, pin, mute). Rules live in src/core; this translates.
 */
import { Hono, type Context } from "hono";
import { findAccountById, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import {
  bookmarkStatus,
  favouriteStatus,
  listFavouritedBy,
  listRebloggedBy,
  muteConversation,
  pinStatus,
  reblogStatus,
  unbookmarkStatus,
  unfavouriteStatus,
  unmuteConversation,
  unpinStatus,
  unreblogStatus,
} from "../core/interactions.ts";
import type { PollInput } from "../core/polls.ts";
import { listQuotesOf, QUOTE_POLICIES, quoteOnEdit, revokeQuote, setQuotePolicy, type QuotePolicy } from "../core/quotes.ts";
import {
  deleteStatus,
  editStatus,
  findStatus,
  findStatuses,
  parseFocus,
  postStatus,
  statusContext,
  statusHistory,
  VISIBILITIES,
  type MediaAttributesInput,
  type StatusRow,
} from "../core/statuses.ts";
import { canView, filterVisible } from "../core/visibility.ts";
import { requireUser, optionalUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccounts } from "./entities/account.ts";
import { serializeStatus, serializeStatusEdits, serializeStatuses, serializeStatusSource } from "./entities/status.ts";
import { ApiError, forbidden, notFound, unprocessable } from "./errors.ts";
import { readPage, setLinkHeader } from "./pagination.ts";
import { bodyParams, pathId, queryParams, read, type Params } from "./params.ts";
import { scopeAllows } from "../core/scopes.ts";
import { serializeScheduledStatus } from "./scheduled-statuses.ts";

/** At most this many ids in one GET /api/v1/statuses. */
const MAX_STATUS_IDS = 40;

/** A token is required, but an app token (without a user) will do. */
export function requireToken(c: Context<ApiEnv>, scope: string): bigint | null {
  const token = c.get("token");
  if (token == null) throw new ApiError(401, "The access token is invalid");
  if (!scopeAllows(token.scopes, scope)) throw forbidden("This action is outside the authorized scopes");
  return token.accountId;
}

/** A string parameter where "" means absent. */
function optionalString(params: Params, name: string): string | undefined {
  const value = read.string(params, name);
  return value === "" ? undefined : value;
}

/** `poll[options][]`, `poll[expires_in]`, `poll[multiple]`, `poll[hide_totals]`; null when absent. */
export function readPoll(params: Params): PollInput | null {
  if (params.poll == null || params.poll === "") return null;
  const poll = read.object(params, "poll")!;
  const options = read.strings(poll, "options");
  if (options == null) throw unprocessable("poll[options] is missing");
  const expiresIn = read.integer(poll, "expires_in");
  if (expiresIn == null) throw unprocessable("poll[expires_in] is missing");
  return {
    options,
    expiresIn,
    multiple: read.boolean(poll, "multiple") ?? false,
    hideTotals: read.boolean(poll, "hide_totals") ?? false,
  };
}

/**
 * `media_attributes[]`: a JSON array of `{id, description, focus}`, a form's
 * `media_attributes[][id]=…&media_attributes[][description]=…` (merged back
 * into one object per id, as Rails does), or `media_attributes[0][id]=…`.
 */
export function readMediaAttributes(params: Params): MediaAttributesInput[] | undefined {
  const raw = params.media_attributes;
  if (raw == null || raw === "") return undefined;
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === "object") items = Object.values(raw as Record<string, unknown>);
  else throw unprocessable("media_attributes must be a list");
  const merged: Record<string, unknown>[] = [];
  for (const item of items) {
    if (item == null || typeof item !== "object" || Array.isArray(item)) throw unprocessable("media_attributes must be a list of objects");
    const last = merged.at(-1);
    const keys = Object.keys(item);
    if (last != null && keys.every((key) => !(key in last))) Object.assign(last, item);
    else merged.push({ ...(item as Record<string, unknown>) });
  }
  return merged.map((item) => {
    const id = read.id(item, "id");
    if (id == null) throw unprocessable("media_attributes[][id] is missing");
    const result: MediaAttributesInput = { id };
    if ("description" in item) result.description = read.string(item, "description") ?? null;
    if ("focus" in item) {
      const focus = item.focus;
      if (focus == null || focus === "") result.focus = null;
      else {
        const parsed = typeof focus === "string" ? parseFocus(focus) : null;
        if (parsed == null) throw unprocessable("media_attributes[][focus] must be two numbers between -1 and 1, as \"x,y\"");
        result.focus = parsed;
      }
    }
    return result;
  });
}

function readDate(params: Params, name: string): Date | undefined {
  const value = optionalString(params, name);
  if (value == null) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw unprocessable(`${name} is not a valid date`);
  return date;
}

function readLanguage(params: Params): string | null | undefined {
  if (!("language" in params)) return undefined;
  const value = params.language;
  if (value == null || value === "") return null;
  return read.string(params, "language", { max: 16 });
}

/** `quote_approval_policy`: public, followers or nobody; undefined when absent. */
function readQuotePolicy(params: Params): QuotePolicy | undefined {
  const value = optionalString(params, "quote_approval_policy");
  if (value == null) return undefined;
  if (!(QUOTE_POLICIES as readonly string[]).includes(value)) throw unprocessable(`quote_approval_policy must be one of ${QUOTE_POLICIES.join(", ")}`);
  return value as QuotePolicy;
}

async function account(core: CoreContext, id: bigint): Promise<Account> {
  const found = await findAccountById(core, id);
  if (found == null) throw new ApiError(401, "The access token is invalid");
  return found;
}

/** The status when it exists and the viewer may see it; 404 otherwise. */
async function visibleStatus(core: CoreContext, c: Context, viewerId: bigint | null): Promise<StatusRow> {
  const status = await findStatus(core, pathId(c));
  if (status == null || !(await canView(core, status, viewerId))) throw notFound();
  return status;
}

/** The viewer's own status; anyone else's is a 404. */
async function ownStatus(core: CoreContext, c: Context, viewerId: bigint): Promise<StatusRow> {
  const status = await findStatus(core, pathId(c));
  if (status == null || status.accountId !== viewerId) throw notFound();
  return status;
}

export function statusesRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.post("/api/v1/statuses", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const params = await bodyParams(c);
    const visibility = optionalString(params, "visibility");
    if (visibility != null && !(VISIBILITIES as readonly string[]).includes(visibility)) {
      throw unprocessable(`visibility must be one of ${VISIBILITIES.join(", ")}`);
    }
    const idempotencyKey = c.req.header("Idempotency-Key");
    if (idempotencyKey != null && idempotencyKey.length > 256) throw unprocessable("Idempotency-Key is too long");
    const result = await postStatus(core, await account(core, viewerId), {
      text: read.string(params, "status"),
      mediaIds: read.ids(params, "media_ids") ?? [],
      poll: readPoll(params),
      inReplyToId: read.id(params, "in_reply_to_id") ?? null,
      sensitive: read.boolean(params, "sensitive") ?? null,
      spoilerText: read.string(params, "spoiler_text") ?? null,
      visibility: (visibility as StatusRow["visibility"] | undefined) ?? null,
      language: readLanguage(params) ?? null,
      applicationId: c.get("token")?.applicationId ?? null,
      idempotencyKey: idempotencyKey || null,
      scheduledAt: readDate(params, "scheduled_at") ?? null,
      quotedStatusId: read.id(params, "quoted_status_id") ?? null,
      quotePolicy: readQuotePolicy(params) ?? null,
    });
    if (result.scheduled != null) return c.json(await serializeScheduledStatus(core, result.scheduled));
    return c.json(await serializeStatus(core, result.status, viewerId));
  });

  app.get("/api/v1/statuses", async (c) => {
    const viewerId = optionalUser(c, "read:statuses");
    const raw = read.strings(queryParams(c), "id") ?? [];
    if (raw.length > MAX_STATUS_IDS) throw unprocessable(`at most ${MAX_STATUS_IDS} ids can be asked for at once`);
    // As Mastodon: ids that are malformed, unknown or not visible are left out.
    const ids = [...new Set(raw.map((id) => (/^\d{1,19}$/.test(id) ? BigInt(id) : null)).filter((id) => id != null))];
    const rows = await filterVisible(core, await findStatuses(core, ids), viewerId);
    return c.json(await serializeStatuses(core, rows, viewerId));
  });

  app.get("/api/v1/statuses/:id", async (c) => {
    const viewerId = optionalUser(c, "read:statuses");
    const status = await visibleStatus(core, c, viewerId);
    return c.json(await serializeStatus(core, status, viewerId));
  });

  app.put("/api/v1/statuses/:id", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const status = await ownStatus(core, c, viewerId);
    const params = await bodyParams(c);
    const quotePolicy = readQuotePolicy(params);
    const quotedStatusId = read.id(params, "quoted_status_id");
    const author = await account(core, viewerId);
    let updated = await editStatus(core, author, status, {
      text: read.string(params, "status") ?? null,
      spoilerText: read.string(params, "spoiler_text") ?? null,
      sensitive: read.boolean(params, "sensitive") ?? null,
      language: readLanguage(params),
      mediaIds: read.ids(params, "media_ids") ?? [],
      mediaAttributes: readMediaAttributes(params) ?? [],
      poll: readPoll(params),
    });
    if (quotedStatusId != null) await quoteOnEdit(core, author, updated, quotedStatusId);
    if (quotePolicy != null && updated.visibility !== "private" && updated.visibility !== "direct") updated = await setQuotePolicy(core, updated, quotePolicy);
    return c.json(await serializeStatus(core, updated, viewerId));
  });

  // The accepted quotes of a post, newest first (as Mastodon: of any post the viewer may see).
  app.get("/api/v1/statuses/:id/quotes", async (c) => {
    const viewerId = requireUser(c, "read:statuses");
    const status = await visibleStatus(core, c, viewerId);
    const page = readPage(c, 20, 40);
    const entries = await listQuotesOf(core, status, page);
    setLinkHeader(c, core.config.origin, entries.map((entry) => entry.cursorId));
    const rows = await filterVisible(core, entries.map((entry) => entry.status), viewerId);
    return c.json(await serializeStatuses(core, rows, viewerId));
  });

  app.post("/api/v1/statuses/:id/quotes/:quoting_status_id/revoke", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const status = await visibleStatus(core, c, viewerId);
    const raw = c.req.param("quoting_status_id");
    if (!/^\d{1,19}$/.test(raw)) throw notFound();
    const quoting = await revokeQuote(core, await account(core, viewerId), status, BigInt(raw));
    return c.json(await serializeStatus(core, quoting, viewerId));
  });

  app.put("/api/v1/statuses/:id/interaction_policy", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const status = await visibleStatus(core, c, viewerId);
    if (status.accountId !== viewerId) throw forbidden();
    // Absent: the default policy, as Mastodon takes the user's default.
    const policy = readQuotePolicy(await bodyParams(c)) ?? "public";
    // Followers-only and direct posts are quoted by nobody else, whatever is asked.
    if (status.visibility === "private" || status.visibility === "direct") return c.json(await serializeStatus(core, status, viewerId));
    return c.json(await serializeStatus(core, await setQuotePolicy(core, status, policy), viewerId));
  });

  app.delete("/api/v1/statuses/:id", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const status = await ownStatus(core, c, viewerId);
    // Serialised first: the answer carries the source, media and poll for a redraft.
    const body = await serializeStatus(core, status, viewerId, { source: true });
    await deleteStatus(core, status);
    return c.json(body);
  });

  app.get("/api/v1/statuses/:id/context", async (c) => {
    const viewerId = optionalUser(c, "read:statuses");
    const status = await visibleStatus(core, c, viewerId);
    // A remote post's replies are fetched from its server, briefly waited for.
    if (!status.uri.startsWith(`${core.config.origin}/`)) {
      await core.remote.fetchRepliesWithin(status.uri);
    }
    const thread = await statusContext(core, status, viewerId);
    const serialized = await serializeStatuses(core, [...thread.ancestors, ...thread.descendants], viewerId);
    return c.json({
      ancestors: serialized.slice(0, thread.ancestors.length),
      descendants: serialized.slice(thread.ancestors.length),
    });
  });

  app.get("/api/v1/statuses/:id/history", async (c) => {
    const viewerId = optionalUser(c, "read:statuses");
    const status = await visibleStatus(core, c, viewerId);
    return c.json(await serializeStatusEdits(core, await statusHistory(core, status)));
  });

  app.get("/api/v1/statuses/:id/source", async (c) => {
    const viewerId = requireToken(c, "read:statuses");
    const status = await visibleStatus(core, c, viewerId);
    return c.json(serializeStatusSource(status));
  });

  app.post("/api/v1/statuses/:id/translate", async (c) => {
    const viewerId = requireToken(c, "read:statuses");
    const status = await visibleStatus(core, c, viewerId);
    if (status.visibility === "private" || status.visibility === "direct") throw forbidden();
    // The instance reports translation as disabled; clients that ask anyway learn it here.
    throw new ApiError(503, "Translation is not available on this server");
  });

  for (const [path, list] of [["reblogged_by", listRebloggedBy], ["favourited_by", listFavouritedBy]] as const) {
    app.get(`/api/v1/statuses/:id/${path}`, async (c) => {
      const viewerId = optionalUser(c, "read:statuses");
      const status = await visibleStatus(core, c, viewerId);
      const page = readPage(c, 40, 80);
      const entries = await list(core, status, page);
      setLinkHeader(c, core.config.origin, entries.map((entry) => entry.cursorId));
      return c.json(await serializeAccounts(core, entries.map((entry) => entry.account)));
    });
  }

  const actions = [
    ["favourite", "write:favourites", favouriteStatus],
    ["unfavourite", "write:favourites", unfavouriteStatus],
    ["bookmark", "write:bookmarks", bookmarkStatus],
    ["unbookmark", "write:bookmarks", unbookmarkStatus],
    ["pin", "write:accounts", pinStatus],
    ["unpin", "write:accounts", unpinStatus],
    ["mute", "write:mutes", muteConversation],
    ["unmute", "write:mutes", unmuteConversation],
    ["unreblog", "write:statuses", unreblogStatus],
  ] as const;
  for (const [action, scope, run] of actions) {
    app.post(`/api/v1/statuses/:id/${action}`, async (c) => {
      const viewerId = requireUser(c, scope);
      const status = await visibleStatus(core, c, viewerId);
      const result = await run(core, await account(core, viewerId), status);
      // Favouriting a boost favourites the original; the answer is the status asked about.
      return c.json(await serializeStatus(core, (await findStatus(core, status.id)) ?? result, viewerId));
    });
  }

  app.post("/api/v1/statuses/:id/reblog", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const params = await bodyParams(c);
    const visibility = optionalString(params, "visibility");
    if (visibility != null && !["public", "unlisted", "private"].includes(visibility)) {
      throw unprocessable("visibility must be one of public, unlisted, private");
    }
    const status = await visibleStatus(core, c, viewerId);
    const reblog = await reblogStatus(core, await account(core, viewerId), status, {
      visibility: visibility as "public" | "unlisted" | "private" | undefined,
    });
    return c.json(await serializeStatus(core, reblog, viewerId));
  });

  return app;
}
