/**
 * The command-line side of the settings: `islet apps list` and `islet apps
 * revoke ID` (the token then stops working), and `islet account 2fa
 * status|disable`, the owner's way back in without the device.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { getOwner } from "../../src/core/accounts.ts";
import { findToken } from "../../src/api/auth.ts";
import { beginTwoFactorSetup, confirmTwoFactorSetup, requiresTwoFactor, totpCode } from "../../src/core/two-factor.ts";
import { oauthTokens } from "../../src/db/schema.ts";
import { runIslet } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";
import { assertPlainFailure, withCore } from "../cli/support.ts";

for (const kind of databaseKinds()) {
  describe(`islet apps and islet account 2fa (${kind})`, () => {
    let prepared: PreparedInstance;
    before(async () => {
      prepared = await prepareInstance(kind, { env: { LOG_LEVEL: "error" } });
    });
    after(async () => {
      await prepared?.database.drop();
    });

    test("apps list names the app; apps revoke ID revokes its token", async () => {
      const listed = await runIslet(["apps", "list"], { env: prepared.env });
      assert.equal(listed.code, 0, listed.stderr);
      const match = /^(\d+)  Test client\n    scopes: read write follow push\n    authorized: \d{4}-\d\d-\d\d \d\d:\d\d UTC  last used: never\n$/.exec(listed.stdout);
      assert.ok(match != null, listed.stdout);
      const id = match[1];

      assertPlainFailure(await runIslet(["apps", "revoke"], { env: prepared.env }), /usage: islet apps revoke ID/);
      assertPlainFailure(await runIslet(["apps", "revoke", "12345"], { env: prepared.env }), /no app with id 12345/);

      const revoked = await runIslet(["apps", "revoke", id], { env: prepared.env });
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal(revoked.stdout, "Revoked Test client: 1 access token.\n");
      await withCore(prepared.env, async (core) => {
        assert.equal(await findToken(core, prepared.token), null);
        const rows = await core.db.select().from(oauthTokens).where(eq(oauthTokens.applicationId, BigInt(id)));
        assert.ok(rows[0].revokedAt != null);
      });
      const empty = await runIslet(["apps", "list"], { env: prepared.env });
      assert.equal(empty.stdout, "No app holds access.\n");
    });

    test("account 2fa disable turns two-factor sign-in off", async () => {
      await withCore(prepared.env, async (core) => {
        const setup = await beginTwoFactorSetup(core);
        assert.ok(await confirmTwoFactorSetup(core, totpCode(setup.secret)) != null);
      });
      const on = await runIslet(["account", "2fa", "status"], { env: prepared.env });
      assert.match(on.stdout, /^Two-factor sign-in is on \(since .+\); 10 recovery codes left\.\n$/);

      const disabled = await runIslet(["account", "2fa", "disable"], { env: prepared.env });
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.equal(disabled.stdout, "Two-factor sign-in of @owner is off: the password alone signs in now.\n");
      await withCore(prepared.env, async (core) => {
        const owner = await getOwner(core);
        assert.equal(requiresTwoFactor(owner!), false);
        assert.deepEqual(owner!.user.otpRecoveryCodeHashes, []);
      });
      const again = await runIslet(["account", "2fa", "disable"], { env: prepared.env });
      assert.equal(again.stdout, "Two-factor sign-in of @owner was already off.\n");
      assertPlainFailure(await runIslet(["account", "2fa", "frob"], { env: prepared.env }), /expected 2fa status or 2fa disable/);
    });
  });
}
