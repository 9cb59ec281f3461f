/**
 * Resetting the owner's password by email, as Mastodon does it: asking
 * with the owner's address stores the hash of a random one-time token and
 * emits `password_reset.requested` (the mail reaction sends the link); the
 * token then sets a new password once, within {@link PASSWORD_RESET_LIFETIME_MS},
 * and every browser session ends. The answer to a request never tells
 * whether the address was the owner's.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import { hashToken } from "./token-hash.ts";
import { oauthTokens, users } from "../db/schema.ts";
import { getOwner, type Owner } from "./accounts.ts";
import { CoreError, type CoreContext } from "./context.ts";
import { endAllWebSessions, randomSecret, rateLimiters } from "./oauth.ts";
import { hashPassword, passwordProblem } from "./passwords.ts";
import { clearAccountSignInLimit } from "./sign-in-limits.ts";

/** How long a reset link works. */
export const PASSWORD_RESET_LIFETIME_MS = 60 * 60 * 1000;
/** A new link is mailed at most this often, whoever asks. */
export const PASSWORD_RESET_RESEND_MS = 60 * 1000;
/** Tokens are 43 URL-safe characters; anything much longer is not one. */
const MAX_TOKEN_LENGTH = 200;

export type PasswordResetRequestResult =
  | { ok: true }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

function sameAddress(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Asks for a reset link for `email`. When it is the owner's address (and no
 * link went out in the last minute), a new token replaces any earlier one
 * and `password_reset.requested` carries it to the mailer. Every request
 * counts towards `clientKey`'s limit; the result is the same whether or not
 * the address matched.
 */
export async function requestPasswordReset(
  ctx: CoreContext,
  input: { email: string; clientKey: string },
): Promise<PasswordResetRequestResult> {
  const limiter = rateLimiters(ctx).passwordReset;
  const wait = limiter.retryAfter(input.clientKey);
  if (wait > 0) return { ok: false, reason: "throttled", retryAfterSeconds: wait };
  limiter.record(input.clientKey);
  const email = input.email.trim();
  if (email === "" || email.length > 320) return { ok: true };
  const owner = await getOwner(ctx);
  if (owner == null || !sameAddress(owner.user.email, email)) return { ok: true };
  const sentAt = owner.user.resetPasswordSentAt;
  const now = new Date();
  if (owner.user.resetPasswordTokenHash != null && sentAt != null && now.getTime() - sentAt.getTime() < PASSWORD_RESET_RESEND_MS) {
    return { ok: true };
  }
  const token = randomSecret();
  await ctx.db
    .update(users)
    .set({ resetPasswordTokenHash: hashToken(token), resetPasswordSentAt: now })
    .where(eq(users.id, owner.user.id));
  await ctx.events.emit("password_reset.requested", {
    accountId: owner.account.id,
    token,
    expiresAt: new Date(now.getTime() + PASSWORD_RESET_LIFETIME_MS),
  });
  return { ok: true };
}

/** The owner whose live reset token this is; null for an unknown, used or expired one. */
export async function findPasswordReset(ctx: CoreContext, token: string | null | undefined): Promise<Owner | null> {
  if (token == null || token === "" || token.length > MAX_TOKEN_LENGTH) return null;
  const owner = await getOwner(ctx);
  if (owner == null) return null;
  const { resetPasswordTokenHash: hash, resetPasswordSentAt: sentAt } = owner.user;
  if (hash == null || sentAt == null || hash !== hashToken(token)) return null;
  if (Date.now() - sentAt.getTime() >= PASSWORD_RESET_LIFETIME_MS) return null;
  return owner;
}

export type PasswordResetResult =
  | { ok: true; owner: Owner; endedSessions: number; revokedTokens: number }
  | { ok: false; reason: "invalid_token" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

/**
 * Sets the owner's password with a reset token: the token must be live,
 * the password acceptable (a CoreError("invalid") says why not, the token
 * stays usable). On success the token is spent, every browser session
 * ends and every app's access token is revoked (as Mastodon does: a reset
 * may follow a stolen password). Unknown tokens count towards `clientKey`'s
 * limit.
 */
export async function resetPassword(
  ctx: CoreContext,
  input: { token: string; password: string; clientKey: string },
): Promise<PasswordResetResult> {
  const limiter = rateLimiters(ctx).passwordReset;
  const wait = limiter.retryAfter(input.clientKey);
  if (wait > 0) return { ok: false, reason: "throttled", retryAfterSeconds: wait };
  const owner = await findPasswordReset(ctx, input.token);
  if (owner == null) {
    limiter.record(input.clientKey);
    return { ok: false, reason: "invalid_token" };
  }
  const problem = passwordProblem(input.password);
  if (problem != null) throw new CoreError("invalid", problem);
  const passwordHash = await hashPassword(input.password);
  const oldest = new Date(Date.now() - PASSWORD_RESET_LIFETIME_MS);
  const ended = await ctx.db.transaction(async (tx) => {
    // Only one use of the token can clear it, however many race.
    const spent = await tx
      .update(users)
      .set({ passwordHash, resetPasswordTokenHash: null, resetPasswordSentAt: null, updatedAt: new Date() })
      .where(and(
        eq(users.id, owner.user.id),
        eq(users.resetPasswordTokenHash, hashToken(input.token)),
        gt(users.resetPasswordSentAt, oldest),
      ))
      .returning({ id: users.id });
    if (spent.length === 0) return null;
    const sessions = await endAllWebSessions({ db: tx as unknown as CoreContext["db"] }, owner.account.id);
    const tokens = await tx
      .update(oauthTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(oauthTokens.accountId, owner.account.id), isNull(oauthTokens.revokedAt)))
      .returning({ id: oauthTokens.id });
    return { sessions, tokenIds: tokens.map((row) => row.id) };
  });
  if (ended == null) return { ok: false, reason: "invalid_token" };
  // The new password is known only to whoever got the mail: a sign-in lock-out need not stand.
  await clearAccountSignInLimit(ctx, owner.account.id);
  // Open streaming connections of those tokens close.
  if (ended.tokenIds.length > 0) await ctx.events.emit("oauth.tokens_revoked", { tokenIds: ended.tokenIds });
  ctx.log.info(`the password of @${owner.account.username} was reset by email; ${ended.sessions} browser session(s) ended, ${ended.tokenIds.length} app token(s) revoked`);
  return { ok: true, owner, endedSessions: ended.sessions, revokedTokens: ended.tokenIds.length };
}
