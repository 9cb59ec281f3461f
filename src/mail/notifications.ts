/**
 * Mail as a reaction to core events: the owner is mailed about a new mention,
 * follower, follow request or report, for each kind they switched on. The
 * switches live in `kv_entries` under ["mail_preferences", accountId]; by
 * default only follow requests and reports are mailed.
 *
 * Account mail cannot be switched off: a password reset link when one is
 * asked for, a notice when an app is authorized on the account, and one
 * when failed sign-ins lock it (once per lock-out).
 *
 * Nothing here sends directly: each mail goes through `mailer.send`, onto
 * the durable queue. A mail is sent once per mention, follow or report even
 * when its event comes again (a repeated Follow).
 */
import type { KvKey } from "@fedify/fedify";
import { and, eq } from "drizzle-orm";
import { findAccountById, getOwner, type Account, type Owner } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findApplicationById } from "../core/oauth.ts";
import { hidesNotificationsFrom } from "../core/relationships.ts";
import { DatabaseKvStore } from "../db/kv-store.ts";
import { mentions, reports, statuses } from "../db/schema.ts";
import type { MailMessage, Mailer } from "./mailer.ts";
import {
  appAuthorizedMessage,
  followMessage,
  followRequestMessage,
  mentionMessage,
  passwordResetMessage,
  emailConfirmationMessage,
  reportMessage,
  signInLockedMessage,
  type MailAccount,
} from "./messages.ts";

export const MAIL_NOTIFICATION_KINDS = ["mention", "follow", "follow_request", "report"] as const;
export type MailNotificationKind = (typeof MAIL_NOTIFICATION_KINDS)[number];
export type MailPreferences = Record<MailNotificationKind, boolean>;

export const DEFAULT_MAIL_PREFERENCES: Readonly<MailPreferences> = Object.freeze({
  mention: false,
  follow: false,
  follow_request: true,
  report: true,
});

/** How long a sent notification is remembered, against repeated events. */
const SENT_MEMORY = { days: 30 } as const;

function preferencesKey(accountId: bigint): KvKey {
  return ["mail_preferences", accountId.toString()];
}

function kvOf(core: CoreContext): DatabaseKvStore {
  return new DatabaseKvStore(core.database);
}

/** The owner's switches: the stored ones over the defaults. */
export async function getMailPreferences(core: CoreContext, accountId: bigint): Promise<MailPreferences> {
  const stored = await kvOf(core).get<Partial<Record<string, unknown>>>(preferencesKey(accountId));
  const preferences: MailPreferences = { ...DEFAULT_MAIL_PREFERENCES };
  if (stored != null && typeof stored === "object") {
    for (const kind of MAIL_NOTIFICATION_KINDS) {
      if (typeof stored[kind] === "boolean") preferences[kind] = stored[kind];
    }
  }
  return preferences;
}

/**
 * Changes some switches, keeping the others; returns the whole result.
 * Unknown kinds and values that are not booleans are refused.
 */
export async function setMailPreferences(
  core: CoreContext,
  accountId: bigint,
  changes: Partial<MailPreferences>,
): Promise<MailPreferences> {
  for (const [kind, value] of Object.entries(changes)) {
    if (!(MAIL_NOTIFICATION_KINDS as readonly string[]).includes(kind)) {
      throw new TypeError(`unknown mail notification kind ${JSON.stringify(kind)}; expected ${MAIL_NOTIFICATION_KINDS.join(", ")}`);
    }
    if (value !== undefined && typeof value !== "boolean") throw new TypeError(`${kind} must be true or false`);
  }
  const current = await getMailPreferences(core, accountId);
  const next: MailPreferences = { ...current };
  for (const kind of MAIL_NOTIFICATION_KINDS) {
    const value = changes[kind];
    if (value !== undefined) next[kind] = value;
  }
  await kvOf(core).set(preferencesKey(accountId), next);
  return next;
}

function mailAccount(account: Account): MailAccount {
  return {
    username: account.username,
    domain: account.domain,
    displayName: account.displayName,
    url: account.url,
    uri: account.uri,
  };
}

/**
 * Subscribes the mail reactions on `core.events`. Returns a function that
 * unsubscribes them.
 */
