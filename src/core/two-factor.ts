/**
 * Two-factor sign-in with a time-based one-time password (TOTP, RFC 6238:
 * SHA-1, six digits, 30-second steps, as every authenticator app reads it)
 * and ten single-use recovery codes.
 *
 * - Setting up stores a new secret (sealed with AES-256-GCM under a key
 *   derived from SECRET_KEY_BASE) that only counts once a code made from it
 *   is confirmed; confirming hands out the recovery codes, once (only their
 *   SHA-256 hashes are kept).
 * - A code is accepted for the current step or one either side (clock
 *   drift), and never for a step at or before the last one accepted: a code
 *   seen over a shoulder or in a log cannot be used again.
 * - Signing in with two factors goes through a challenge: the right
 *   password yields a short-lived challenge id (kept hashed in `kv_entries`),
 *   and the code is then checked against it. Both steps count as sign-in
 *   attempts under src/core/sign-in-limits.ts, and only the whole sign-in
 *   clears the counts, so a wrong code is limited exactly as a wrong password is.
 */
import { randomBytes } from "node:crypto";
import type { KvKey } from "@fedify/fedify";
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { Secret, TOTP } from "otpauth";
import { toDataURL } from "qrcode";
import { DatabaseKvStore } from "../db/kv-store.ts";
import { users } from "../db/schema.ts";
import { getOwner, type Owner } from "./accounts.ts";
import { CoreError, type CoreContext } from "./context.ts";
import { verifyPassword } from "./passwords.ts";
import { seal, unseal } from "./sealing.ts";
import { admitSignInAttempt, signInAttemptFailed, signInAttemptSucceeded } from "./sign-in-limits.ts";
import { hashToken } from "./token-hash.ts";

/** Seconds per TOTP step. */
export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
/** How many recovery codes are handed out. */
export const RECOVERY_CODE_COUNT = 10;
/** How long the code may be entered after the password was right. */
export const CHALLENGE_LIFETIME_MS = 5 * 60 * 1000;

/** What the TOTP secret is sealed for (see sealing.ts). */
const SEALED_FOR = "two-factor sign-in secrets";

function totpOf(secretBase32: string, label = "", issuer = ""): TOTP {
  return new TOTP({ issuer, label, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD, secret: Secret.fromBase32(secretBase32) });
}

/** The time step a code made now belongs to. */
export function timeStep(now = Date.now()): number {
  return Math.floor(now / 1000 / TOTP_PERIOD);
}

/** The code for `secretBase32` at `now` (what an authenticator app shows). */
export function totpCode(secretBase32: string, now = Date.now()): string {
  return totpOf(secretBase32).generate({ timestamp: now });
}

/** The step `code` is valid for (now, or one step either side), or null. */
export function matchingTimeStep(secretBase32: string, code: string, now = Date.now()): number | null {
  const token = code.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpOf(secretBase32).validate({ token, timestamp: now, window: 1 });
  return delta == null ? null : timeStep(now) + delta;
}

export interface TwoFactorStatus {
  enabled: boolean;
  enabledAt: Date | null;
  recoveryCodesLeft: number;
}

export function twoFactorStatus(owner: Owner): TwoFactorStatus {
  return {
    enabled: owner.user.otpEnabledAt != null && owner.user.otpSecret != null,
    enabledAt: owner.user.otpEnabledAt,
    recoveryCodesLeft: owner.user.otpRecoveryCodeHashes.length,
  };
}

/** Whether signing in to this owner needs a second factor. */
export function requiresTwoFactor(owner: Owner): boolean {
  return twoFactorStatus(owner).enabled;
}

export interface TwoFactorSetup {
  /** The secret in base32, for typing in by hand. */
  secret: string;
  /** The `otpauth://` URI the QR code holds. */
  uri: string;
  /** The QR code as an SVG `data:` URL. */
  qrCode: string;
}

function setupOf(ctx: CoreContext, owner: Owner, secret: string): Promise<TwoFactorSetup> {
  const uri = totpOf(secret, `${owner.account.username}@${ctx.config.localDomain}`, ctx.config.localDomain).toString();
  return toDataURL(uri, { errorCorrectionLevel: "M", margin: 2, width: 240 }).then((qrCode) => ({ secret, uri, qrCode }));
}

/**
 * Starts setting up TOTP: a new secret, required at sign-in only once a
 * code made from it is confirmed. Refused while two-factor sign-in is on.
 */
