/**
 * Web Push delivery, end to end: activities arrive in the inbox, become
 * notifications, and reach a push service on loopback, which checks the
 * VAPID signature and decrypts the message the way a browser would. The
 * push service's answers steer what happens next: 410 removes the
 * subscription, 500 is tried again, 400 is dropped. Alerts and policy
 * decide which notifications go out at all.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { and, desc, eq, sql } from "drizzle-orm";
import { hashToken } from "../../src/core/token-hash.ts";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { follows, notifications, oauthTokens, pushSubscriptions } from "../../src/db/schema.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { deliverPush, PUSH_QUEUE, PushRetryError, pushableSubscriptions } from "../../src/push/delivery.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, freePort, startInstance, type TestInstance } from "../helpers/instance.ts";
import { followActivity, startRemote, type RemoteServer } from "../helpers/remote.ts";
import { HANG, openPush, startPushService, userAgentKeys, type PushService, type UserAgentKeys } from "./push-service.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const PATH = "/api/v1/push/subscription";

interface Subscribed {
  token: string;
  id: string;
  endpoint: string;
  keys: UserAgentKeys;
  serverKey: string;
  standard: boolean;
}

for (const kind of databaseKinds()) {
  describe(`web push delivery (${kind})`, () => {
    let instance: TestInstance;
    let friend: RemoteServer;
    let stranger: RemoteServer;
    let service: PushService;
    let ownerUri: string;

    before(async () => {
      [instance, friend, stranger, service] = await Promise.all([
        startInstance(kind), startRemote("friend"), startRemote("stranger"), startPushService(),
      ]);
      ownerUri = `${instance.origin}/users/owner`;
      // The owner follows `friend`, not `stranger`.
      const account = await resolveAccount(instance.islet.federation, instance.islet.core, friend.actorId);
      await instance.islet.core.db.insert(follows).values({
        id: newId(), accountId: instance.owner!.account.id, targetAccountId: account.id, state: "accepted",
      });
    });
    after(async () => {
      await Promise.all([instance?.close(), friend?.close(), stranger?.close(), service?.close()]);
    });

    async function subscribe(data: Record<string, unknown>, standard = true): Promise<Subscribed> {
      const token = await ownerToken(instance, "read write follow push");
      const keys = userAgentKeys();
      const endpoint = service.endpoint();
      const response = await api(instance, "POST", PATH, {
        token,
        body: { subscription: { endpoint, standard, keys: { p256dh: keys.p256dh, auth: keys.auth.toString("base64url") } }, data },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return { token, id: response.body.id, endpoint, keys, serverKey: response.body.server_key, standard };
    }

    async function unsubscribe(subscribed: Subscribed): Promise<void> {
      await api(instance, "DELETE", PATH, { token: subscribed.token });
    }

    const pushesTo = (endpoint: string) => service.requests.filter((request) => `${service.origin}${request.path}` === endpoint);

    /** A public note by `remote` mentioning the owner, delivered to the inbox; resolves with its notification's id. */
    async function mention(remote: RemoteServer, text: string): Promise<bigint> {
      const id = `${remote.origin}/notes/${randomUUID()}`;
      const object = {
        id,
        type: "Note",
        attributedTo: remote.actorId,
        content: `<p><a href="${ownerUri}" class="u-url mention">@owner</a> ${text}</p>`,
        published: new Date().toISOString(),
        to: [PUBLIC],
        cc: [ownerUri],
        tag: [{ type: "Mention", href: ownerUri, name: "@owner@localhost" }],
      };
      const create = { "@context": AS, id: `${id}/activity`, type: "Create", actor: remote.actorId, object, to: object.to, cc: object.cc };
      assert.equal((await remote.post(`${instance.origin}/inbox`, create)).status, 202);
      const core = instance.islet.core;
      const status = await eventually(() => findStatusByUri(core, id), "the mention to be stored");
      const row = await eventually(async () => (await core.db.select().from(notifications).where(eq(notifications.statusId, status.id)))[0], "its notification");
      return row.id;
    }

    /** Rows of the push queue, done ones being deleted. */
    async function queuedPushes(): Promise<number> {
      const rows = await instance.islet.core.database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM queue_messages WHERE queue = ${PUSH_QUEUE} AND failed_at IS NULL`);
      return Number(rows[0].n);
    }

    test("a mention from the inbox is pushed: aes128gcm, VAPID-signed, Mastodon's payload", async () => {
      const subscribed = await subscribe({ alerts: { mention: true, follow: true }, policy: "all" });
      try {
        const notificationId = await mention(friend, "are you there? &amp; <b>hello</b>");
        const [request] = await eventually(async () => pushesTo(subscribed.endpoint).length > 0 && pushesTo(subscribed.endpoint), "the push");
        const opened = openPush(request, subscribed.keys, subscribed.serverKey, subscribed.endpoint, true);
        assert.equal(subscribed.serverKey, instance.islet.config.vapid.publicKey);
        assert.equal(opened.claims.sub, "mailto:owner@example.com");
        assert.equal(opened.notificationId, notificationId.toString(), "notification_id with every digit");
        const { payload } = opened;
        assert.equal(payload.notification_type, "mention");
        assert.equal(payload.access_token, subscribed.token);
        assert.equal(payload.preferred_locale, "en");
        assert.equal(payload.title, "Remote friend mentioned you");
        assert.equal(payload.body, "@owner are you there? & hello");
        assert.match(String(payload.icon), /^https?:\/\//);
        assert.deepEqual(Object.keys(payload).sort(), ["access_token", "body", "icon", "notification_id", "notification_type", "preferred_locale", "title"]);
      } finally {
        await unsubscribe(subscribed);
      }
    });

    test("a follow from the inbox is pushed to a legacy subscription (aesgcm)", async () => {
      const fan = await startRemote("fan");
      const subscribed = await subscribe({ alerts: { follow: true } }, false);
      try {
        assert.equal((await fan.post(`${instance.origin}/inbox`, followActivity(fan, ownerUri))).status, 202);
        const [request] = await eventually(async () => pushesTo(subscribed.endpoint).length > 0 && pushesTo(subscribed.endpoint), "the push");
        const opened = openPush(request, subscribed.keys, subscribed.serverKey, subscribed.endpoint, false);
        assert.equal(opened.payload.notification_type, "follow");
        assert.equal(opened.payload.title, "Remote fan is now following you");
        assert.equal(opened.payload.access_token, subscribed.token);
        const fanAccount = (await findAccountByUri(instance.islet.core, fan.actorId))!;
        const core = instance.islet.core;
        const row = (await core.db.select().from(notifications)
          .where(and(eq(notifications.fromAccountId, fanAccount.id), eq(notifications.type, "follow")))
          .orderBy(desc(notifications.id)).limit(1))[0];
        assert.equal(opened.notificationId, row.id.toString());
      } finally {
        await unsubscribe(subscribed);
        await fan.close();
      }
    });

    test("a type switched off is not pushed", async () => {
      const follower = await startRemote("follower");
      const subscribed = await subscribe({ alerts: { mention: true, follow: false } });
      try {
        const core = instance.islet.core;
        assert.equal((await follower.post(`${instance.origin}/inbox`, followActivity(follower, ownerUri))).status, 202);
        await eventually(async () => {
          const account = await findAccountByUri(core, follower.actorId);
          if (account == null) return false;
          return (await core.db.select().from(notifications).where(and(eq(notifications.fromAccountId, account.id), eq(notifications.type, "follow")))).length > 0;
        }, "the follow notification");
        const mentionId = await mention(friend, "only this one");
        await eventually(async () => pushesTo(subscribed.endpoint).length > 0, "the mention's push");
        await eventually(async () => await queuedPushes() === 0, "the push queue to empty");
        const pushes = pushesTo(subscribed.endpoint).map((request) => openPush(request, subscribed.keys, subscribed.serverKey, subscribed.endpoint, true));
        assert.deepEqual(pushes.map((push) => [push.payload.notification_type, push.notificationId]), [["mention", mentionId.toString()]]);
      } finally {
        await unsubscribe(subscribed);
        await follower.close();
      }
    });

    test("policy followed leaves out a stranger's mention", async () => {
      const subscribed = await subscribe({ alerts: { mention: true }, policy: "followed" });
      try {
        await mention(stranger, "you do not know me");
        const friendId = await mention(friend, "you follow me");
        await eventually(async () => pushesTo(subscribed.endpoint).length > 0, "the friend's push");
        await eventually(async () => await queuedPushes() === 0, "the push queue to empty");
        const pushes = pushesTo(subscribed.endpoint).map((request) => openPush(request, subscribed.keys, subscribed.serverKey, subscribed.endpoint, true));
        assert.deepEqual(pushes.map((push) => push.notificationId), [friendId.toString()]);
      } finally {
        await unsubscribe(subscribed);
      }
    });

    test("410 from the push service removes the subscription", async () => {
      const subscribed = await subscribe({ alerts: { mention: true } });
      service.script(subscribed.endpoint, 410);
      await mention(friend, "anyone home?");
      await eventually(async () => (await api(instance, "GET", PATH, { token: subscribed.token })).status === 404, "the subscription to be removed");
      assert.equal(pushesTo(subscribed.endpoint).length, 1);
      assert.equal(pushesTo(subscribed.endpoint)[0].status, 410);
      const rows = await instance.islet.core.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, BigInt(subscribed.id)));
      assert.equal(rows.length, 0);
    });

    test("500 from the push service is tried again, and the retry arrives whole", async () => {
      const subscribed = await subscribe({ alerts: { mention: true } });
      try {
        service.script(subscribed.endpoint, 500);
        const notificationId = await mention(friend, "second time lucky");
        const requests = await eventually(async () => pushesTo(subscribed.endpoint).length >= 2 && pushesTo(subscribed.endpoint), "the retry");
        assert.deepEqual(requests.map((request) => request.status), [500, 201]);
        for (const request of requests) {
          const opened = openPush(request, subscribed.keys, subscribed.serverKey, subscribed.endpoint, true);
          assert.equal(opened.notificationId, notificationId.toString());
        }
        assert.equal((await api(instance, "GET", PATH, { token: subscribed.token })).status, 200, "the subscription stays");
        await eventually(async () => await queuedPushes() === 0, "the push queue to empty");
      } finally {
        await unsubscribe(subscribed);
      }
    });

    test("another 4xx drops the message and keeps the subscription", async () => {
      const subscribed = await subscribe({ alerts: { mention: true } });
      try {
        service.script(subscribed.endpoint, 400);
        await mention(friend, "malformed, says the service");
        await eventually(async () => pushesTo(subscribed.endpoint).length > 0 && await queuedPushes() === 0, "the message to be done with");
        assert.deepEqual(pushesTo(subscribed.endpoint).map((request) => request.status), [400], "not tried again");
        assert.equal((await api(instance, "GET", PATH, { token: subscribed.token })).status, 200);
      } finally {
        await unsubscribe(subscribed);
      }
    });

    test("a push service that hangs or is down is tried again later; the worker does not wait for ever", async () => {
      const core = instance.islet.core;
      const hanging = await subscribe({ alerts: { mention: true } });
      const down = await subscribe({ alerts: { mention: true } });
      try {
        // No notification is made here, so the worker leaves these alone: the test delivers itself.
        const notificationId = (await core.db.select().from(notifications).orderBy(desc(notifications.id)).limit(1))[0].id.toString();
        service.script(hanging.endpoint, HANG);
        await assert.rejects(
          deliverPush(core, { subscriptionId: hanging.id, notificationId }, { timeoutMs: 300 }),
          (error: unknown) => error instanceof PushRetryError && /no answer/.test(error.message),
        );
        assert.equal(pushesTo(hanging.endpoint).length, 1, "the request reached the service");

        const closedPort = await freePort();
        await core.db.update(pushSubscriptions).set({ endpoint: `http://127.0.0.1:${closedPort}/push/down` }).where(eq(pushSubscriptions.id, BigInt(down.id)));
        await assert.rejects(
          deliverPush(core, { subscriptionId: down.id, notificationId }, { timeoutMs: 5000 }),
          (error: unknown) => error instanceof PushRetryError && /ECONNREFUSED/.test(error.message),
        );
        assert.equal((await api(instance, "GET", PATH, { token: down.token })).status, 200, "kept for the retry");

        // Gone or replaced since it was queued: nothing to send, nothing to retry.
        await unsubscribe(down);
        await deliverPush(core, { subscriptionId: down.id, notificationId });
      } finally {
        await unsubscribe(hanging);
        await unsubscribe(down);
      }
    });

    test("who is pushed to: policy, alerts, filtered notifications, revoked tokens", async () => {
      const core = instance.islet.core;
      const ownerId = instance.owner!.account.id;
      const [followed, follower, nobody] = await Promise.all([
        insertRemoteAccount(core, "followed", { domain: "policy.example" }),
        insertRemoteAccount(core, "follower", { domain: "policy.example" }),
        insertRemoteAccount(core, "nobody", { domain: "policy.example" }),
      ]);
      await core.db.insert(follows).values([
        { id: newId(), accountId: ownerId, targetAccountId: followed.id, state: "accepted" },
        { id: newId(), accountId: follower.id, targetAccountId: ownerId, state: "accepted" },
        // A pending request is not a follow.
        { id: newId(), accountId: nobody.id, targetAccountId: ownerId, state: "pending" },
      ]);
      const subscribed: Record<string, Subscribed> = {};
      for (const policy of ["all", "followed", "follower", "none"]) {
        subscribed[policy] = await subscribe({ alerts: { mention: true, reblog: policy === "all" }, policy });
      }
      const revoked = await subscribe({ alerts: { mention: true }, policy: "all" });
      try {
        await core.db.update(oauthTokens).set({ revokedAt: new Date() }).where(eq(oauthTokens.tokenHash, hashToken(revoked.token)));
        const policiesFor = async (fromAccountId: bigint, type = "mention", filtered = false) => {
          const found = await pushableSubscriptions(core, { accountId: ownerId, fromAccountId, type, filtered });
          const byId = new Map(Object.entries(subscribed).map(([policy, s]) => [s.id, policy]));
          return found.map((subscription) => byId.get(subscription.id.toString()) ?? "other").sort();
        };
        assert.deepEqual(await policiesFor(followed.id), ["all", "followed"]);
        assert.deepEqual(await policiesFor(follower.id), ["all", "follower"]);
        assert.deepEqual(await policiesFor(nobody.id), ["all"]);
        assert.deepEqual(await policiesFor(followed.id, "reblog"), ["all"]);
        assert.deepEqual(await policiesFor(followed.id, "favourite"), []);
        assert.deepEqual(await policiesFor(followed.id, "mention", true), [], "filtered notifications are not pushed");
      } finally {
        for (const s of Object.values(subscribed)) await unsubscribe(s);
        await core.db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, BigInt(revoked.id)));
      }
    });
  });
}
