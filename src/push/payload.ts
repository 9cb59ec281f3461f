/**
 * What a push message says, in the shape Mastodon's clients decrypt and
 * read: `access_token`, `preferred_locale`, `notification_id`,
 * `notification_type`, `icon`, `title` and `body`. The title names who did
 * what; the body is the post's content warning or text, or for a follow the
 * follower's bio, as plain text of at most 140 characters.
 */
import type { Account } from "../core/accounts.ts";
import { htmlToPlainText } from "../core/filters.ts";
import type { NotificationRow } from "../core/notifications.ts";
import type { statuses } from "../db/schema.ts";

type Status = typeof statuses.$inferSelect;

/** The longest body, in characters, as Mastodon cuts it. */
export const MAX_BODY_LENGTH = 140;

export interface PushPayload {
  /** The subscribing token; clients tell accounts apart by it. */
  access_token?: string;
  preferred_locale: string;
  /** A JSON number, as Mastodon sends it; written with all its digits. */
  notification_id: bigint;
  notification_type: string;
  icon: string;
  title: string;
  body: string;
}

const TITLES: Record<string, (name: string) => string> = {
  mention: (name) => `${name} mentioned you`,
  status: (name) => `${name} just posted`,
  reblog: (name) => `${name} boosted your post`,
  follow: (name) => `${name} is now following you`,
  follow_request: (name) => `${name} asked to follow you`,
  favourite: (name) => `${name} favourited your post`,
  poll: (name) => `A poll by ${name} has ended`,
  update: (name) => `${name} edited a post`,
  quote: (name) => `${name} quoted your post`,
  quoted_update: (name) => `${name} edited a post you quoted`,
  "admin.sign_up": (name) => `${name} signed up`,
  "admin.report": (name) => `${name} filed a report`,
};

/** The title of a notification of `type` from someone called `name`. */
export function pushTitle(type: string, name: string): string {
  return (TITLES[type] ?? ((who: string) => `New notification from ${who}`))(name);
}

/** Cuts `text` to `max` characters (counting code points), ending in an ellipsis when cut. */
export function truncate(text: string, max = MAX_BODY_LENGTH): string {
  const characters = [...text];
  if (characters.length <= max) return text;
  return `${characters.slice(0, max - 1).join("").trimEnd()}…`;
}

/** The body: the status's content warning or text, else the sender's bio; plain and short. */
export function pushBody(from: Pick<Account, "note">, status: Pick<Status, "spoilerText" | "content"> | null): string {
  // A content warning is plain text already; the post and the bio are HTML.
  const text = status != null && status.spoilerText.trim() !== ""
    ? status.spoilerText
    : htmlToPlainText((status == null ? from.note : status.content) ?? "");
  return truncate(text.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim());
}

export interface PushPayloadInput {
  notification: Pick<NotificationRow, "id" | "type">;
  from: Pick<Account, "displayName" | "username" | "note" | "avatarUrl">;
  status: Pick<Status, "spoilerText" | "content"> | null;
  accessToken: string | null;
  locale: string;
  /** The server's origin, for the placeholder avatar. */
  origin: string;
}

export function buildPushPayload(input: PushPayloadInput): PushPayload {
  const name = input.from.displayName.trim() || input.from.username;
  const payload: PushPayload = {
    preferred_locale: input.locale || "en",
    notification_id: input.notification.id,
    notification_type: input.notification.type,
    icon: input.from.avatarUrl ?? `${input.origin}/avatars/original/missing.png`,
    title: pushTitle(input.notification.type, name),
    body: pushBody(input.from, input.status),
  };
  return input.accessToken == null ? payload : { access_token: input.accessToken, ...payload };
}

/** The payload as JSON text; `notification_id` is a number with every digit kept. */
export function serializePushPayload(payload: PushPayload): string {
  const id = payload.notification_id.toString();
  // An id is digits only, and inside a JSON string every quote is escaped,
  // so the quoted id after its key can only be the value itself.
  return JSON.stringify({ ...payload, notification_id: id }).replace(`"notification_id":"${id}"`, `"notification_id":${id}`);
}
