/**
 * What browsers and other servers see without logging in: the profile page,
 * the actor document, WebFinger, NodeInfo, host-meta, the health check, the
 * owner's collections and the placeholder images; and, with a WEB_DOMAIN
 * apart from LOCAL_DOMAIN, handles on one host and documents on the other.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { after, before, describe, test } from "node:test";
import { accounts } from "../../src/db/schema.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";

type Json = Record<string, any>;

const ACTIVITY_JSON = "application/activity+json";
const LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"';
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const DISPLAY_NAME = "Owen <Owner> & Co";
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function get(instance: TestInstance, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${instance.url}${path}`, { headers, redirect: "manual" });
}

async function getJson(instance: TestInstance, path: string, accept: string): Promise<{ response: Response; body: Json }> {
  const response = await get(instance, path, { Accept: accept });
  const text = await response.text();
  assert.equal(response.status, 200, `${path}: ${response.status} ${text.slice(0, 200)}`);
  return { response, body: JSON.parse(text) as Json };
}

/** Where a redirect points, resolved against the request URL. */
function redirectTarget(instance: TestInstance, response: Response): string {
  const location = response.headers.get("location");
  assert.ok(location != null, "a Location header");
  return new URL(location, instance.url).href;
}

/** A URL on the canonical origin, rewritten to the address the test server listens at. */
function onTestServer(instance: TestInstance, url: string): string {
  const parsed = new URL(url);
  return `${instance.url}${parsed.pathname}${parsed.search}`;
}

/** The attributes of every `<link>` in an HTML document. */
function linkTags(html: string): Record<string, string>[] {
  return [...html.matchAll(/<link\b([^>]*)>/gi)].map((match) => {
    const attributes: Record<string, string> = {};
    for (const attribute of match[1].matchAll(/([a-z-]+)\s*=\s*("([^"]*)"|'([^']*)')/gi)) {
      attributes[attribute[1].toLowerCase()] = attribute[3] ?? attribute[4];
    }
    return attributes;
  });
}

function selfLink(jrd: Json): Json | undefined {
  return (jrd.links as Json[] | undefined)?.find((link) => link.rel === "self");
}

