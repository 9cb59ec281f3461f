/**
 * The rules of src/core/sign-in-limits.ts on a real database, with the
 * clock passed in: attempts sent at once from many addresses cannot get
 * more password checks than the account allows, exactly one of them starts
 * the lock-out (and its event), lock-outs double up to the cap and are
 * forgotten after a quiet day, and failures older than the window are let go.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config.ts";
import type { CoreContext } from "../../src/core/context.ts";
import {
  ACCOUNT_FAILURE_WINDOW_MS,
  ACCOUNT_LOCKOUT_MAX_MS,
  ACCOUNT_LOCKOUT_MEMORY_MS,
  ACCOUNT_LOCKOUT_MS,
  ACCOUNT_MAX_FAILURES,
  accountSignInState,
  admitSignInAttempt,
  lockoutLength,
  signInAttemptFailed,
  signInAttemptSucceeded,
  type SignInAdmission,
} from "../../src/core/sign-in-limits.ts";
import type { IsletEvents } from "../../src/core/events.ts";
import { openCore } from "../../src/islet.ts";
import { createLogger } from "../../src/log.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";

const MINUTE = 60_000;

for (const kind of databaseKinds()) {
  describe(`sign-in limit rules (${kind})`, () => {
    let database: TestDatabase;
    let core: CoreContext;
    let close: () => Promise<void>;
    let nextAccount = 1n;
    const locked: IsletEvents["sign_in.locked"][] = [];

    before(async () => {
      database = await createTestDatabase(kind);
      const config = loadConfig({
        DATA_DIR: database.dataDir,
        LOG_LEVEL: "error",
        ...(database.databaseUrl == null ? {} : { DATABASE_URL: database.databaseUrl }),
      });
      const opened = await openCore(config, { database: await database.open(), log: createLogger("error") });
      core = opened.core;
      close = opened.close;
      core.events.on("sign_in.locked", (payload) => {
        locked.push(payload);
      });
    });
    after(async () => {
      await close?.();
      await database?.drop();
    });

    /** `count` wrong passwords on `accountId` at `now`, each from its own address; returns the last admission. */
    async function fail(accountId: bigint, count: number, now: number): Promise<SignInAdmission> {
      let last: SignInAdmission | undefined;
      for (let i = 0; i < count; i++) {
        const ip = `192.0.2.${i + 1}`;
        last = await admitSignInAttempt(core, { accountId, clientKey: `${now}-${ip}`, ip, now });
        if (last.ok) await signInAttemptFailed(core, last.attempt);
      }
      return last!;
    }

    test("attempts sent at once from many addresses get no more checks than the account allows", async () => {
      const accountId = nextAccount++;
      const now = Date.now();
      const before = locked.length;
      const admissions = await Promise.all(Array.from({ length: 30 }, (_, i) =>
        admitSignInAttempt(core, { accountId, clientKey: `2001:db8:${i}::/64`, ip: `2001:db8:${i}::1`, now })));
      const admitted = admissions.filter((a) => a.ok);
      assert.equal(admitted.length, ACCOUNT_MAX_FAILURES);
      assert.ok(admissions.every((a) => a.ok || a.limit === "account"));
      const starters = admitted.filter((a) => a.attempt.locked != null);
      assert.equal(starters.length, 1, "one attempt starts the lock-out");
      await Promise.all(admitted.map((a) => signInAttemptFailed(core, a.attempt)));
      assert.equal(locked.length, before + 1, "one event for the lock-out");
      const event = locked.at(-1)!;
      assert.equal(event.accountId, accountId);
      assert.equal(event.failures, ACCOUNT_MAX_FAILURES);
      assert.equal(event.addresses.length, 5, "a few addresses are named");
      assert.equal(event.moreAddresses, true);
      assert.equal(event.lockedUntil.getTime() - event.lockedAt.getTime(), ACCOUNT_LOCKOUT_MS);
    });

    test("lock-outs double up to the cap, and a quiet day forgets them", async () => {
      assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 40].map(lockoutLength).map((ms) => ms / MINUTE), [5, 10, 20, 40, 80, 160, 240, 240]);
      assert.equal(ACCOUNT_LOCKOUT_MAX_MS, 240 * MINUTE);
      const accountId = nextAccount++;
      let now = Date.now();
      for (const minutes of [5, 10, 20]) {
        const last = await fail(accountId, ACCOUNT_MAX_FAILURES, now);
        assert.ok(last.ok);
        const state = await accountSignInState(core, accountId);
        assert.equal(state?.lockedUntil, now + minutes * MINUTE);
        const during = await admitSignInAttempt(core, { accountId, clientKey: "elsewhere", ip: "198.51.100.1", now: now + minutes * MINUTE - 1000 });
        assert.deepEqual(during, { ok: false, limit: "account", retryAfterSeconds: 1 });
        now += minutes * MINUTE;
      }
      // A day after the last lock-out began, the next one is short again.
      now += ACCOUNT_LOCKOUT_MEMORY_MS;
      await fail(accountId, ACCOUNT_MAX_FAILURES, now);
      assert.equal((await accountSignInState(core, accountId))?.lockedUntil, now + 5 * MINUTE);
    });

    test("failures older than the window are let go; a success clears the count", async () => {
      const accountId = nextAccount++;
      const now = Date.now();
      await fail(accountId, ACCOUNT_MAX_FAILURES - 1, now);
      const later = now + ACCOUNT_FAILURE_WINDOW_MS + 1;
      const last = await fail(accountId, ACCOUNT_MAX_FAILURES - 1, later);
      assert.ok(last.ok && last.attempt.locked == null);
      const state = await accountSignInState(core, accountId);
      assert.equal(state?.failures, ACCOUNT_MAX_FAILURES - 1);
      assert.equal(state?.lockedUntil, null);

      const success = await admitSignInAttempt(core, { accountId, clientKey: "owner", ip: "203.0.113.1", now: later });
      assert.ok(success.ok);
      assert.ok(success.attempt.locked != null, "the tenth attempt starts a lock-out while it is checked");
      await signInAttemptSucceeded(core, success.attempt);
      assert.equal(await accountSignInState(core, accountId), null, "the right password lifts it and clears the count");
    });
  });
}
