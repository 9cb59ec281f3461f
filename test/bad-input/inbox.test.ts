/**
 * The inbox fed hostile payloads: invalid JSON, huge and deeply nested
 * bodies, wrong types, unknown types, spoofed actors, bad or missing
 * signatures, replayed dates and objects from another origin. Each answer
 * is a 4xx, or a 202 for a well-signed activity that is ignored (as
 * Mastodon does); never a 5xx. The server answers normally afterwards and
 * stored nothing from any of it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateCryptoKeyPair, signRequest } from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { sql } from "drizzle-orm";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;

interface Case {
  name: string;
  body: string;
  sign: "own" | "none" | "wrong-key" | "garbled" | "stale" | "future";
  /** A 202 is a fine answer (well signed, then ignored); otherwise only 4xx. */
  mayAccept: boolean;
  /** Expect exactly this status. */
  expect?: number;
}

function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

function nestedObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** Builds the few hundred hostile payloads. */
function cases(remote: RemoteServer, other: RemoteServer, owner: string): Case[] {
  const list: Case[] = [];
  const note = (n: string, extra: Record<string, unknown> = {}) => ({
    id: `${remote.origin}/notes/hostile-${n}`,
    type: "Note",
    attributedTo: remote.actorId,
    content: `<p>hostile ${n}</p>`,
    to: [PUBLIC],
    ...extra,
  });
  const create = (n: string, object: unknown, extra: Record<string, unknown> = {}) =>
    ({ "@context": AS, id: `${remote.origin}/activities/hostile-${n}`, type: "Create", actor: remote.actorId, object, to: [PUBLIC], ...extra });

  // Not JSON at all, or not an object.
  const notJson = ["", " ", "{", "}", "{\"id\":", "[1,2", "null", "true", "42", "\"string\"", "[]", "[{}]", "\u0000\u0001\u0002", "{'single':'quotes'}", "{\"a\":NaN}", "\uFEFF{}", "<xml/>", "a=b&c=d", "{\"a\":1}{\"b\":2}", "\xff\xfe\xfd"];
  for (const [i, body] of notJson.entries()) {
    list.push({ name: `not JSON #${i} signed`, body, sign: "own", mayAccept: false });
    list.push({ name: `not JSON #${i} unsigned`, body, sign: "none", mayAccept: false });
  }
  // Deeply nested.
  for (const depth of [100, 1_000, 10_000, 50_000]) {
    list.push({ name: `arrays nested ${depth} deep`, body: nested(depth), sign: "own", mayAccept: false });
    list.push({ name: `objects nested ${depth} deep`, body: nestedObject(depth), sign: "own", mayAccept: false });
    list.push({ name: `Create with content nested ${depth} deep`, body: JSON.stringify(create(`deep-${depth}`, note(`deep-${depth}`))).replace('"content":"<p>hostile deep-' + depth + '</p>"', `"content":${nestedObject(Math.min(depth, 5_000))}`), sign: "own", mayAccept: true });
  }
  // Wrong types for every field of a Create and its Note.
  const wrongValues: unknown[] = [null, 0, -1, 1e308, true, "", "not a url", "javascript:alert(1)", [], [null], {}, { id: 5 }, [1, 2, 3], "x".repeat(10_000)];
  for (const field of ["id", "type", "actor", "object", "to", "cc", "@context", "published"]) {
    for (const [i, value] of wrongValues.entries()) {
      list.push({ name: `Create.${field} = wrong value #${i}`, body: JSON.stringify({ ...create(`wrong-${field}-${i}`, note(`wrong-${field}-${i}`)), [field]: value }), sign: "own", mayAccept: true });
    }
  }
  for (const field of ["id", "attributedTo", "content", "to", "tag", "attachment", "inReplyTo", "published", "sensitive", "summary", "url"]) {
    for (const [i, value] of wrongValues.entries()) {
      list.push({ name: `Note.${field} = wrong value #${i}`, body: JSON.stringify(create(`note-${field}-${i}`, note(`note-${field}-${i}`, { [field]: value }))), sign: "own", mayAccept: true });
    }
  }
  // Unknown activity and object types.
  for (const type of ["Foo", "Explode", "Question2", "", "Create ", "create", "http://example.com/ns#Custom", "Delete\u0000"]) {
    list.push({ name: `unknown activity type ${JSON.stringify(type)}`, body: JSON.stringify({ "@context": AS, id: `${remote.origin}/activities/${encodeURIComponent(type)}`, type, actor: remote.actorId, object: owner }), sign: "own", mayAccept: true });
    list.push({ name: `Create of unknown object type ${JSON.stringify(type)}`, body: JSON.stringify(create(`type-${encodeURIComponent(type)}`, { ...note(`type-${encodeURIComponent(type)}`), type })), sign: "own", mayAccept: true });
  }
  // Spoofed actors: signed with the sender's own key, claiming another actor.
  for (const actor of [other.actorId, owner, "https://mastodon.social/users/Gargron", `${remote.origin}/users/nobody`]) {
    list.push({ name: `Follow claiming ${actor}`, body: JSON.stringify({ "@context": AS, id: `${remote.origin}/follows/spoof-${encodeURIComponent(actor)}`, type: "Follow", actor, object: owner }), sign: "own", mayAccept: false });
    list.push({ name: `Create claiming ${actor}`, body: JSON.stringify(create(`spoof-${encodeURIComponent(actor)}`, note(`spoof-${encodeURIComponent(actor)}`, { attributedTo: actor }), { actor })), sign: "own", mayAccept: false });
  }
  // Objects from another origin than the actor's.
  for (const [i, origin] of [other.origin, "https://elsewhere.example", owner].entries()) {
    list.push({
      name: `Create of a Note on another origin #${i}`,
      body: JSON.stringify(create(`foreign-${i}`, note(`foreign-${i}`, { id: `${origin}/notes/foreign-${i}`, attributedTo: other.actorId }))),
      sign: "own",
      mayAccept: true,
    });
    list.push({
      name: `Delete of an object on another origin #${i}`,
      body: JSON.stringify({ "@context": AS, id: `${remote.origin}/deletes/foreign-${i}`, type: "Delete", actor: remote.actorId, object: `${origin}/notes/1` }),
      sign: "own",
      mayAccept: true,
    });
    list.push({
      name: `Update of another actor #${i}`,
      body: JSON.stringify({ "@context": AS, id: `${remote.origin}/updates/foreign-${i}`, type: "Update", actor: remote.actorId, object: { id: other.actorId, type: "Person", name: "Hijacked", inbox: `${other.actorId}/inbox` } }),
      sign: "own",
      mayAccept: true,
    });
  }
  // Bad, missing and replayed signatures on an otherwise valid Follow.
  const follow = (n: string) => JSON.stringify({ "@context": AS, id: `${remote.origin}/follows/sig-${n}`, type: "Follow", actor: remote.actorId, object: owner });
  for (const sign of ["none", "wrong-key", "garbled", "stale", "future"] as const) {
    // A signature that is not even base64 cannot be checked: 400 or 401.
    const expect = sign === "garbled" ? undefined : 401;
    for (let i = 0; i < 4; i++) list.push({ name: `Follow with signature: ${sign} #${i}`, body: follow(`${sign}-${i}`), sign, mayAccept: false, expect });
  }
  // Huge: over any sensible inbox limit.
  list.push({ name: "a 2 MiB Create", body: JSON.stringify(create("huge", note("huge", { content: `<p>${"a".repeat(2 * 1024 * 1024)}</p>` }))), sign: "own", mayAccept: false, expect: 413 });
  list.push({ name: "a 20 MiB body of spaces", body: `{${" ".repeat(20 * 1024 * 1024)}}`, sign: "none", mayAccept: false, expect: 413 });
  return list;
}

