/**
 * Quote posts from other servers, in the shapes they publish (fixtures in
 * test/fixtures/federation written from Mastodon's, GoToSocial's and
 * Misskey's documentation), delivered signed to the inbox: a FEP-044f
 * quote counts once its stamp is fetched and checked, older forms count
 * as they are; the owner's quotes of remote posts wait for a stamp that
 * checks out; remote QuoteRequests are answered by the post's policy.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { follow, followAccepted } from "../../src/core/follows.ts";
import { findQuoteOf } from "../../src/core/quotes.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { notifications } from "../../src/db/schema.ts";
import { resolveAccount, resolveUrl } from "../../src/federation/lookup.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer, type RemoteActorHandle } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { queueSettled } from "../helpers/settle.ts";

const FIXTURES = new URL("../fixtures/federation/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");
const AS = "https://www.w3.org/ns/activitystreams";
const FEP_044F = {
  QuoteAuthorization: "https://w3id.org/fep/044f#QuoteAuthorization",
  gts: "https://gotosocial.org/ns#",
  interactingObject: { "@id": "gts:interactingObject", "@type": "@id" },
  interactionTarget: { "@id": "gts:interactionTarget", "@type": "@id" },
};

let counter = 0;

for (const kind of databaseKinds()) {
  describe(`quote posts from other servers (${kind})`, () => {
    let islet: TestInstance;
    let remote: DocumentServer;
    let token: string;
    const actors = new Map<string, RemoteActorHandle>();
    const owner = () => `${islet.origin}/users/owner`;

    /** A public post by `name` on the remote server; returns its IRI. */
    function remotePost(name: string, content: string): string {
      const path = `/users/${name}/statuses/q${++counter}`;
      remote.documents.set(path, {
        "@context": AS,
        id: `${remote.origin}${path}`,
        type: "Note",
        attributedTo: `${remote.origin}/users/${name}`,
        content,
        published: new Date().toISOString(),
        to: [`${AS}#Public`],
      });
      return `${remote.origin}${path}`;
    }

    /** A stamp by `name` approving `quoting` quoting `quoted`, served by the remote (unless `serve` is false). */
    function stamp(name: string, quoting: string, quoted: string, serve = true): string {
      const path = `/users/${name}/quote_authorizations/s${++counter}`;
      if (serve) {
        remote.documents.set(path, {
          "@context": [AS, FEP_044F],
          type: "QuoteAuthorization",
          id: `${remote.origin}${path}`,
          attributedTo: `${remote.origin}/users/${name}`,
          interactingObject: quoting,
          interactionTarget: quoted,
        });
      }
      return `${remote.origin}${path}`;
    }

    function fill(name: string, actor: RemoteActorHandle, values: Record<string, string>): Record<string, unknown> {
      const all: Record<string, string> = {
        origin: remote.origin,
        host: new URL(remote.origin).host,
        actor: actor.id,
        owner: owner(),
        now: new Date().toISOString(),
        ...values,
      };
      return JSON.parse(read(name).replace(/\{\{(\w+)\}\}/g, (_m, key: string) => all[key] ?? `{{${key}}}`));
    }

    /** The IRI the fixture's object will have, for the stamp to name it. */
    const objectIri = (name: string, actor: RemoteActorHandle, id: string) => (fill(name, actor, { id, quoted: "", stamp: "" }).object as { id: string }).id;

    async function deliverFixture(name: string, actorName: string, quoted: string, stampFor: (quoting: string) => string | null) {
      const actor = actors.get(actorName)!;
      const id = `${Date.now()}${++counter}`;
      const quoting = objectIri(name, actor, id);
      const activity = fill(name, actor, { id, quoted, stamp: stampFor(quoting) ?? "" });
      const response = await actor.post(`${islet.origin}/users/owner/inbox`, activity);
      assert.equal(response.status, 202);
      return await eventually(() => findStatusByUri(islet.islet.core, quoting), `${name} stored`);
    }

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startDocumentServer()]);
      token = await ownerToken(islet);
      const core = islet.islet.core;
      for (const name of ["mastodon_user", "gts_user", "misskey_user", "akkoma_user", "writer", "stranger"]) {
        const actor = await remote.addActor(name);
        actors.set(name, actor);
        if (name === "stranger") continue;
        const account = await resolveAccount(islet.islet.federation, core, actor.id);
        await followAccepted(core, await follow(core, islet.owner!.account, account));
      }
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("Mastodon's shape: the stamp is fetched and checked, then the quote shows; its Delete revokes it", async () => {
      const quoted = remotePost("writer", "<p>the quoted words</p>");
      let stampUri = "";
      const status = await deliverFixture("mastodon-quote.json", "mastodon_user", quoted, (quoting) => (stampUri = stamp("writer", quoting, quoted)));
      const quote = await eventually(() => findQuoteOf(islet.islet.core, status.id), "the quote recorded");
      assert.equal(quote.state, "accepted");
      assert.equal(quote.authorizationUri, stampUri);
      assert.ok((remote.gets.get(new URL(stampUri).pathname) ?? 0) >= 1, "the stamp was fetched");
      assert.equal(status.quotePolicy, "public");
      const shown = await api(islet, "GET", `/api/v1/statuses/${status.id}`, { token });
      assert.equal(shown.body.quote.state, "accepted");
      assert.equal(shown.body.quote.quoted_status.uri, quoted);
      assert.equal(shown.body.quote.quoted_status.content, "<p>the quoted words</p>");
      assert.deepEqual(shown.body.quote_approval, { automatic: ["public"], manual: [], current_user: "automatic" });

      // The quoted author withdraws the stamp.
      const writer = actors.get("writer")!;
      const response = await writer.post(`${islet.origin}/inbox`, {
        "@context": AS,
        id: `${stampUri}#delete`,
        type: "Delete",
        actor: writer.id,
        object: stampUri,
      });
      assert.equal(response.status, 202);
      await eventually(async () => (await findQuoteOf(islet.islet.core, status.id))?.state === "revoked", "the quote revoked");
      const after = await api(islet, "GET", `/api/v1/statuses/${status.id}`, { token });
      assert.deepEqual(after.body.quote, { state: "revoked", quoted_status: null });
    });

    test("a stamp that is missing or approves another post does not count", async () => {
      const quoted = remotePost("writer", "<p>not approved</p>");
      const missing = await deliverFixture("mastodon-quote.json", "mastodon_user", quoted, (quoting) => stamp("writer", quoting, quoted, false));
      const forged = await deliverFixture("mastodon-quote.json", "mastodon_user", quoted, () => stamp("writer", `${remote.origin}/some/other/post`, quoted));
      // A stamp by someone other than the quoted author.
      const foreign = await deliverFixture("mastodon-quote.json", "mastodon_user", quoted, (quoting) => stamp("stranger", quoting, quoted));
      for (const status of [missing, forged, foreign]) {
        const quote = await eventually(() => findQuoteOf(islet.islet.core, status.id), "the quote recorded");
        assert.equal(quote.state, "unauthorized");
        const shown = await api(islet, "GET", `/api/v1/statuses/${status.id}`, { token });
        assert.deepEqual(shown.body.quote, { state: "unauthorized", quoted_status: null });
      }
    });

    test("GoToSocial's shape: stored as a quote, its quote policy read", async () => {
      const quoted = remotePost("writer", "<p>quoted from GoToSocial</p>");
      const status = await deliverFixture("gotosocial-quote.json", "gts_user", quoted, (quoting) => stamp("writer", quoting, quoted));
      const quote = await eventually(() => findQuoteOf(islet.islet.core, status.id), "the quote recorded");
      assert.equal(quote.state, "accepted");
      // Followers automatically, everyone else on request.
      assert.equal(status.quotePolicy, "followers");
      const shown = await api(islet, "GET", `/api/v1/statuses/${status.id}`, { token });
      assert.equal(shown.body.quote.quoted_status.content, "<p>quoted from GoToSocial</p>");
    });

    test("older forms: Misskey's quoteUrl / _misskey_quote, and a FEP-e232 link tag", async () => {
      const quoted = remotePost("writer", "<p>quoted the old way</p>");
      const misskey = await deliverFixture("misskey-quote.json", "misskey_user", quoted, () => null);
      const quote = await eventually(() => findQuoteOf(islet.islet.core, misskey.id), "the quote recorded");
      assert.equal(quote.state, "accepted");
      assert.equal(quote.authorizationUri, null);
      const shown = await api(islet, "GET", `/api/v1/statuses/${misskey.id}`, { token });
      assert.equal(shown.body.quote.state, "accepted");
      assert.equal(shown.body.quote.quoted_status.content, "<p>quoted the old way</p>");

      // An older form quoting the owner's post asks nobody: the owner's policy decides, and a stamp is kept to revoke.
      const mine = await createStatus(islet.islet.core, islet.owner!.account, { text: "quoted by Misskey" });
      const ofMine = await deliverFixture("misskey-quote.json", "misskey_user", mine.uri, () => null);
      const mineQuote = await eventually(async () => {
        const quote = await findQuoteOf(islet.islet.core, ofMine.id);
        return quote?.state === "accepted" ? quote : undefined;
      }, "the quote of the owner's post accepted");
      assert.match(mineQuote.authorizationUri ?? "", /\/users\/owner\/quote_authorizations\//);
      await eventually(async () => (await islet.islet.core.db.select().from(notifications).where(and(eq(notifications.type, "quote"), eq(notifications.statusId, ofMine.id))))[0], "the owner told of the quote");
      const closed = await createStatus(islet.islet.core, islet.owner!.account, { text: "not quotable", quotePolicy: "nobody" });
      const ofClosed = await deliverFixture("misskey-quote.json", "misskey_user", closed.uri, () => null);
      assert.equal((await eventually(() => findQuoteOf(islet.islet.core, ofClosed.id), "the refused quote")).state, "pending");

      const akkoma = actors.get("akkoma_user")!;
      const noteId = `${remote.origin}/objects/${++counter}`;
      const response = await akkoma.post(`${islet.origin}/inbox`, {
        "@context": AS,
        id: `${noteId}/activity`,
        type: "Create",
        actor: akkoma.id,
        to: [`${AS}#Public`],
        object: {
          id: noteId,
          type: "Note",
          attributedTo: akkoma.id,
          content: `<p>linked<br>RE: <a href="${quoted}">${quoted}</a></p>`,
          to: [`${AS}#Public`],
          tag: [{ type: "Link", mediaType: `application/ld+json; profile="${AS}"`, href: quoted, name: `RE: ${quoted}` }],
        },
      });
      assert.equal(response.status, 202);
      const linked = await eventually(() => findStatusByUri(islet.islet.core, noteId), "the linked post stored");
      const linkedQuote = await eventually(() => findQuoteOf(islet.islet.core, linked.id), "the quote recorded");
      assert.equal(linkedQuote.state, "accepted");
      assert.equal(linkedQuote.quotedUri, quoted);
    });

    test("the owner quotes a remote post: pending until an Accept names a stamp that checks out", async () => {
      const quoted = remotePost("writer", "<p>please quote me</p>");
      const resolved = await resolveUrl(islet.islet.federation, islet.islet.core, quoted);
      assert.equal(resolved?.kind, "status");
      const posted = await api(islet, "POST", "/api/v1/statuses", { token, body: { status: "my take", quoted_status_id: resolved.status.id.toString() } });
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      assert.equal(posted.body.quote.state, "pending");
      const quoting: string = posted.body.uri;

      // The QuoteRequest reached the quoted author, carrying the quoting post.
      const request = await eventually(async () => remote.received.find((entry) => entry.body.type === "QuoteRequest")?.body, "the QuoteRequest");
      assert.equal(request.actor, owner());
      assert.equal(request.object, quoted);
      assert.equal((request.instrument as { id: string }).id, quoting);

      const writer = actors.get("writer")!;
      const accept = (result: string) => ({
        "@context": [AS, { QuoteRequest: "https://w3id.org/fep/044f#QuoteRequest" }],
        id: `${writer.id}#accepts/${++counter}`,
        type: "Accept",
        actor: writer.id,
        to: owner(),
        object: { id: request.id, type: "QuoteRequest", actor: owner(), object: quoted, instrument: quoting },
        result,
      });
      // A stamp that is not there: the quote still waits.
      const absent = stamp("writer", quoting, quoted, false);
      assert.equal((await writer.post(`${islet.origin}/users/owner/inbox`, accept(absent))).status, 202);
      await queueSettled(islet.islet.core);
      assert.equal((await findQuoteOf(islet.islet.core, BigInt(posted.body.id)))?.state, "pending");
      const still = await api(islet, "GET", `/api/v1/statuses/${posted.body.id}`, { token });
      assert.equal(still.body.quote.state, "pending");

      // A real stamp: accepted, and the owner's post now carries it.
      const real = stamp("writer", quoting, quoted);
      assert.equal((await writer.post(`${islet.origin}/users/owner/inbox`, accept(real))).status, 202);
      await eventually(async () => (await findQuoteOf(islet.islet.core, BigInt(posted.body.id)))?.state === "accepted", "the quote accepted");
      const shown = await api(islet, "GET", `/api/v1/statuses/${posted.body.id}`, { token });
      assert.equal(shown.body.quote.quoted_status.uri, quoted);
      const note = await fetch(quoting, { headers: { Accept: "application/activity+json" } }).then((r) => r.json());
      assert.equal(note.quote, quoted);
      assert.equal(note.quoteAuthorization, real);
      assert.equal(note.quoteUri, quoted);
      assert.equal(note._misskey_quote, quoted);
    });

    test("a remote QuoteRequest is answered by the post's policy", async () => {
      const core = islet.islet.core;
      const open = await createStatus(core, islet.owner!.account, { text: "anyone may quote", quotePolicy: "public" });
      const closed = await createStatus(core, islet.owner!.account, { text: "followers may quote", quotePolicy: "followers" });
      const stranger = actors.get("stranger")!;
      const ask = async (target: string) => {
        const quoting = remotePost("stranger", `<p>quoting ${target}</p>`);
        const requestId = `${stranger.id}#quote-requests/${++counter}`;
        const response = await stranger.post(`${islet.origin}/users/owner/inbox`, {
          "@context": [AS, { QuoteRequest: "https://w3id.org/fep/044f#QuoteRequest" }],
          id: requestId,
          type: "QuoteRequest",
          actor: stranger.id,
          object: target,
          instrument: quoting,
        });
        assert.equal(response.status, 202);
        const answer = await eventually(async () => remote.received.find((entry) => (entry.body.object as { id?: string } | undefined)?.id === requestId)?.body, "the answer");
        return { quoting, answer };
      };

      const yes = await ask(open.uri);
      assert.equal(yes.answer.type, "Accept");
      const stampUri = yes.answer.result as string;
      const served = await fetch(stampUri, { headers: { Accept: "application/activity+json" } }).then((r) => r.json());
      assert.equal(served.type, "QuoteAuthorization");
      assert.equal(served.interactingObject, yes.quoting);
      assert.equal(served.interactionTarget, open.uri);
      const quoting = (await findStatusByUri(core, yes.quoting))!;
      const strangerAccount = (await findAccountByUri(core, stranger.id))!;
      const notified = await core.db.select().from(notifications).where(and(eq(notifications.type, "quote"), eq(notifications.statusId, quoting.id)));
      assert.equal(notified.length, 1);
      assert.equal(notified[0].fromAccountId, strangerAccount.id);

      // The stranger does not follow the owner: a followers-only policy refuses.
      const no = await ask(closed.uri);
      assert.equal(no.answer.type, "Reject");
      const refused = (await findStatusByUri(core, no.quoting))!;
      assert.equal((await findQuoteOf(core, refused.id))?.state, "rejected");
    });
  });
}
