/**
 * Quote posts between two Islet instances, through the real inboxes and
 * the durable queue: bob quotes a post of alice's; alice's server approves
 * it with a stamp at its own URL and notifies her; bob's server shows the
 * quote as accepted once it has fetched and checked that stamp; alice
 * revokes it, and bob's server shows it as revoked.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { findQuoteOf } from "../../src/core/quotes.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { notifications } from "../../src/db/schema.ts";
import { resolveUrl } from "../../src/federation/lookup.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

for (const kind of databaseKinds()) {
  describe(`quote posts between two instances (${kind})`, () => {
    let alice: TestInstance;
    let bob: TestInstance;
    let aliceToken: string;
    let bobToken: string;

    before(async () => {
      [alice, bob] = await Promise.all([startInstance(kind, { username: "alice" }), startInstance(kind, { username: "bob" })]);
      [aliceToken, bobToken] = await Promise.all([ownerToken(alice), ownerToken(bob)]);
    });
    after(async () => {
      await Promise.all([alice?.close(), bob?.close()]);
    });

    test("bob quotes alice: requested, stamped, verified, notified, listed, then revoked", async () => {
      const original = await createStatus(alice.islet.core, alice.owner!.account, { text: "worth quoting" });
      // Alice's post says who may quote it.
      const document = await fetch(original.uri, { headers: { Accept: "application/activity+json" } }).then((r) => r.json());
      assert.deepEqual(document.interactionPolicy?.canQuote?.automaticApproval?.length, 2);

      const resolved = await resolveUrl(bob.islet.federation, bob.islet.core, original.uri);
      assert.equal(resolved?.kind, "status");
      const atBob = resolved.status;

      const posted = await api(bob, "POST", "/api/v1/statuses", {
        token: bobToken,
        body: { status: "look at this", quoted_status_id: atBob.id.toString() },
      });
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      // Until alice's server approves, the quote waits.
      assert.equal(posted.body.quote.state, "pending");
      assert.equal(posted.body.quote.quoted_status, null);
      const quoteUri: string = posted.body.uri;

      // Alice's server stored bob's post, approved it, and told alice.
      const atAlice = await eventually(() => findStatusByUri(alice.islet.core, quoteUri), "bob's quote at alice");
      const notified = await eventually(async () => (await alice.islet.core.db.select().from(notifications).where(and(
        eq(notifications.type, "quote"), eq(notifications.statusId, atAlice.id),
      )))[0], "alice's quote notification");
      const bobAtAlice = await findAccountByUri(alice.islet.core, `${bob.origin}/users/bob`);
      assert.equal(notified.fromAccountId, bobAtAlice?.id);
      const stampAtAlice = (await findQuoteOf(alice.islet.core, atAlice.id))!;
      assert.equal(stampAtAlice.state, "accepted");
      assert.match(stampAtAlice.authorizationUri ?? "", /\/users\/alice\/quote_authorizations\/\d+$/);

      // The stamp is served at its own URL, naming both posts.
      const stamp = await fetch(stampAtAlice.authorizationUri!, { headers: { Accept: "application/activity+json" } });
      assert.equal(stamp.status, 200);
      const stampJson = await stamp.json();
      assert.equal(stampJson.type, "QuoteAuthorization");
      assert.equal(stampJson.interactingObject, quoteUri);
      assert.equal(stampJson.interactionTarget, original.uri);
      assert.equal(stampJson.attributedTo, `${alice.origin}/users/alice`);

      // Bob's server accepted the quote with that very stamp.
      const accepted = await eventually(async () => {
        const quote = await findQuoteOf(bob.islet.core, BigInt(posted.body.id));
        return quote?.state === "accepted" ? quote : undefined;
      }, "the quote accepted at bob");
      assert.equal(accepted.authorizationUri, stampAtAlice.authorizationUri);
      const shown = await api(bob, "GET", `/api/v1/statuses/${posted.body.id}`, { token: bobToken });
      assert.equal(shown.body.quote.state, "accepted");
      assert.equal(shown.body.quote.quoted_status.id, atBob.id.toString());
      assert.equal(shown.body.quote.quoted_status.content, atBob.content);
      // Bob's post now carries the stamp for everyone to check.
      const bobNote = await fetch(quoteUri, { headers: { Accept: "application/activity+json" } }).then((r) => r.json());
      assert.equal(bobNote.quote, original.uri);
      assert.equal(bobNote.quoteAuthorization, stampAtAlice.authorizationUri);
      assert.equal(bobNote._misskey_quote, original.uri);

      // Alice sees the quote among her post's quotes.
      const quotes = await api(alice, "GET", `/api/v1/statuses/${original.id}/quotes`, { token: aliceToken });
      assert.equal(quotes.status, 200);
      assert.deepEqual(quotes.body.map((status: { uri: string }) => status.uri), [quoteUri]);
      const own = await api(alice, "GET", `/api/v1/statuses/${original.id}`, { token: aliceToken });
      assert.equal(own.body.quotes_count, 1);

      // Alice revokes: her stamp is gone, and bob's server shows the quote revoked.
      const revoked = await api(alice, "POST", `/api/v1/statuses/${original.id}/quotes/${atAlice.id}/revoke`, { token: aliceToken });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(revoked.body.quote.state, "revoked");
      assert.equal((await fetch(stampAtAlice.authorizationUri!, { headers: { Accept: "application/activity+json" } })).status, 404);
      await eventually(async () => (await findQuoteOf(bob.islet.core, BigInt(posted.body.id)))?.state === "revoked", "the quote revoked at bob");
      const after = await api(bob, "GET", `/api/v1/statuses/${posted.body.id}`, { token: bobToken });
      assert.equal(after.body.quote.state, "revoked");
      assert.equal(after.body.quote.quoted_status, null);
      const listed = await api(alice, "GET", `/api/v1/statuses/${original.id}/quotes`, { token: aliceToken });
      assert.deepEqual(listed.body, []);
    });

    test("a post whose author allows no quotes is refused with 422", async () => {
      const closed = await createStatus(alice.islet.core, alice.owner!.account, { text: "not for quoting", quotePolicy: "nobody" });
      const resolved = await resolveUrl(bob.islet.federation, bob.islet.core, closed.uri);
      assert.equal(resolved?.kind, "status");
      assert.equal(resolved.status.quotePolicy, "nobody");
      const shown = await api(bob, "GET", `/api/v1/statuses/${resolved.status.id}`, { token: bobToken });
      assert.deepEqual(shown.body.quote_approval, { automatic: [], manual: [], current_user: "denied" });
      const refused = await api(bob, "POST", "/api/v1/statuses", {
        token: bobToken,
        body: { status: "trying anyway", quoted_status_id: resolved.status.id.toString() },
      });
      assert.equal(refused.status, 422);
      assert.match(refused.body.error, /does not allow/);
    });
  });
}