for (const kind of databaseKinds()) {
  describe(`hostile inbox payloads (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;
    let other: RemoteServer;
    let wrongKey: CryptoKeyPair;

    before(async () => {
      [islet, remote, other, wrongKey] = await Promise.all([startInstance(kind), startRemote("hostile"), startRemote("victim"), generateCryptoKeyPair("RSASSA-PKCS1-v1_5")]);
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close(), other?.close()]);
    });

    async function send(url: string, item: Case): Promise<number> {
      let request = new Request(url, { method: "POST", body: item.body, headers: { "Content-Type": "application/activity+json", Accept: "application/activity+json" } });
      if (item.sign !== "none") {
        const key = item.sign === "wrong-key" ? wrongKey.privateKey : remote.keyPair.privateKey;
        const day = 24 * 60 * 60 * 1000;
        const when = item.sign === "stale" ? Date.now() - day : item.sign === "future" ? Date.now() + day : Date.now();
        request = await signRequest(request, key, new URL(remote.keyId), {
          spec: "draft-cavage-http-signatures-12",
          // Fedify's types name the global Temporal; at run time the polyfill's is what it takes.
          currentTime: Temporal.Instant.fromEpochMilliseconds(when) as unknown as NonNullable<Parameters<typeof signRequest>[3]>["currentTime"],
        });
        if (item.sign === "garbled") {
          const headers = new Headers(request.headers);
          headers.set("Signature", (headers.get("Signature") ?? "").replace(/signature="[^"]*"/, 'signature="AAAA%%%"'));
          request = new Request(request.url, { method: "POST", headers, body: item.body });
        }
      }
      const response = await fetch(request);
      await response.body?.cancel();
      return response.status;
    }

    test("every payload is refused with a 4xx or ignored with a 202; none is a 5xx", async () => {
      const owner = `${islet.origin}/users/owner`;
      const all = cases(remote, other, owner);
      assert.ok(all.length >= 300, `${all.length} payloads`);
      const wrong: string[] = [];
      for (const [i, item] of all.entries()) {
        const inbox = i % 2 === 0 ? `${islet.origin}/users/owner/inbox` : `${islet.origin}/inbox`;
        const status = await send(inbox, item);
        const fine = item.expect != null
          ? status === item.expect
          : (status >= 400 && status < 500) || (item.mayAccept && status === 202);
        if (!fine) wrong.push(`${item.name}: ${status}${item.expect != null ? ` (expected ${item.expect})` : ""}`);
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${all.length} payloads got an unexpected answer`);
    });

    test("afterwards the server answers, stored nothing hostile, and takes a valid Follow", async () => {
      const health = await fetch(`${islet.url}/health`);
      assert.equal(health.status, 200);
      const core = islet.islet.core;
      // Inbox work queued by the accepted payloads is done or failed, never stuck.
      await eventually(async () => {
        const [row] = await core.database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM queue_messages WHERE failed_at IS NULL AND available_at <= now()`);
        return Number(row.n) === 0;
      }, "the queue to settle", 60_000);
      const [stored] = await core.database.query<{ statuses: number; follows: number; hijacked: number }>(sql`
        SELECT (SELECT count(*) FROM statuses WHERE content LIKE '%hostile%' AND uri NOT LIKE ${`${remote.origin}/notes/hostile-%`})::int AS statuses,
               (SELECT count(*) FROM follows)::int AS follows,
               (SELECT count(*) FROM accounts WHERE display_name = 'Hijacked')::int AS hijacked`);
      assert.equal(Number(stored.statuses), 0, "no status stored under a spoofed author or origin");
      assert.equal(Number(stored.follows), 0, "no follow from a spoofed or unsigned request");
      assert.equal(Number(stored.hijacked), 0, "no actor updated by someone else");
      const follow = { "@context": AS, id: `${remote.origin}/follows/${crypto.randomUUID()}`, type: "Follow", actor: remote.actorId, object: `${islet.origin}/users/owner` };
      assert.equal((await remote.post(`${islet.origin}/users/owner/inbox`, follow)).status, 202);
      await eventually(async () => {
        const [row] = await core.database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM follows`);
        return Number(row.n) === 1;
      }, "the valid Follow to be stored", 30_000);
    });
  });
}