export async function beginTwoFactorSetup(ctx: CoreContext): Promise<TwoFactorSetup> {
  const owner = await requireOwnerOf(ctx);
  if (requiresTwoFactor(owner)) throw new CoreError("invalid", "Two-factor sign-in is already on");
  const secret = new Secret({ size: 20 }).base32;
  await ctx.db
    .update(users)
    .set({ otpSecret: seal(ctx.config.secretKeyBase, SEALED_FOR, secret), otpEnabledAt: null, otpLastTimeStep: null, otpRecoveryCodeHashes: [], updatedAt: new Date() })
    .where(eq(users.id, owner.user.id));
  return await setupOf(ctx, owner, secret);
}

/** The setup under way (secret and QR code again), or null when none is. */
export async function pendingTwoFactorSetup(ctx: CoreContext): Promise<TwoFactorSetup | null> {
  const owner = await requireOwnerOf(ctx);
  if (requiresTwoFactor(owner) || owner.user.otpSecret == null) return null;
  const secret = unseal(ctx.config.secretKeyBase, SEALED_FOR, owner.user.otpSecret);
  return secret == null ? null : await setupOf(ctx, owner, secret);
}

function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const hex = randomBytes(5).toString("hex");
    return `${hex.slice(0, 5)}-${hex.slice(5)}`;
  });
}

function normalizeRecoveryCode(code: string): string {
  return code.trim().toLowerCase().replace(/[\s-]+/g, "");
}

function recoveryCodeHash(code: string): string {
  return hashToken(`islet-recovery:${normalizeRecoveryCode(code)}`);
}

/**
 * Confirms the setup with a code from the app: two-factor sign-in is on
 * from now. Returns the recovery codes, which are never shown again; null
 * when the code is wrong.
 */
export async function confirmTwoFactorSetup(ctx: CoreContext, code: string, now = Date.now()): Promise<string[] | null> {
  const owner = await requireOwnerOf(ctx);
  if (requiresTwoFactor(owner)) throw new CoreError("invalid", "Two-factor sign-in is already on");
  const secret = owner.user.otpSecret == null ? null : unseal(ctx.config.secretKeyBase, SEALED_FOR, owner.user.otpSecret);
  if (secret == null) throw new CoreError("invalid", "Start setting up two-factor sign-in first");
  const step = matchingTimeStep(secret, code, now);
  if (step == null) return null;
  const codes = newRecoveryCodes();
  const updated = await ctx.db
    .update(users)
    .set({ otpEnabledAt: new Date(now), otpLastTimeStep: step, otpRecoveryCodeHashes: codes.map(recoveryCodeHash), updatedAt: new Date() })
    .where(and(eq(users.id, owner.user.id), eq(users.otpSecret, owner.user.otpSecret!), isNull(users.otpEnabledAt)))
    .returning({ id: users.id });
  if (updated.length === 0) return null;
  ctx.log.info("two-factor sign-in was turned on");
  return codes;
}

/** New recovery codes in place of the old ones (which stop working). */
export async function regenerateRecoveryCodes(ctx: CoreContext): Promise<string[]> {
  const owner = await requireOwnerOf(ctx);
  if (!requiresTwoFactor(owner)) throw new CoreError("invalid", "Two-factor sign-in is off");
  const codes = newRecoveryCodes();
  await ctx.db.update(users).set({ otpRecoveryCodeHashes: codes.map(recoveryCodeHash), updatedAt: new Date() }).where(eq(users.id, owner.user.id));
  return codes;
}

/** Turns two-factor sign-in off (from the settings page, or `islet account 2fa disable`). Returns whether it was on. */
export async function disableTwoFactor(ctx: CoreContext): Promise<boolean> {
  const owner = await requireOwnerOf(ctx);
  const wasOn = requiresTwoFactor(owner);
  await ctx.db
    .update(users)
    .set({ otpSecret: null, otpEnabledAt: null, otpLastTimeStep: null, otpRecoveryCodeHashes: [], updatedAt: new Date() })
    .where(eq(users.id, owner.user.id));
  if (wasOn) ctx.log.info("two-factor sign-in was turned off");
  return wasOn;
}

/**
 * Checks a second factor: a TOTP code (six digits) not used before, or an
 * unused recovery code, which is spent. Safe under races: a step or a
 * recovery code is claimed by one conditional update.
 */
