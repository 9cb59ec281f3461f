/**
 * `/api/v1/instance` and `/api/v2/instance` as Mastodon clients read them:
 * shapes checked against the Mastodon OpenAPI description (when it is there),
 * the version string and API level clients choose features by, the contact
 * account, streaming URLs, CORS and the JSON 404 of unknown API paths.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const skipContract = !schema && "../shared/mastodon-openapi absent";

const VERSION_PATTERN = /^4\.\d+\.\d+ \(compatible; Islet \d+\.\d+\.\d+\)$/;

type Json = Record<string, any>;

async function getJson(instance: TestInstance, path: string, headers: Record<string, string> = {}): Promise<{ response: Response; body: Json }> {
  const response = await fetch(`${instance.url}${path}`, { headers: { Accept: "application/json", ...headers } });
  const text = await response.text();
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    assert.fail(`${path} answered ${response.status} with something other than JSON: ${text.slice(0, 200)}`);
  }
  return { response, body };
}

function assertJsonResponse(response: Response, path: string): void {
  assert.equal(response.status, 200, `${path} status`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json(;|$)/, `${path} content type`);
}

/** The streaming base URL the origin implies: ws:// for http, wss:// for https. */
function streamingUrlOf(origin: string): string {
  return origin.replace(/^http/, "ws");
}

