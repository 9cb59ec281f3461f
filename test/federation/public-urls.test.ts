/**
 * The addresses Islet hands out (`/@owner`, `/@owner/ID`) answer
 * ActivityPub requests, and another Islet resolves them when they are
 * pasted into its search box (`/api/v2/search?resolve=true`), as a
 * Mastodon server does.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createStatus } from "../../src/core/statuses.ts";
import { prefersActivityJson } from "../../src/federation/activity-accept.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { activityGet, startDocumentServer, type DocumentServer } from "../helpers/federation.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";

const ACTIVITY = "application/activity+json";
const LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"';
const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async function get(url: string, accept: string): Promise<Response> {
  return await fetch(url, { headers: { Accept: accept }, redirect: "manual" });
}

describe("telling ActivityPub requests from browsers", () => {
  test("ActivityStreams types win unless text/html weighs more", () => {
    assert.equal(prefersActivityJson(ACTIVITY), true);
    assert.equal(prefersActivityJson(LD), true);
    assert.equal(prefersActivityJson("application/ld+json"), true);
    assert.equal(prefersActivityJson(`${ACTIVITY}, ${LD}`), true);
    assert.equal(prefersActivityJson(`text/html;q=0.5, ${ACTIVITY}`), true);
    assert.equal(prefersActivityJson(BROWSER), false);
    assert.equal(prefersActivityJson(`text/html, ${ACTIVITY};q=0.9`), false);
    assert.equal(prefersActivityJson(`${ACTIVITY};q=0`), false);
    assert.equal(prefersActivityJson("*/*"), false);
    assert.equal(prefersActivityJson("application/json"), false);
    assert.equal(prefersActivityJson(""), false);
    assert.equal(prefersActivityJson(null), false);
  });
});