for (const kind of databaseKinds()) {
  describe(`public web and federation endpoints (${kind})`, () => {
    let instance: TestInstance;
    let actorId: string;
    let handleHost: string;

    before(async () => {
      instance = await startInstance(kind, { username: "owner" });
      await instance.islet.core.db.update(accounts).set({ displayName: DISPLAY_NAME }).where(eq(accounts.id, instance.owner!.account.id));
      actorId = `${instance.origin}/users/owner`;
      handleHost = new URL(instance.origin).host;
    });
    after(async () => {
      await instance?.close();
    });

    test("GET / redirects to the owner's profile", async () => {
      const response = await get(instance, "/");
      assert.ok([301, 302, 303, 307, 308].includes(response.status), `status ${response.status}`);
      assert.equal(new URL(redirectTarget(instance, response)).pathname, "/@owner");
    });

    test("GET /@owner is an HTML page with the name, the handle and a link to the actor", async () => {
      const response = await get(instance, "/@owner");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
      const html = await response.text();
      assert.ok(html.includes(`@owner@${handleHost}`), "the page shows the handle");
      assert.ok(html.includes("Owen &lt;Owner&gt; &amp; Co"), "the page shows the display name, escaped");
      assert.ok(!html.includes(DISPLAY_NAME), "the display name is never inserted unescaped");
      const alternate = linkTags(html).find((link) =>
        link.rel === "alternate" && link.type === ACTIVITY_JSON
      );
      assert.ok(alternate != null, 'a <link rel="alternate" type="application/activity+json">');
      assert.equal(alternate.href, actorId);
    });

    test("every HTML page carries a Content-Security-Policy that allows no script", async () => {
      for (const [path, status] of [["/@owner", 200], ["/@nobody", 404], ["/oauth/authorize?client_id=none&response_type=code&redirect_uri=urn:ietf:wg:oauth:2.0:oob", 400]] as const) {
        const response = await get(instance, path, { Accept: BROWSER_ACCEPT });
        assert.equal(response.status, status, path);
        assert.match(response.headers.get("content-type") ?? "", /^text\/html/, path);
        const policy = response.headers.get("content-security-policy") ?? "";
        assert.match(policy, /default-src 'none'/, path);
        assert.doesNotMatch(policy, /script-src/, path);
        assert.match(policy, /frame-ancestors 'none'/, path);
        assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
        await response.body?.cancel();
      }
    });

    test("GET /@nobody is a 404", async () => {
      const response = await get(instance, "/@nobody");
      assert.equal(response.status, 404);
      await response.body?.cancel();
    });

    test("the actor URL opened in a browser redirects to the profile page", async () => {
      for (const accept of ["text/html", BROWSER_ACCEPT]) {
        const response = await get(instance, "/users/owner", { Accept: accept });
        assert.ok([301, 302, 303, 307, 308].includes(response.status), `Accept ${accept}: status ${response.status}`);
        assert.equal(new URL(redirectTarget(instance, response)).pathname, "/@owner");
      }
    });

    test("the actor URL asked for as ActivityPub is the owner's Person", async () => {
      const { response, body: actor } = await getJson(instance, "/users/owner", ACTIVITY_JSON);
      assert.match(response.headers.get("content-type") ?? "", /^application\/(activity|ld)\+json/);
      assert.equal(actor.id, actorId);
      assert.equal(actor.type, "Person");
      assert.equal(actor.preferredUsername, "owner");
      assert.equal(actor.name, DISPLAY_NAME);
      assert.equal(actor.url, `${instance.origin}/@owner`);
      assert.equal(actor.inbox, `${actorId}/inbox`);
      assert.equal(actor.outbox, `${actorId}/outbox`);
      assert.equal(actor.followers, `${actorId}/followers`);
      assert.equal(actor.following, `${actorId}/following`);
      assert.equal(actor.featured, `${actorId}/collections/featured`);
      assert.equal(actor.endpoints?.sharedInbox, `${instance.origin}/inbox`);
      assert.equal(actor.manuallyApprovesFollowers, false);
      assert.equal(actor.discoverable, true);

      assert.equal(actor.publicKey?.owner, actorId);
      assert.ok(typeof actor.publicKey.id === "string" && actor.publicKey.id.startsWith(`${actorId}#`), actor.publicKey.id);
      assert.match(actor.publicKey.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);

      const methods = actor.assertionMethod as Json[];
      assert.ok(Array.isArray(methods), "assertionMethod is a list");
      assert.equal(methods.length, 2);
      for (const method of methods) {
        assert.equal(method.type, "Multikey");
        assert.equal(method.controller, actorId);
        assert.ok(typeof method.id === "string" && method.id.startsWith(`${actorId}#`), method.id);
        assert.match(method.publicKeyMultibase, /^z[1-9A-HJ-NP-Za-km-z]+$/);
      }
      assert.notEqual(methods[0].id, methods[1].id);
      assert.ok(methods.some((method) => method.publicKeyMultibase.startsWith("z6Mk")), "one of them is an Ed25519 key");
    });

    test("the actor is served for the ld+json Accept as well", async () => {
      const { body: actor } = await getJson(instance, "/users/owner", LD_JSON);
      assert.equal(actor.id, actorId);
      assert.equal(actor.type, "Person");
    });

    test("an unknown actor is a 404 for ActivityPub", async () => {
      const response = await get(instance, "/users/nobody", { Accept: ACTIVITY_JSON });
      assert.equal(response.status, 404);
      await response.body?.cancel();
    });

    test("WebFinger for acct:owner@host links to the actor", async () => {
      const resource = `acct:owner@${handleHost}`;
      const { response, body } = await getJson(instance, `/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, "application/jrd+json");
      assert.match(response.headers.get("content-type") ?? "", /^application\/(jrd\+)?json/);
      assert.equal(body.subject, resource);
      const self = selfLink(body);
      assert.ok(self != null, "a self link");
      assert.equal(self.href, actorId);
      assert.equal(self.type, ACTIVITY_JSON);
      const profile = (body.links as Json[]).find((link) => link.rel === "http://webfinger.net/rel/profile-page");
      assert.equal(profile?.href, `${instance.origin}/@owner`);
    });

    test("WebFinger with the actor URL as resource links to the actor", async () => {
      const { body } = await getJson(instance, `/.well-known/webfinger?resource=${encodeURIComponent(actorId)}`, "application/jrd+json");
      assert.equal(body.subject, actorId);
      assert.ok((body.aliases as string[]).includes(`acct:owner@${handleHost}`), JSON.stringify(body.aliases));
      assert.equal(selfLink(body)?.href, actorId);
    });

    test("WebFinger for an unknown account or another domain is a 404", async () => {
      for (const resource of [`acct:nobody@${handleHost}`, "acct:owner@elsewhere.example"]) {
        const response = await get(instance, `/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, { Accept: "application/jrd+json" });
        assert.equal(response.status, 404, resource);
        await response.body?.cancel();
      }
    });

    test("NodeInfo: /.well-known/nodeinfo leads to /nodeinfo/2.1 describing Islet", async () => {
      const { body: jrd } = await getJson(instance, "/.well-known/nodeinfo", "application/json");
      const link = (jrd.links as Json[]).find((l) => l.rel === "http://nodeinfo.diaspora.software/ns/schema/2.1");
      assert.ok(link != null, JSON.stringify(jrd));
      assert.equal(link.href, `${instance.origin}/nodeinfo/2.1`);

      const response = await fetch(onTestServer(instance, link.href), { headers: { Accept: "application/json" } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const nodeinfo = await response.json() as Json;
      assert.equal(nodeinfo.version, "2.1");
      assert.equal(nodeinfo.software.name, "islet");
      assert.match(nodeinfo.software.version, /^\d+\.\d+\.\d+/);
      assert.deepEqual(nodeinfo.protocols, ["activitypub"]);
      assert.equal(nodeinfo.openRegistrations, false);
      assert.equal(nodeinfo.usage.users.total, 1);
    });

    test("host-meta is an XRD with the WebFinger template", async () => {
      const response = await get(instance, "/.well-known/host-meta");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/xrd\+xml/);
      const xml = await response.text();
      assert.match(xml, /<XRD xmlns="http:\/\/docs\.oasis-open\.org\/ns\/xri\/xrd-1\.0">/);
      const template = /<Link\s+rel="lrdd"\s+template="([^"]+)"/.exec(xml)?.[1];
      assert.equal(template, `${instance.origin}/.well-known/webfinger?resource={uri}`);
    });

    test("GET /health answers OK", async () => {
      const response = await get(instance, "/health");
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "OK");
    });

    for (const name of ["outbox", "followers", "following"]) {
      test(`the ${name} is an empty OrderedCollection whose first page is an OrderedCollectionPage`, async () => {
        const { response, body: collection } = await getJson(instance, `/users/owner/${name}`, ACTIVITY_JSON);
        assert.match(response.headers.get("content-type") ?? "", /^application\/(activity|ld)\+json/);
        assert.equal(collection.type, "OrderedCollection");
        assert.equal(collection.id, `${actorId}/${name}`);
        assert.equal(collection.totalItems, 0);
        assert.equal(typeof collection.first, "string", "first is a link");
        const first = new URL(collection.first);
        assert.equal(first.pathname, `/users/owner/${name}`);

        const pageResponse = await fetch(onTestServer(instance, collection.first), { headers: { Accept: ACTIVITY_JSON } });
        assert.equal(pageResponse.status, 200);
        const page = await pageResponse.json() as Json;
        assert.equal(page.type, "OrderedCollectionPage");
        assert.equal(new URL(page.id).pathname, `/users/owner/${name}`);
        assert.equal(new URL(page.partOf).pathname, `/users/owner/${name}`);
        assert.deepEqual(page.orderedItems ?? [], []);
      });
    }

    test("the default avatar and header are PNG images", async () => {
      for (const path of ["/avatars/original/missing.png", "/headers/original/missing.png"]) {
        const response = await get(instance, path);
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get("content-type"), "image/png");
        const bytes = new Uint8Array(await response.arrayBuffer());
        assert.ok(bytes.length > PNG_MAGIC.length, `${path} has content`);
        assert.deepEqual([...bytes.subarray(0, PNG_MAGIC.length)], PNG_MAGIC, `${path} starts with the PNG signature`);
      }
    });
  });

  describe(`public web with no owner yet (${kind})`, () => {
    let instance: TestInstance;

    before(async () => {
      instance = await startInstance(kind, { username: null });
    });
    after(async () => {
      await instance?.close();
    });

    test("GET / is a page telling to run `islet setup`", async () => {
      const response = await get(instance, "/");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(await response.text(), /islet setup/);
      assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    });

    test("NodeInfo counts no users", async () => {
      const { body: nodeinfo } = await getJson(instance, "/nodeinfo/2.1", "application/json");
      assert.equal(nodeinfo.usage.users.total, 0);
    });
  });

  describe(`WEB_DOMAIN apart from LOCAL_DOMAIN (${kind})`, () => {
    let instance: TestInstance;

    before(async () => {
      instance = await startInstance(kind, {
        username: "owner",
        env: { LOCAL_DOMAIN: "example.com", WEB_DOMAIN: "social.example.com" },
      });
    });
    after(async () => {
      await instance?.close();
    });

    test("the canonical origin is https://WEB_DOMAIN", () => {
      assert.equal(instance.origin, "https://social.example.com");
    });

    test("WebFinger for acct:owner@LOCAL_DOMAIN answers with the actor on WEB_DOMAIN", async () => {
      const resource = "acct:owner@example.com";
      const { body } = await getJson(instance, `/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, "application/jrd+json");
      assert.equal(body.subject, resource);
      assert.equal(selfLink(body)?.href, "https://social.example.com/users/owner");
    });

    test("the actor document uses the WEB_DOMAIN origin, not the address it was fetched from", async () => {
      const { body: actor } = await getJson(instance, "/users/owner", ACTIVITY_JSON);
      assert.equal(actor.id, "https://social.example.com/users/owner");
      assert.equal(actor.inbox, "https://social.example.com/users/owner/inbox");
      assert.equal(actor.url, "https://social.example.com/@owner");
      assert.equal(actor.publicKey?.owner, "https://social.example.com/users/owner");
    });

    test("host-meta points at WebFinger on WEB_DOMAIN", async () => {
      const response = await get(instance, "/.well-known/host-meta");
      assert.equal(response.status, 200);
      assert.match(await response.text(), /template="https:\/\/social\.example\.com\/\.well-known\/webfinger\?resource=\{uri\}"/);
    });

    test("the profile page shows the handle on LOCAL_DOMAIN", async () => {
      const response = await get(instance, "/@owner");
      assert.equal(response.status, 200);
      const html = await response.text();
      assert.ok(html.includes("@owner@example.com"), "the handle uses LOCAL_DOMAIN");
      const alternate = linkTags(html).find((link) => link.rel === "alternate" && link.type === ACTIVITY_JSON);
      assert.equal(alternate?.href, "https://social.example.com/users/owner");
    });
  });
}