export async function verifySecondFactor(ctx: CoreContext, owner: Owner, code: string, now = Date.now()): Promise<"totp" | "recovery" | null> {
  if (!requiresTwoFactor(owner) || code.length > 100) return null;
  const secret = unseal(ctx.config.secretKeyBase, SEALED_FOR, owner.user.otpSecret!);
  if (secret == null) return null;
  const step = matchingTimeStep(secret, code, now);
  if (step != null) {
    const claimed = await ctx.db
      .update(users)
      .set({ otpLastTimeStep: step })
      .where(and(eq(users.id, owner.user.id), or(isNull(users.otpLastTimeStep), lt(users.otpLastTimeStep, step))))
      .returning({ id: users.id });
    return claimed.length > 0 ? "totp" : null;
  }
  const normalized = normalizeRecoveryCode(code);
  if (!/^[0-9a-f]{10}$/.test(normalized)) return null;
  const hash = recoveryCodeHash(normalized);
  const spent = await ctx.db
    .update(users)
    .set({ otpRecoveryCodeHashes: sql`array_remove(${users.otpRecoveryCodeHashes}, ${hash})` })
    .where(and(eq(users.id, owner.user.id), sql`${hash} = any(${users.otpRecoveryCodeHashes})`))
    .returning({ id: users.id });
  if (spent.length === 0) return null;
  ctx.log.info("a two-factor recovery code was used to sign in");
  return "recovery";
}

async function requireOwnerOf(ctx: CoreContext): Promise<Owner> {
  const owner = await getOwner(ctx);
  if (owner == null) throw new CoreError("not_found", "There is no owner account yet");
  return owner;
}

// ---------------------------------------------------------------------------
// The sign-in challenge

interface StoredChallenge {
  accountId: string;
  expiresAt: number;
}

function challengeKey(id: string): KvKey {
  return ["two_factor_challenge", hashToken(id)];
}

/** A challenge for the second step of a sign-in whose password was right; returns its secret id. */
export async function createTwoFactorChallenge(ctx: CoreContext, owner: Owner): Promise<string> {
  const id = randomBytes(32).toString("base64url");
  const stored: StoredChallenge = { accountId: owner.account.id.toString(), expiresAt: Date.now() + CHALLENGE_LIFETIME_MS };
  await new DatabaseKvStore(ctx.database).set(challengeKey(id), stored, { ttl: { milliseconds: CHALLENGE_LIFETIME_MS } });
  return id;
}

/** Whether a challenge id is live (the code form can be shown). */
export async function twoFactorChallengeLive(ctx: CoreContext, id: string | null | undefined): Promise<boolean> {
  if (id == null || id === "" || id.length > 100) return false;
  const stored = await new DatabaseKvStore(ctx.database).get<StoredChallenge>(challengeKey(id));
  return stored != null && stored.expiresAt > Date.now();
}

export type SecondFactorResult =
  | { ok: true; owner: Owner; method: "totp" | "recovery" }
  | { ok: false; reason: "invalid" | "expired" }
  | { ok: false; reason: "throttled"; limit: "address" | "account"; retryAfterSeconds: number };

/**
 * The second step of signing in: the code for a live challenge. Counted
 * and limited as a password attempt is; success ends the challenge.
 */
export async function completeTwoFactorSignIn(
  ctx: CoreContext,
  input: { challenge: string; code: string; clientKey: string; ip?: string | null; now?: number },
): Promise<SecondFactorResult> {
  const kv = new DatabaseKvStore(ctx.database);
  const stored = input.challenge.length > 100 ? undefined : await kv.get<StoredChallenge>(challengeKey(input.challenge));
  if (stored == null || stored.expiresAt <= Date.now()) return { ok: false, reason: "expired" };
  const owner = await getOwner(ctx);
  if (owner == null || owner.account.id.toString() !== stored.accountId) return { ok: false, reason: "expired" };
  const admission = await admitSignInAttempt(ctx, { accountId: owner.account.id, clientKey: input.clientKey, ip: input.ip ?? null });
  if (!admission.ok) return { ok: false, reason: "throttled", limit: admission.limit, retryAfterSeconds: admission.retryAfterSeconds };
  const method = await verifySecondFactor(ctx, owner, input.code, input.now);
  if (method == null) {
    await signInAttemptFailed(ctx, admission.attempt);
    return { ok: false, reason: "invalid" };
  }
  await kv.delete(challengeKey(input.challenge));
  await signInAttemptSucceeded(ctx, admission.attempt);
  return { ok: true, owner, method };
}

/** Checks the owner's password (for changes in the settings that ask for it again). */
export async function ownerPasswordMatches(owner: Owner, password: string): Promise<boolean> {
  if (password.length === 0 || password.length > 1024) return false;
  return await verifyPassword(password, owner.user.passwordHash);
}