export function registerMailNotifications(core: CoreContext, mailer: Mailer): () => void {
  // Without SMTP there is nothing to send, and no "mailed once" marker to spend.
  if (!mailer.enabled) return () => {};
  const kv = kvOf(core);

  /** The owner, when they want mail of this kind. */
  async function recipientFor(kind: MailNotificationKind): Promise<Owner | null> {
    const owner = await getOwner(core);
    if (owner == null) return null;
    const preferences = await getMailPreferences(core, owner.account.id);
    if (!preferences[kind]) return null;
    return owner;
  }

  /**
   * Sends the mail unless it was sent before for this kind and id (events
   * may come twice: a repeated Follow). Forgets it again if queueing fails.
   */
  async function sendOnce(kind: MailNotificationKind, subjectId: bigint, build: () => MailMessage): Promise<void> {
    const key: KvKey = ["mail_sent", kind, subjectId.toString()];
    if (!await kv.cas(key, undefined, true, { ttl: SENT_MEMORY })) return;
    try {
      await mailer.send(build());
    } catch (error) {
      await kv.delete(key).catch(() => {});
      throw error;
    }
  }

  const unsubscribe = [
    core.events.on("status.created", async ({ statusId, accountId }) => {
      const owner = await recipientFor("mention");
      if (owner == null || accountId === owner.account.id) return;
      const rows = await core.db
        .select({ status: statuses, silent: mentions.silent })
        .from(mentions)
        .innerJoin(statuses, eq(statuses.id, mentions.statusId))
        .where(and(eq(mentions.statusId, statusId), eq(mentions.accountId, owner.account.id)))
        .limit(1);
      const row = rows[0];
      if (row == null || row.silent || row.status.reblogOfId != null) return;
      const author = await findAccountById(core, accountId);
      if (author == null || await hidesNotificationsFrom(core, owner.account.id, author)) return;
      await sendOnce("mention", statusId, () => mentionMessage(core.config, {
        to: owner.user.email,
        author: mailAccount(author),
        status: {
          url: row.status.url,
          uri: row.status.uri,
          content: row.status.content,
          spoilerText: row.status.spoilerText,
          visibility: row.status.visibility,
        },
      }));
    }),

    core.events.on("follow.received", async ({ followId, accountId, targetAccountId, pending }) => {
      const kind: MailNotificationKind = pending ? "follow_request" : "follow";
      const owner = await recipientFor(kind);
      if (owner == null || targetAccountId !== owner.account.id) return;
      const follower = await findAccountById(core, accountId);
      if (follower == null || await hidesNotificationsFrom(core, owner.account.id, follower)) return;
      const build = pending ? followRequestMessage : followMessage;
      await sendOnce(kind, followId, () => build(core.config, { to: owner.user.email, follower: mailAccount(follower) }));
    }),

    core.events.on("report.created", async ({ reportId, accountId, targetAccountId }) => {
      const owner = await recipientFor("report");
      // The owner's own reports are forwarded, not mailed back.
      if (owner == null || accountId === owner.account.id) return;
      const [reporter, target, report] = await Promise.all([
        findAccountById(core, accountId),
        findAccountById(core, targetAccountId),
        core.db.select().from(reports).where(eq(reports.id, reportId)).limit(1).then((rows) => rows[0] ?? null),
      ]);
      if (reporter == null || target == null || report == null) return;
      await sendOnce("report", reportId, () => reportMessage(core.config, {
        to: owner.user.email,
        reporter: mailAccount(reporter),
        target: mailAccount(target),
        comment: report.comment,
        category: report.category,
        statusCount: report.statusIds.length,
      }));
    }),

    core.events.on("password_reset.requested", async ({ accountId, token, expiresAt }) => {
      const owner = await getOwner(core);
      if (owner == null || owner.account.id !== accountId) return;
      const minutes = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 60_000));
      await mailer.send(passwordResetMessage(core.config, {
        to: owner.user.email,
        username: owner.account.username,
        token,
        validForMinutes: minutes,
      }));
    }),

    core.events.on("email_change.requested", async ({ accountId, email, token }) => {
      const owner = await getOwner(core);
      if (owner == null || owner.account.id !== accountId) return;
      await mailer.send(emailConfirmationMessage(core.config, { to: email, username: owner.account.username, token }));
    }),

    core.events.on("sign_in.locked", async ({ accountId, failures, addresses, moreAddresses, lockedAt, lockedUntil }) => {
      const owner = await getOwner(core);
      if (owner == null || owner.account.id !== accountId) return;
      await mailer.send(signInLockedMessage(core.config, {
        to: owner.user.email,
        username: owner.account.username,
        failures,
        addresses,
        moreAddresses,
        lockedAt,
        lockedUntil,
      }));
    }),

    core.events.on("oauth.authorized", async ({ applicationId, accountId, scopes, ip, authorizedAt }) => {
      const owner = await getOwner(core);
      if (owner == null || owner.account.id !== accountId) return;
      const application = await findApplicationById(core, applicationId);
      if (application == null) return;
      await mailer.send(appAuthorizedMessage(core.config, {
        to: owner.user.email,
        appName: application.name,
        website: application.website,
        scopes,
        at: authorizedAt,
        ip,
      }));
    }),
  ];

  return () => {
    for (const off of unsubscribe) off();
  };
}
