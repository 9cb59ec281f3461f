/**
 * How many times a password may be tried, kept in the database (the
 * `kv_entries` table) so that every process and a restart see the same
 * counts. Two limits apply to each sign-in attempt:
 *
 * - **Per address** (the client's IPv4 address, or its IPv6 /64, as
 *   `rateLimitKey` gives it): {@link ADDRESS_MAX_FAILURES} failures within
 *   {@link ADDRESS_WINDOW_MS}, then that address waits for the oldest one
 *   to leave the window.
 * - **Per account**, from any address: after {@link ACCOUNT_MAX_FAILURES}
 *   failures in a row (no successful sign-in between them, within
 *   {@link ACCOUNT_FAILURE_WINDOW_MS}) the account is locked for
 *   {@link ACCOUNT_LOCKOUT_MS}; each further lock-out within
 *   {@link ACCOUNT_LOCKOUT_MEMORY_MS} of the last lasts twice as long, up to
 *   {@link ACCOUNT_LOCKOUT_MAX_MS}. While locked, even the right password is
 *   refused, which is what stops guessing spread over many addresses. The
 *   lock that starts emits `sign_in.locked` once (the owner is mailed).
 *
 * An attempt is counted before its password is checked, so attempts sent
 * in parallel cannot slip past a limit; a successful sign-in clears both
 * counts, and so does a password reset by mail (for the account).
 */
import type { KvKey } from "@fedify/fedify";
import { DatabaseKvStore } from "../db/kv-store.ts";
import type { CoreContext } from "./context.ts";

/** Failed sign-ins allowed per client address within {@link ADDRESS_WINDOW_MS}. */
export const ADDRESS_MAX_FAILURES = 5;
export const ADDRESS_WINDOW_MS = 5 * 60 * 1000;
/** Failed sign-ins in a row, from any address, that lock the account. */
export const ACCOUNT_MAX_FAILURES = 10;
/** Failures older than this (counted from the first of a run) are forgotten. */
export const ACCOUNT_FAILURE_WINDOW_MS = 60 * 60 * 1000;
/** The first lock-out's length; each next one doubles it. */
export const ACCOUNT_LOCKOUT_MS = 5 * 60 * 1000;
export const ACCOUNT_LOCKOUT_MAX_MS = 4 * 60 * 60 * 1000;
/** How long after a lock-out the next one still counts as a repeat (and lasts longer). */
export const ACCOUNT_LOCKOUT_MEMORY_MS = 24 * 60 * 60 * 1000;
/** How many of the addresses that failed are remembered, for the mail. */
export const ADDRESSES_REMEMBERED = 5;

/** Attempts to update a count before giving up (only under heavy contention). */
const MAX_UPDATE_TRIES = 50;

/** What is stored for a client address. */
export interface AddressSignInState {
  /** When the failures (or attempts still being checked) of the window happened, oldest first, in ms. */
  times: number[];
}

/** What is stored for an account. */
export interface AccountSignInState {
  /** Attempts since the last success in this run: failed, or still being checked. */
  failures: number;
  /** When the first of them was made (ms). */
  firstFailureAt: number;
  /** The latest few distinct addresses they came from, newest last. */
  addresses: string[];
  /** Whether more addresses than those failed in this run. */
  moreAddresses: boolean;
  /** Lock-outs in a row so far: the next one lasts 2^lockouts times {@link ACCOUNT_LOCKOUT_MS}. */
  lockouts: number;
  /** When the latest lock-out began (ms), or null. */
  lockedAt: number | null;
  /** Until when sign-in is refused (ms), or null when not locked. */
  lockedUntil: number | null;
}

/** The key of an address's count in `kv_entries`. */
export function addressLimitKey(clientKey: string): KvKey {
  return ["sign_in_limit", "address", clientKey];
}

/** The key of an account's count in `kv_entries`. */
export function accountLimitKey(accountId: bigint): KvKey {
  return ["sign_in_limit", "account", accountId.toString()];
}

function kvOf(ctx: CoreContext): DatabaseKvStore {
  return new DatabaseKvStore(ctx.database);
}

