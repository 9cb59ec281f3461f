/**
 * The owner changing their own password and e-mail address from the
 * settings, each with the current password. A wrong current password counts
 * as a failed sign-in (src/core/sign-in-limits.ts), so a borrowed browser
 * session cannot be used to guess it.
 *
 * A new address is used at once when this server has no mail; with mail,
 * it waits as `unconfirmed_email` until the link mailed to it is followed
 * (`email_change.requested` carries the link's token to the mail reaction;
 * only its hash is stored).
 */
import { randomBytes } from "node:crypto";
import { and, eq, gt } from "drizzle-orm";
import { users } from "../db/schema.ts";
import { endOtherBrowserSessions } from "./authorized-apps.ts";
import { getOwner, type Owner } from "./accounts.ts";
import { CoreError, type CoreContext } from "./context.ts";
import { hashPassword, passwordProblem, verifyPassword, MAX_PASSWORD_LENGTH } from "./passwords.ts";
import { admitSignInAttempt, signInAttemptFailed, signInAttemptSucceeded } from "./sign-in-limits.ts";
import { hashToken } from "./token-hash.ts";

/** How long the confirmation link of a new address works. */
export const EMAIL_CONFIRMATION_LIFETIME_MS = 24 * 60 * 60 * 1000;

export type CurrentPasswordCheck =
  | { ok: true; owner: Owner }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

/** Checks the owner's current password, counted as a sign-in attempt from `clientKey`. */
export async function checkCurrentPassword(
  ctx: CoreContext,
  input: { password: string; clientKey: string; ip?: string | null },
): Promise<CurrentPasswordCheck> {
  const owner = await getOwner(ctx);
  if (owner == null) throw new CoreError("not_found", "There is no owner account yet");
  const admission = await admitSignInAttempt(ctx, { accountId: owner.account.id, clientKey: input.clientKey, ip: input.ip ?? null });
  if (!admission.ok) return { ok: false, reason: "throttled", retryAfterSeconds: admission.retryAfterSeconds };
  const valid = input.password.length > 0 && input.password.length <= MAX_PASSWORD_LENGTH &&
    await verifyPassword(input.password, owner.user.passwordHash);
  if (!valid) {
    await signInAttemptFailed(ctx, admission.attempt);
    return { ok: false, reason: "invalid" };
  }
  await signInAttemptSucceeded(ctx, admission.attempt);
  return { ok: true, owner };
}

/**
 * Sets a new password for the owner (whose current one was checked) and
 * ends every other browser session; returns how many ended.
 */
export async function changeOwnerPassword(ctx: CoreContext, owner: Owner, password: string, keepSessionId: string | null): Promise<number> {
  const problem = passwordProblem(password);
  if (problem != null) throw new CoreError("invalid", problem);
  const passwordHash = await hashPassword(password);
  await ctx.db
    .update(users)
    .set({ passwordHash, resetPasswordTokenHash: null, resetPasswordSentAt: null, updatedAt: new Date() })
    .where(eq(users.id, owner.user.id));
  const ended = await endOtherBrowserSessions(ctx, owner.account.id, keepSessionId);
  ctx.log.info(`the password was changed in the settings; ${ended} other browser session(s) ended`);
  return ended;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Whether this server can mail a confirmation link. */
export function mailEnabled(ctx: CoreContext): boolean {
  return ctx.config.smtp.server != null;
}

/**
 * Changes the owner's address: at once without mail ("changed"), or after
 * the link mailed to the new address is followed ("confirmation_sent").
 */
export async function requestEmailChange(ctx: CoreContext, owner: Owner, email: string): Promise<"changed" | "confirmation_sent" | "unchanged"> {
  const address = email.trim();
  if (address.length > 320 || !EMAIL_PATTERN.test(address)) throw new CoreError("invalid", "That is not an e-mail address");
  if (address.toLowerCase() === owner.user.email.toLowerCase()) {
    await ctx.db
      .update(users)
      .set({ unconfirmedEmail: null, confirmationTokenHash: null, confirmationSentAt: null, updatedAt: new Date() })
      .where(eq(users.id, owner.user.id));
    return "unchanged";
  }
  if (!mailEnabled(ctx)) {
    await ctx.db
      .update(users)
      .set({ email: address, unconfirmedEmail: null, confirmationTokenHash: null, confirmationSentAt: null, updatedAt: new Date() })
      .where(eq(users.id, owner.user.id));
    return "changed";
  }
  const token = randomBytes(32).toString("base64url");
  const now = new Date();
  await ctx.db
    .update(users)
    .set({ unconfirmedEmail: address, confirmationTokenHash: hashToken(token), confirmationSentAt: now, updatedAt: now })
    .where(eq(users.id, owner.user.id));
  await ctx.events.emit("email_change.requested", {
    accountId: owner.account.id,
    email: address,
    token,
    expiresAt: new Date(now.getTime() + EMAIL_CONFIRMATION_LIFETIME_MS),
  });
  return "confirmation_sent";
}

/** Follows a confirmation link: the waiting address becomes the owner's. Returns it, or null for an unknown or expired link. */
export async function confirmEmailChange(ctx: CoreContext, token: string): Promise<string | null> {
  if (token === "" || token.length > 200) return null;
  const oldest = new Date(Date.now() - EMAIL_CONFIRMATION_LIFETIME_MS);
  const rows = await ctx.db
    .select({ id: users.id, unconfirmedEmail: users.unconfirmedEmail })
    .from(users)
    .where(and(eq(users.confirmationTokenHash, hashToken(token)), gt(users.confirmationSentAt, oldest)))
    .limit(1);
  const row = rows[0];
  if (row?.unconfirmedEmail == null) return null;
  const done = await ctx.db
    .update(users)
    .set({ email: row.unconfirmedEmail, unconfirmedEmail: null, confirmationTokenHash: null, confirmationSentAt: null, updatedAt: new Date() })
    .where(and(eq(users.id, row.id), eq(users.confirmationTokenHash, hashToken(token))))
    .returning({ email: users.email });
  return done[0]?.email ?? null;
}
