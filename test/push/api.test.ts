/**
 * `/api/v1/push/subscription`: create (JSON or form), show, update, delete;
 * one subscription per access token, replaced by a second POST; the `push`
 * scope; bad endpoints and keys refused with 422.
 */
import assert from "node:assert/strict";
import { createECDH, randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { pushSubscriptions } from "../../src/db/schema.ts";
import { isPublicAddress } from "../../src/net/public-address.ts";
import { ForbiddenEndpointError, endpointProblem, postToPushService } from "../../src/push/endpoint.ts";
import { PUSH_ALERT_TYPES } from "../../src/push/subscriptions.ts";
import { api, ownerToken, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import type { TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const PATH = "/api/v1/push/subscription";

function keys() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") };
}

function subscriptionBody(endpoint: string, extra: Record<string, unknown> = {}) {
  return { subscription: { endpoint, keys: keys() }, ...extra };
}

describe("push endpoints: which URLs may be pushed to", () => {
  test("https only, no private or loopback address, unless private addresses are allowed", () => {
    assert.equal(endpointProblem("https://push.example.net/wpush/v2/abc", false), null);
    assert.match(endpointProblem("http://push.example.net/x", false) ?? "", /https/);
    assert.match(endpointProblem("ftp://push.example.net/x", true) ?? "", /https/);
    assert.match(endpointProblem("not a url", false) ?? "", /not a URL/);
    assert.match(endpointProblem("https://user:pw@push.example.net/x", false) ?? "", /user name/);
    for (const host of ["127.0.0.1", "10.1.2.3", "192.168.0.9", "169.254.169.254", "[::1]", "[fd00::1]", "[::ffff:127.0.0.1]", "localhost"]) {
      assert.match(endpointProblem(`https://${host}/x`, false) ?? "", /private/, host);
    }
    assert.equal(endpointProblem("http://127.0.0.1:9/x", true), null);
    assert.equal(isPublicAddress("93.184.215.14"), true);
    assert.equal(isPublicAddress("2a00:1450:4001:82a::200e"), true);
    assert.equal(isPublicAddress("100.64.0.1"), false);
    assert.equal(isPublicAddress("fe80::1"), false);
  });

  test("a name that leads to a private address is refused when connecting", async (t) => {
    const name = hostname();
    const addresses = await lookup(name, { all: true }).catch(() => []);
    if (addresses.length === 0 || addresses.some((entry) => isPublicAddress(entry.address))) {
      t.skip(`${name} does not resolve to private addresses only here`);
      return;
    }
    await assert.rejects(
      postToPushService(`https://${name}:9/push`, {}, Buffer.from("x"), { allowPrivateAddress: false, timeoutMs: 5000 }),
      (error: unknown) => error instanceof ForbiddenEndpointError && /not a public address/.test(error.message),
    );
    await assert.rejects(
      postToPushService("https://127.0.0.1:9/push", {}, null, { allowPrivateAddress: false, timeoutMs: 5000 }),
      ForbiddenEndpointError,
    );
  });
});

for (const kind of databaseKinds()) {
  describe(`push subscription API (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    withOwnerInstance(kind, (started, owner) => {
      instance = started;
      token = owner;
    });

    const serverKey = () => instance.islet.config.vapid.publicKey;

    test("without a subscription: GET and PUT answer 404, DELETE answers {}", async () => {
      const shown = await api(instance, "GET", PATH, { token });
      assert.equal(shown.status, 404);
      assert.deepEqual(shown.body, { error: "Record not found" });
      const updated = await api(instance, "PUT", PATH, { token, body: { data: { policy: "none" } } });
      assert.equal(updated.status, 404);
      assert.deepEqual(updated.body, { error: "Record not found" });
      const deleted = await api(instance, "DELETE", PATH, { token });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, {});
    });

    test("create (JSON), show, update alerts and policy, delete", async () => {
      const endpoint = "https://push.example.net/wpush/v2/first";
      const created = await api(instance, "POST", PATH, {
        token,
        body: subscriptionBody(endpoint, { data: { alerts: { mention: true, follow: "true", favourite: false, "admin.report": true }, policy: "followed" } }),
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const body = created.body;
      assert.match(body.id, /^\d+$/);
      assert.equal(body.endpoint, endpoint);
      assert.equal(body.standard, false);
      assert.equal(body.policy, "followed");
      assert.equal(body.server_key, serverKey());
      assert.deepEqual(Object.keys(body.alerts).sort(), [...PUSH_ALERT_TYPES].sort());
      for (const type of PUSH_ALERT_TYPES) {
        assert.equal(body.alerts[type], ["mention", "follow", "admin.report"].includes(type), type);
      }
      if (schema != null) assertMatchesSchema("WebPushSubscription", body);

      const shown = await api(instance, "GET", PATH, { token });
      assert.equal(shown.status, 200);
      assert.deepEqual(shown.body, body);

      // Alerts replaced as given; the policy from the top level, as the PUT documentation has it.
      const updated = await api(instance, "PUT", PATH, { token, body: { data: { alerts: { reblog: true, poll: "1" } }, policy: "follower" } });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.id, body.id);
      assert.equal(updated.body.policy, "follower");
      for (const type of PUSH_ALERT_TYPES) assert.equal(updated.body.alerts[type], type === "reblog" || type === "poll", type);
      if (schema != null) assertMatchesSchema("WebPushSubscription", updated.body);

      // Only the policy: the alerts stay.
      const policyOnly = await api(instance, "PUT", PATH, { token, body: { data: { policy: "none" } } });
      assert.equal(policyOnly.body.policy, "none");
      assert.deepEqual(policyOnly.body.alerts, updated.body.alerts);
      assert.deepEqual((await api(instance, "GET", PATH, { token })).body, policyOnly.body);

      const deleted = await api(instance, "DELETE", PATH, { token });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, {});
      assert.equal((await api(instance, "GET", PATH, { token })).status, 404);
    });

    test("create from a form with Rails-style brackets, standard and all alerts", async () => {
      const endpoint = "https://push.example.net/wpush/v2/form";
      const { p256dh, auth } = keys();
      const form = new URLSearchParams({
        "subscription[endpoint]": endpoint,
        "subscription[keys][p256dh]": p256dh,
        "subscription[keys][auth]": auth,
        "subscription[standard]": "true",
        "data[policy]": "all",
      });
      for (const type of PUSH_ALERT_TYPES) form.set(`data[alerts][${type}]`, "true");
      const created = await api(instance, "POST", PATH, { token, body: form });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.standard, true);
      assert.equal(created.body.policy, "all");
      for (const type of PUSH_ALERT_TYPES) assert.equal(created.body.alerts[type], true, type);
      const row = (await instance.islet.core.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, BigInt(created.body.id))))[0];
      assert.equal(row.p256dh, p256dh);
      assert.equal(row.auth, auth);
      if (schema != null) assertMatchesSchema("WebPushSubscription", created.body);
      await api(instance, "DELETE", PATH, { token });
    });

    test("defaults: no data means every alert off and policy all; padded standard base64 keys are taken", async () => {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const created = await api(instance, "POST", PATH, {
        token,
        body: { subscription: { endpoint: "https://push.example.net/x", keys: { p256dh: ecdh.getPublicKey().toString("base64"), auth: randomBytes(16).toString("base64") } } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.policy, "all");
      assert.equal(created.body.standard, false);
      for (const type of PUSH_ALERT_TYPES) assert.equal(created.body.alerts[type], false, type);
      await api(instance, "DELETE", PATH, { token });
    });

    test("a second POST replaces the token's subscription; each token has its own", async () => {
      const other = await ownerToken(instance, "push");
      const first = await api(instance, "POST", PATH, { token, body: subscriptionBody("https://push.example.net/one", { data: { alerts: { mention: true } } }) });
      const theirs = await api(instance, "POST", PATH, { token: other, body: subscriptionBody("https://push.example.net/theirs") });
      assert.equal(first.status, 200);
      assert.equal(theirs.status, 200);
      const second = await api(instance, "POST", PATH, { token, body: subscriptionBody("https://push.example.net/two", { data: { alerts: { follow: true } } }) });
      assert.equal(second.status, 200);
      assert.notEqual(second.body.id, first.body.id, "a new subscription");
      assert.equal(second.body.alerts.mention, false, "nothing kept from the old one");
      assert.equal(second.body.alerts.follow, true);

      const shown = await api(instance, "GET", PATH, { token });
      assert.equal(shown.body.id, second.body.id);
      assert.equal(shown.body.endpoint, "https://push.example.net/two");
      const rows = await instance.islet.core.db.select().from(pushSubscriptions);
      assert.deepEqual(rows.map((row) => row.endpoint).sort(), ["https://push.example.net/theirs", "https://push.example.net/two"]);

      // Deleting one token's subscription leaves the other's.
      await api(instance, "DELETE", PATH, { token });
      assert.equal((await api(instance, "GET", PATH, { token })).status, 404);
      assert.equal((await api(instance, "GET", PATH, { token: other })).body.id, theirs.body.id);
      await api(instance, "DELETE", PATH, { token: other });
    });

    test("the push scope is required; no token is a 401", async () => {
      const withoutPush = await ownerToken(instance, "read write follow");
      for (const method of ["POST", "GET", "PUT", "DELETE"]) {
        const response = await api(instance, method, PATH, {
          token: withoutPush,
          body: method === "POST" ? subscriptionBody("https://push.example.net/x") : method === "PUT" ? { policy: "all" } : undefined,
        });
        assert.equal(response.status, 403, `${method}: ${JSON.stringify(response.body)}`);
        assert.equal(typeof response.body.error, "string");
      }
      assert.equal((await api(instance, "GET", PATH, { token: null })).status, 401);
      assert.equal((await api(instance, "POST", PATH, { token: null, body: subscriptionBody("https://push.example.net/x") })).status, 401);
      const pushOnly = await ownerToken(instance, "push");
      const created = await api(instance, "POST", PATH, { token: pushOnly, body: subscriptionBody("https://push.example.net/p") });
      assert.equal(created.status, 200);
      await api(instance, "DELETE", PATH, { token: pushOnly });
    });

    test("bad input is a 422 and stores nothing", async () => {
      const good = keys();
      const notOnCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString("base64url");
      const compressed = Buffer.concat([Buffer.from([2]), randomBytes(32)]).toString("base64url");
      const cases: [string, unknown][] = [
        ["no subscription", { data: { alerts: { mention: true } } }],
        ["no keys", { subscription: { endpoint: "https://push.example.net/x" } }],
        ["no endpoint", { subscription: { keys: good } }],
        ["an endpoint that is not a URL", { subscription: { endpoint: "push me", keys: good } }],
        ["an ftp endpoint", { subscription: { endpoint: "ftp://push.example.net/x", keys: good } }],
        ["a p256dh of the wrong length", { subscription: { endpoint: "https://push.example.net/x", keys: { ...good, p256dh: randomBytes(64).toString("base64url") } } }],
        ["a p256dh off the curve", { subscription: { endpoint: "https://push.example.net/x", keys: { ...good, p256dh: notOnCurve } } }],
        ["a compressed p256dh", { subscription: { endpoint: "https://push.example.net/x", keys: { ...good, p256dh: compressed } } }],
        ["a p256dh that is not base64", { subscription: { endpoint: "https://push.example.net/x", keys: { ...good, p256dh: "not base64!" } } }],
        ["an auth of 15 bytes", { subscription: { endpoint: "https://push.example.net/x", keys: { ...good, auth: randomBytes(15).toString("base64url") } } }],
        ["an auth of 32 bytes", { subscription: { endpoint: "https://push.example.net/x", keys: { ...good, auth: randomBytes(32).toString("base64url") } } }],
        ["an unknown policy", { subscription: { endpoint: "https://push.example.net/x", keys: good }, data: { policy: "friends" } }],
        ["an alert that is not a boolean", { subscription: { endpoint: "https://push.example.net/x", keys: good }, data: { alerts: { mention: "maybe" } } }],
        ["a subscription that is a string", { subscription: "https://push.example.net/x" }],
      ];
      for (const [what, body] of cases) {
        const response = await api(instance, "POST", PATH, { token, body });
        assert.equal(response.status, 422, `${what}: ${response.status} ${JSON.stringify(response.body)}`);
        assert.match(response.body.error, /^Validation failed: /, what);
      }
      assert.equal((await api(instance, "GET", PATH, { token })).status, 404, "nothing stored");

      await api(instance, "POST", PATH, { token, body: subscriptionBody("https://push.example.net/x") });
      const badPolicy = await api(instance, "PUT", PATH, { token, body: { data: { policy: "everyone" } } });
      assert.equal(badPolicy.status, 422);
      const badAlert = await api(instance, "PUT", PATH, { token, body: { data: { alerts: { follow: "perhaps" } } } });
      assert.equal(badAlert.status, 422);
      assert.equal((await api(instance, "GET", PATH, { token })).body.policy, "all", "unchanged");
      await api(instance, "DELETE", PATH, { token });
    });
  });
}
