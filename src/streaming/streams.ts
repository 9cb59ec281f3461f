/**
 * The streams a client may subscribe to, as Mastodon's streaming server
 * names them, and the checks a subscription passes: the token's scopes,
 * the `tag` and `list` parameters, and that a list is the viewer's.
 */
import { and, eq } from "drizzle-orm";
import { scopeAllows } from "../core/scopes.ts";
import type { CoreContext } from "../core/context.ts";
import { parseId } from "../core/ids.ts";
import { lists } from "../db/schema.ts";

export const STREAM_NAMES = [
  "user",
  "user:notification",
  "public",
  "public:media",
  "public:local",
  "public:local:media",
  "public:remote",
  "public:remote:media",
  "hashtag",
  "hashtag:local",
  "list",
  "direct",
] as const;

export type StreamName = (typeof STREAM_NAMES)[number];

/** One subscribable stream, with its parameter resolved. */
export interface Stream {
  readonly name: StreamName;
  /** The tag as stored (no `#`, NFKC, lower case): hashtag streams only. */
  readonly tag?: string;
  readonly listId?: bigint;
  /** What events carry in `stream`: the name, and the tag or list as the client gave it. */
  readonly label: readonly string[];
  /** Identifies the stream for one viewer: subscribing twice is subscribing once. */
  readonly key: string;
}

/** A subscription refused, with Mastodon's message and status. */
export class StreamError extends Error {
  readonly status: 400 | 401;
  constructor(status: 400 | 401, message: string) {
    super(message);
    this.name = "StreamError";
    this.status = status;
  }
}

/** The account and scopes a streaming connection was authenticated with. */
export interface StreamViewer {
  readonly accountId: bigint;
  readonly scopes: readonly string[];
  /** The access token the connection was opened with. */
  readonly tokenId?: bigint;
}

/** The parameters of a subscription: `tag` and `list`, as given. */
export interface StreamParams {
  tag?: unknown;
  list?: unknown;
}

function isStreamName(name: string): name is StreamName {
  return (STREAM_NAMES as readonly string[]).includes(name);
}

/** A hashtag as tags are stored. */
export function normalizeTag(tag: string): string {
  return tag.trim().replace(/^#/, "").normalize("NFKC").toLowerCase();
}

/** The first value of a parameter that may have been repeated. */
function firstString(value: unknown): string | null {
  if (Array.isArray(value)) return firstString(value[0]);
  if (typeof value === "number") return String(value);
  return typeof value === "string" && value !== "" ? value : null;
}

/** Whether the viewer's token may read this stream (Mastodon's checkScopes). */
export function mayRead(viewer: StreamViewer, name: string): boolean {
  const granular = name === "user:notification" ? "read:notifications" : "read:statuses";
  return viewer.scopes.includes("read") || viewer.scopes.includes(granular);
}

/** Whether `user` also carries notifications (the token may read them). */
export function userStreamHasNotifications(viewer: StreamViewer): boolean {
  return scopeAllows(viewer.scopes, "read:notifications");
}

/**
 * Resolves a subscription request to a stream, or throws a
 * {@link StreamError} as Mastodon words it.
 */
export async function resolveStream(
  ctx: CoreContext,
  viewer: StreamViewer,
  rawName: unknown,
  params: StreamParams,
): Promise<Stream> {
  const name = firstString(rawName) ?? "";
  if (!mayRead(viewer, name)) throw new StreamError(401, "Access token does not have the required scopes");
  if (!isStreamName(name)) throw new StreamError(400, "Unknown stream type");
  if (name === "hashtag" || name === "hashtag:local") {
    const given = firstString(params.tag);
    const tag = given == null ? "" : normalizeTag(given);
    if (given == null || tag === "") throw new StreamError(400, "Missing tag name parameter");
    return { name, tag, label: [name, given], key: `${name}:${tag}` };
  }
  if (name === "list") {
    const given = firstString(params.list);
    if (given == null) throw new StreamError(400, "Missing list name parameter");
    const listId = parseId(given);
    const owned = listId == null
      ? []
      : await ctx.db
        .select({ id: lists.id })
        .from(lists)
        .where(and(eq(lists.id, listId), eq(lists.accountId, viewer.accountId)))
        .limit(1);
    if (listId == null || owned.length === 0) throw new StreamError(401, "Not authorized to stream this list");
    return { name, listId, label: [name, given], key: `list:${listId}` };
  }
  return { name, label: [name], key: name };
}

/** The stream an SSE path names (Mastodon's channelNameFromPath), or null. */
export function streamNameFromPath(path: string, onlyMedia: boolean): StreamName | null {
  const media = onlyMedia ? ":media" : "";
  switch (path.replace(/\/+$/, "")) {
    case "/api/v1/streaming/user": return "user";
    case "/api/v1/streaming/user/notification": return "user:notification";
    case "/api/v1/streaming/public": return `public${media}` as StreamName;
    case "/api/v1/streaming/public/local": return `public:local${media}` as StreamName;
    case "/api/v1/streaming/public/remote": return `public:remote${media}` as StreamName;
    case "/api/v1/streaming/hashtag": return "hashtag";
    case "/api/v1/streaming/hashtag/local": return "hashtag:local";
    case "/api/v1/streaming/list": return "list";
    case "/api/v1/streaming/direct": return "direct";
    default: return null;
  }
}