/**
 * Changes a stored value with compare-and-set, trying again when another
 * attempt changed it in between. `change` returns the new value (undefined
 * deletes it, `current` itself leaves it alone) with its lifetime, and a
 * result to hand back. Null when the value kept changing under it.
 */
async function update<T, R>(
  kv: DatabaseKvStore,
  key: KvKey,
  change: (current: T | undefined) => { value: T | undefined; ttlMs: number; result: R },
): Promise<R | null> {
  for (let i = 0; i < MAX_UPDATE_TRIES; i++) {
    const current = await kv.get<T>(key);
    const next = change(current);
    // Unchanged: nothing to write.
    if (next.value === current) return next.result;
    const written = await kv.cas(key, current, next.value, { ttl: { milliseconds: Math.max(1, Math.ceil(next.ttlMs)) } });
    if (written) return next.result;
  }
  return null;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The length of the lock-out that follows `previous` lock-outs in a row. */
export function lockoutLength(previous: number): number {
  return Math.min(ACCOUNT_LOCKOUT_MAX_MS, ACCOUNT_LOCKOUT_MS * 2 ** Math.min(previous, 30));
}

/** An attempt that was let through: its password is to be checked, then reported. */
export interface SignInAttempt {
  accountId: bigint | null;
  clientKey: string;
  /** Whether counting this attempt locked the account (the lock stands unless it succeeds). */
  locked: AccountSignInState | null;
}

export type SignInAdmission =
  | { ok: true; attempt: SignInAttempt }
  | { ok: false; limit: "address" | "account"; retryAfterSeconds: number };

/** An account's state as of `now`: runs and lock-outs that have passed are let go. */
function accountStateAt(stored: AccountSignInState | undefined, now: number): AccountSignInState {
  const state: AccountSignInState = stored == null
    ? { failures: 0, firstFailureAt: now, addresses: [], moreAddresses: false, lockouts: 0, lockedAt: null, lockedUntil: null }
    : { ...stored, addresses: [...stored.addresses] };
  if (state.lockedAt != null && now - state.lockedAt > ACCOUNT_LOCKOUT_MEMORY_MS) {
    state.lockouts = 0;
    state.lockedAt = null;
  }
  const lockOver = state.lockedUntil != null && state.lockedUntil <= now;
  if (lockOver || (state.lockedUntil == null && now - state.firstFailureAt > ACCOUNT_FAILURE_WINDOW_MS)) {
    state.failures = 0;
    state.firstFailureAt = now;
    state.addresses = [];
    state.moreAddresses = false;
    state.lockedUntil = null;
  }
  return state;
}

/** How long an account's entry is kept: as long as its lock-out, and its memory of it, matter. */
function accountTtl(state: AccountSignInState, now: number): number {
  const ends = [state.firstFailureAt + ACCOUNT_FAILURE_WINDOW_MS];
  if (state.lockedUntil != null) ends.push(state.lockedUntil);
  if (state.lockedAt != null) ends.push(state.lockedAt + ACCOUNT_LOCKOUT_MEMORY_MS);
  return Math.max(...ends) - now;
}

/**
 * Counts a sign-in attempt from `clientKey` (and `ip`, as shown in the
 * mail) on `accountId` (null when there is no owner), or says how long to
 * wait when a limit is reached. A refused attempt is not counted, except
 * against its address when another attempt locked the account meanwhile.
 */
export async function admitSignInAttempt(
  ctx: CoreContext,
  input: { accountId: bigint | null; clientKey: string; ip: string | null; now?: number },
): Promise<SignInAdmission> {
  const kv = kvOf(ctx);
  const now = input.now ?? Date.now();

  // The account first: while it is locked, nothing from any address counts.
  if (input.accountId != null) {
    const stored = await kv.get<AccountSignInState>(accountLimitKey(input.accountId));
    const locked = stored == null ? null : accountStateAt(stored, now).lockedUntil;
    if (locked != null) return { ok: false, limit: "account", retryAfterSeconds: seconds(locked - now) };
  }

  const address = await update<AddressSignInState, number>(kv, addressLimitKey(input.clientKey), (current) => {
    const times = (current?.times ?? []).filter((t) => t > now - ADDRESS_WINDOW_MS).sort((a, b) => a - b);
    if (times.length >= ADDRESS_MAX_FAILURES) {
      const wait = times[times.length - ADDRESS_MAX_FAILURES] + ADDRESS_WINDOW_MS - now;
      return { value: current, ttlMs: wait, result: seconds(wait) };
    }
    times.push(now);
    return { value: { times }, ttlMs: ADDRESS_WINDOW_MS, result: 0 };
  });
  if (address == null) return { ok: false, limit: "address", retryAfterSeconds: 1 };
  if (address > 0) return { ok: false, limit: "address", retryAfterSeconds: address };

  if (input.accountId == null) return { ok: true, attempt: { accountId: null, clientKey: input.clientKey, locked: null } };
  const shown = input.ip ?? "unknown";
  const account = await update<AccountSignInState, { wait: number; locked: AccountSignInState | null }>(
    kv,
    accountLimitKey(input.accountId),
    (current) => {
      const state = accountStateAt(current, now);
      if (state.lockedUntil != null) {
        // Locked by an attempt made since the check above.
        return { value: current, ttlMs: accountTtl(state, now), result: { wait: state.lockedUntil - now, locked: null } };
      }
      state.failures += 1;
      state.addresses = state.addresses.filter((a) => a !== shown);
      state.addresses.push(shown);
      if (state.addresses.length > ADDRESSES_REMEMBERED) {
        state.addresses.splice(0, state.addresses.length - ADDRESSES_REMEMBERED);
        state.moreAddresses = true;
      }
      let locked: AccountSignInState | null = null;
      if (state.failures >= ACCOUNT_MAX_FAILURES) {
        state.lockedAt = now;
        state.lockedUntil = now + lockoutLength(state.lockouts);
        state.lockouts += 1;
        locked = state;
      }
      return { value: state, ttlMs: accountTtl(state, now), result: { wait: 0, locked } };
    },
  );
  if (account == null) return { ok: false, limit: "account", retryAfterSeconds: 1 };
  if (account.wait > 0) return { ok: false, limit: "account", retryAfterSeconds: seconds(account.wait) };
  return { ok: true, attempt: { accountId: input.accountId, clientKey: input.clientKey, locked: account.locked } };
}

/**
 * The attempt's password was wrong. When counting it locked the account,
 * `sign_in.locked` is emitted (once per lock-out: only one attempt can
 * start it) and the lock-out is logged.
 */
export async function signInAttemptFailed(ctx: CoreContext, attempt: SignInAttempt): Promise<void> {
  const locked = attempt.locked;
  if (locked == null || attempt.accountId == null || locked.lockedUntil == null || locked.lockedAt == null) return;
  const until = new Date(locked.lockedUntil);
  ctx.log.warn(`sign-in locked until ${until.toISOString()} after ${locked.failures} failed attempts in a row, from ${locked.addresses.join(", ")}${locked.moreAddresses ? " and others" : ""}`);
  await ctx.events.emit("sign_in.locked", {
    accountId: attempt.accountId,
    failures: locked.failures,
    addresses: [...locked.addresses],
    moreAddresses: locked.moreAddresses,
    lockedAt: new Date(locked.lockedAt),
    lockedUntil: until,
  });
}

/** The attempt signed in: the address's and the account's counts start again (a lock it set is lifted). */
export async function signInAttemptSucceeded(ctx: CoreContext, attempt: SignInAttempt): Promise<void> {
  const kv = kvOf(ctx);
  await kv.delete(addressLimitKey(attempt.clientKey));
  if (attempt.accountId != null) await kv.delete(accountLimitKey(attempt.accountId));
}

/** Forgets an account's failures and lifts its lock-out (its password was just reset by mail). */
export async function clearAccountSignInLimit(ctx: CoreContext, accountId: bigint): Promise<void> {
  await kvOf(ctx).delete(accountLimitKey(accountId));
}

/** An account's stored sign-in state, or null when it has none. */
export async function accountSignInState(ctx: CoreContext, accountId: bigint): Promise<AccountSignInState | null> {
  return (await kvOf(ctx).get<AccountSignInState>(accountLimitKey(accountId))) ?? null;
}