for (const kind of databaseKinds()) {
  describe(`public URLs answer ActivityPub and resolve elsewhere (${kind})`, () => {
    let a: TestInstance;
    let b: TestInstance;
    let bToken: string;
    let docs: DocumentServer;

    before(async () => {
      [a, b, docs] = await Promise.all([
        startInstance(kind, { username: "alice" }),
        startInstance(kind, { username: "bob" }),
        startDocumentServer(),
      ]);
      bToken = await ownerToken(b);
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close(), docs?.close()]);
    });

    /** The same path on A, reached at its loopback address. */
    const onA = (url: string) => url.replace(a.origin, a.url);

    test("a post's page URL answers the post's document to ActivityPub requests, with Vary: Accept", async () => {
      const status = await createStatus(a.islet.core, a.owner!.account, { text: "seen from elsewhere" });
      assert.equal(status.url, `${a.origin}/@alice/${status.id}`);
      for (const accept of [ACTIVITY, LD, `${ACTIVITY}, ${LD}`]) {
        const response = await get(onA(status.url!), accept);
        assert.equal(response.status, 200, accept);
        assert.match(response.headers.get("Content-Type") ?? "", /application\/activity\+json/);
        assert.match(response.headers.get("Vary") ?? "", /Accept/);
        const document = await response.json() as Record<string, unknown>;
        assert.equal(document.id, status.uri);
        assert.equal(document.type, "Note");
        assert.equal(document.url, status.url);
      }
      // The same document as at the post's IRI.
      const canonical = await (await get(onA(status.uri), ACTIVITY)).json();
      const viaPage = await (await get(onA(status.url!), ACTIVITY)).json();
      assert.deepEqual(viaPage, canonical);
      // A browser is not handed JSON there, and the answer varies on Accept too.
      const page = await get(onA(status.url!), BROWSER);
      assert.doesNotMatch(page.headers.get("Content-Type") ?? "", /json/);
      assert.match(page.headers.get("Vary") ?? "", /Accept/);
      await page.body?.cancel();
    });

    test("a browser opening a post's IRI is sent to its page", async () => {
      const status = await createStatus(a.islet.core, a.owner!.account, { text: "open me" });
      const response = await get(onA(status.uri), BROWSER);
      assert.equal(response.status, 302);
      assert.equal(response.headers.get("Location"), `/@alice/${status.id}`);
    });

    test("followers-only and direct posts are not served at their page URL, as at their IRI", async () => {
      for (const visibility of ["private", "direct"] as const) {
        const status = await createStatus(a.islet.core, a.owner!.account, { text: `only for some (${visibility})`, visibility });
        const viaPage = await get(onA(status.url!), ACTIVITY);
        const viaIri = await get(onA(status.uri), ACTIVITY);
        assert.equal(viaPage.status, 404, visibility);
        assert.equal(viaIri.status, 404, visibility);
        await Promise.all([viaPage.body?.cancel(), viaIri.body?.cancel()]);
      }
      // A post of another account, or no post, under this name: 404 too.
      assert.equal((await get(`${a.url}/@alice/1234567890`, ACTIVITY)).status, 404);
      assert.equal((await get(`${a.url}/@nobody/1234567890`, ACTIVITY)).status, 404);
    });

    test("the profile URL answers the actor to ActivityPub requests", async () => {
      const response = await get(`${a.url}/@alice`, ACTIVITY);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("Vary") ?? "", /Accept/);
      const actor = await response.json() as Record<string, unknown>;
      assert.equal(actor.id, `${a.origin}/users/alice`);
      assert.equal(actor.type, "Person");
      assert.equal(actor.url, `${a.origin}/@alice`);
      const ld = await (await get(`${a.url}/@alice`, LD)).json() as Record<string, unknown>;
      assert.equal(ld.id, `${a.origin}/users/alice`);
      assert.equal((await get(`${a.url}/@nobody`, ACTIVITY)).status, 404);
    });

    test("B resolves a post of A by its page URL, and A's profile by its /@ URL", async () => {
      const status = await createStatus(a.islet.core, a.owner!.account, { text: "paste my link" });
      const found = await api(b, "GET", `/api/v2/search?q=${encodeURIComponent(status.url!)}&resolve=true`, { token: bToken });
      assert.equal(found.status, 200);
      assert.equal(found.body.statuses.length, 1, JSON.stringify(found.body));
      assert.equal(found.body.statuses[0].uri, status.uri);
      assert.equal(found.body.statuses[0].url, status.url);
      assert.match(found.body.statuses[0].content, /paste my link/);
      assert.equal(found.body.statuses[0].account.acct, `alice@${new URL(a.origin).host}`);

      // Found again without fetching, by the same URL.
      const again = await api(b, "GET", `/api/v2/search?q=${encodeURIComponent(status.url!)}`, { token: bToken });
      assert.equal(again.body.statuses[0]?.id, found.body.statuses[0].id);

      const profile = await api(b, "GET", `/api/v2/search?q=${encodeURIComponent(`${a.origin}/@alice`)}&resolve=true&type=accounts`, { token: bToken });
      assert.equal(profile.status, 200);
      assert.equal(profile.body.accounts.length, 1, JSON.stringify(profile.body));
      assert.equal(profile.body.accounts[0].url, `${a.origin}/@alice`);
      assert.equal(profile.body.accounts[0].acct, `alice@${new URL(a.origin).host}`);
    });

    test("a followers-only post is not resolved by its URL", async () => {
      const status = await createStatus(a.islet.core, a.owner!.account, { text: "not for searchers", visibility: "private" });
      const found = await api(b, "GET", `/api/v2/search?q=${encodeURIComponent(status.url!)}&resolve=true`, { token: bToken });
      assert.equal(found.status, 200);
      assert.deepEqual(found.body.statuses, []);
      assert.deepEqual(found.body.accounts, []);
    });

    test("a document claiming an id on another origin is fetched again from that id", async () => {
      const status = await createStatus(a.islet.core, a.owner!.account, { text: "the real words" });
      // Another server serves a copy with other words under A's post's id.
      docs.documents.set("/copy", {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: status.uri,
        type: "Note",
        attributedTo: `${a.origin}/users/alice`,
        content: "<p>forged words</p>",
        to: ["https://www.w3.org/ns/activitystreams#Public"],
      });
      const found = await api(b, "GET", `/api/v2/search?q=${encodeURIComponent(`${docs.origin}/copy`)}&resolve=true`, { token: bToken });
      assert.equal(found.status, 200);
      assert.equal(found.body.statuses.length, 1, JSON.stringify(found.body));
      assert.equal(found.body.statuses[0].uri, status.uri);
      assert.match(found.body.statuses[0].content, /the real words/);
      assert.doesNotMatch(found.body.statuses[0].content, /forged/);

      // An id that does not answer on its own origin: nothing is stored.
      docs.documents.set("/ghost", {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${a.origin}/users/alice/statuses/1`,
        type: "Note",
        attributedTo: `${a.origin}/users/alice`,
        content: "<p>never posted</p>",
        to: ["https://www.w3.org/ns/activitystreams#Public"],
      });
      const ghost = await api(b, "GET", `/api/v2/search?q=${encodeURIComponent(`${docs.origin}/ghost`)}&resolve=true`, { token: bToken });
      assert.deepEqual(ghost.body.statuses, []);
    });
  });

  describe(`page URLs under AUTHORIZED_FETCH (${kind})`, () => {
    let secure: TestInstance;
    let reader: TestInstance;
    let remote: RemoteServer;
    let readerToken: string;
    before(async () => {
      [secure, reader, remote] = await Promise.all([
        startInstance(kind, { username: "alice", env: { AUTHORIZED_FETCH: "true" } }),
        startInstance(kind, { username: "bob" }),
        startRemote("fetcher"),
      ]);
      readerToken = await ownerToken(reader);
    });
    after(async () => {
      await Promise.all([secure?.close(), reader?.close(), remote?.close()]);
    });

    test("a post's page URL is read with a signature made for that URL, and refused without one", async () => {
      const status = await createStatus(secure.islet.core, secure.owner!.account, { text: "for signed readers" });
      const url = status.url!.replace(secure.origin, secure.url);
      assert.equal((await activityGet(null, url)).status, 401);
      const signed = await activityGet(remote, url);
      assert.equal(signed.status, 200);
      assert.equal((await signed.json() as Record<string, unknown>).id, status.uri);
    });

    test("the profile URL answers as the actor's id does: reduced unsigned, whole to a signature made for it", async () => {
      const unsigned = await (await activityGet(null, `${secure.url}/@alice`)).json() as Record<string, unknown>;
      assert.equal(unsigned.id, `${secure.origin}/users/alice`);
      assert.equal(unsigned.outbox, undefined);
      const response = await activityGet(remote, `${secure.url}/@alice`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("Vary") ?? "", /Accept/);
      const signed = await response.json() as Record<string, unknown>;
      assert.equal(signed.outbox, `${secure.origin}/users/alice/outbox`);
      const atId = await (await activityGet(remote, `${secure.url}/users/alice`)).json();
      assert.deepEqual(signed, atId);
    });

    test("another Islet resolves the secure instance's post and profile by their page URLs", async () => {
      const status = await createStatus(secure.islet.core, secure.owner!.account, { text: "searched securely" });
      const found = await api(reader, "GET", `/api/v2/search?q=${encodeURIComponent(status.url!)}&resolve=true`, { token: readerToken });
      assert.equal(found.body.statuses[0]?.uri, status.uri, JSON.stringify(found.body));
      // The profile page hands unsigned readers the reduced actor; the
      // reader fetches the actor again at its id, signed, and gets all of it.
      const profile = await api(reader, "GET", `/api/v2/search?q=${encodeURIComponent(`${secure.origin}/@alice`)}&resolve=true&type=accounts`, { token: readerToken });
      assert.equal(profile.body.accounts.length, 1, JSON.stringify(profile.body));
      assert.equal(profile.body.accounts[0].url, `${secure.origin}/@alice`);
    });
  });
}