for (const kind of databaseKinds()) {
  describe(`instance API (${kind})`, () => {
    let instance: TestInstance;

    before(async () => {
      instance = await startInstance(kind, { username: "owner" });
    });
    after(async () => {
      await instance?.close();
    });

    for (const path of ["/api/v1/instance", "/api/v1/instance/", "/api/v2/instance", "/api/v2/instance/"]) {
      test(`GET ${path} answers 200 with JSON`, async () => {
        const { response, body } = await getJson(instance, path);
        assertJsonResponse(response, path);
        assert.equal(typeof body.version, "string");
        assert.equal(typeof body.title, "string");
      });
    }

    test("v1 matches the Mastodon V1Instance schema", { skip: skipContract }, async () => {
      for (const path of ["/api/v1/instance", "/api/v1/instance/"]) {
        const { body } = await getJson(instance, path);
        assertMatchesSchema("V1Instance", body);
      }
    });

    test("v2 matches the Mastodon Instance schema", { skip: skipContract }, async () => {
      for (const path of ["/api/v2/instance", "/api/v2/instance/"]) {
        const { body } = await getJson(instance, path);
        assertMatchesSchema("Instance", body);
      }
    });

    test("the contact account matches the Mastodon Account schema", { skip: skipContract }, async () => {
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      assertMatchesSchema("Account", v2.contact.account);
      const { body: v1 } = await getJson(instance, "/api/v1/instance");
      assertMatchesSchema("Account", v1.contact_account);
    });

    test("version reads as a compatible Mastodon 4.x; API level at least 2", async () => {
      const { body: v1 } = await getJson(instance, "/api/v1/instance");
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      assert.match(v1.version, VERSION_PATTERN);
      assert.match(v2.version, VERSION_PATTERN);
      assert.equal(v1.version, v2.version);
      assert.equal(Number.isInteger(v2.api_versions?.mastodon), true, "api_versions.mastodon is an integer");
      assert.ok(v2.api_versions.mastodon >= 2, `api_versions.mastodon is ${v2.api_versions.mastodon}`);
    });

    test("registrations are closed", async () => {
      const { body: v1 } = await getJson(instance, "/api/v1/instance");
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      assert.equal(v1.registrations, false);
      assert.equal(v2.registrations.enabled, false);
    });

    test("the domain is the handle host", async () => {
      const host = new URL(instance.origin).host;
      const { body: v1 } = await getJson(instance, "/api/v1/instance");
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      assert.equal(v1.uri, host);
      assert.equal(v2.domain, host);
    });

    test("the contact account is the owner", async () => {
      const expected = { username: "owner", acct: "owner", url: `${instance.origin}/@owner` };
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      const account = v2.contact.account;
      assert.ok(account != null, "v2 contact.account is set");
      assert.deepEqual({ username: account.username, acct: account.acct, url: account.url }, expected);
      assert.equal(account.id, instance.owner!.account.id.toString());
      assert.equal(v2.contact.email, "owner@example.com");

      const { body: v1 } = await getJson(instance, "/api/v1/instance");
      const contact = v1.contact_account;
      assert.ok(contact != null, "v1 contact_account is set");
      assert.deepEqual({ username: contact.username, acct: contact.acct, url: contact.url }, expected);
      assert.equal(v1.email, "owner@example.com");
    });

    test("v2 carries the server's VAPID public key for Web Push", async () => {
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      assert.equal(v2.configuration.vapid.public_key, instance.islet.config.vapid.publicKey);
      assert.equal(Buffer.from(v2.configuration.vapid.public_key, "base64url").length, 65);
    });

    test("the streaming URL is the origin over ws://", async () => {
      const expected = streamingUrlOf(instance.origin);
      assert.match(expected, /^ws:\/\/localhost:\d+$/);
      const { body: v1 } = await getJson(instance, "/api/v1/instance");
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      assert.equal(v2.configuration.urls.streaming, expected);
      assert.equal(v1.urls.streaming_api, expected);
    });

    test("a request with an Origin gets CORS headers under /api/", async () => {
      for (const path of ["/api/v1/instance", "/api/v2/instance"]) {
        const { response } = await getJson(instance, path, { Origin: "https://client.example" });
        assert.equal(response.status, 200);
        const allowed = response.headers.get("access-control-allow-origin");
        assert.ok(allowed === "*" || allowed === "https://client.example", `${path}: Access-Control-Allow-Origin is ${allowed}`);
      }
    });

    test("a CORS preflight to /api/ is allowed", async () => {
      const response = await fetch(`${instance.url}/api/v2/instance`, {
        method: "OPTIONS",
        headers: {
          Origin: "https://client.example",
          "Access-Control-Request-Method": "GET",
          "Access-Control-Request-Headers": "authorization",
        },
      });
      assert.ok(response.status === 204 || response.status === 200, `preflight status ${response.status}`);
      assert.ok(response.headers.get("access-control-allow-origin") != null, "Access-Control-Allow-Origin");
      assert.match(response.headers.get("access-control-allow-methods") ?? "", /GET/);
    });

    test("an unknown API path is a JSON 404 with an error", async () => {
      const response = await fetch(`${instance.url}/api/v1/nope`, { headers: { Accept: "application/json" } });
      assert.equal(response.status, 404);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json(;|$)/);
      const body = await response.json() as Json;
      assert.equal(typeof body.error, "string");
      assert.ok(body.error.length > 0);
    });

    test("the 404 error body matches the Mastodon Error schema", { skip: skipContract }, async () => {
      const response = await fetch(`${instance.url}/api/v1/nope`);
      assert.equal(response.status, 404);
      assertMatchesSchema("Error", await response.json());
    });
  });

  describe(`instance API with no owner yet (${kind})`, () => {
    let instance: TestInstance;

    before(async () => {
      instance = await startInstance(kind, { username: null });
    });
    after(async () => {
      await instance?.close();
    });

    test("both versions answer, with no contact account", async () => {
      const { response: r1, body: v1 } = await getJson(instance, "/api/v1/instance");
      assertJsonResponse(r1, "/api/v1/instance");
      assert.ok("contact_account" in v1, "v1 has contact_account");
      assert.equal(v1.contact_account, null);
      assert.match(v1.version, VERSION_PATTERN);

      const { response: r2, body: v2 } = await getJson(instance, "/api/v2/instance");
      assertJsonResponse(r2, "/api/v2/instance");
      assert.ok("account" in v2.contact, "v2 has contact.account");
      assert.equal(v2.contact.account, null);
      assert.match(v2.version, VERSION_PATTERN);
      assert.equal(v2.registrations.enabled, false);
    });

    test("both versions match the Mastodon schemas", { skip: skipContract }, async () => {
      const { body: v1 } = await getJson(instance, "/api/v1/instance");
      assertMatchesSchema("V1Instance", v1);
      const { body: v2 } = await getJson(instance, "/api/v2/instance");
      assertMatchesSchema("Instance", v2);
    });
  });
}
