/**
 * Federation test helpers: signed requests from a stand-in remote with a
 * chosen time, and a document server for stand-in remote actors.
 */
import { signRequest } from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import type { RemoteServer } from "./remote.ts";
import { closeHttpServer } from "./http-server.ts";

/** A POST of `activity` to `url`, signed by the remote's key at `at` (default now). */
export async function signedPost(
  remote: RemoteServer,
  url: string,
  activity: Record<string, unknown>,
  options: { at?: Date; spec?: "rfc9421" | "draft-cavage-http-signatures-12"; body?: string } = {},
): Promise<Response> {
  const body = options.body ?? JSON.stringify(activity);
  const request = new Request(url, { method: "POST", body, headers: { "Content-Type": "application/activity+json" } });
  const signed = await signRequest(request, remote.keyPair.privateKey, new URL(remote.keyId), {
    spec: options.spec ?? "draft-cavage-http-signatures-12",
    ...(options.at == null ? {} : { currentTime: Temporal.Instant.fromEpochMilliseconds(options.at.getTime()) as never }),
  });
  return await fetch(signed);
}

/** A GET of `url` as ActivityPub, signed by the remote's key (or unsigned). */
export async function activityGet(remote: RemoteServer | null, url: string): Promise<Response> {
  const request = new Request(url, { headers: { Accept: "application/activity+json" } });
  if (remote == null) return await fetch(request);
  return await fetch(await signRequest(request, remote.keyPair.privateKey, new URL(remote.keyId), { spec: "draft-cavage-http-signatures-12" }));
}

/** A Create of a Note by the remote actor. */
export function createNote(remote: RemoteServer, note: Record<string, unknown>, id = `${remote.origin}/notes/${crypto.randomUUID()}`) {
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${id}/activity`,
    type: "Create",
    actor: remote.actorId,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    object: {
      id,
      type: "Note",
      attributedTo: remote.actorId,
      content: "<p>hello</p>",
      published: new Date().toISOString(),
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      ...note,
    },
  };
}

/**
 * A remote server whose documents a test sets at will (actors, notes,
 * collections), with one key pair per actor that can be replaced (a key
 * rotation). It records inbox POSTs and counts GETs per path.
 */
export interface DocumentServer {
  origin: string;
  /** JSON documents by path. */
  documents: Map<string, unknown>;
  /** GET requests per path. */
  gets: Map<string, number>;
  received: { path: string; body: Record<string, unknown> }[];
  /** Adds a Person at /users/NAME with a fresh key; `extra` merges into its document. */
  addActor(name: string, extra?: Record<string, unknown>): Promise<RemoteActorHandle>;
  close(): Promise<void>;
}

export interface RemoteActorHandle {
  id: string;
  keyId: string;
  keyPair: CryptoKeyPair;
  /** Replaces the document's fields (the key stays unless `rotateKey`). */
  update(extra: Record<string, unknown>): Promise<void>;
  /** A new key pair under the same key IRI, published in the document. */
  rotateKey(): Promise<void>;
  /** A signed POST to `url`. */
  post(url: string, activity: Record<string, unknown>): Promise<Response>;
}

export async function startDocumentServer(): Promise<DocumentServer> {
  const { createServer } = await import("node:http");
  const { generateCryptoKeyPair } = await import("@fedify/fedify");
  const { CryptographicKey, Endpoints, Person } = await import("@fedify/vocab");
  const documents = new Map<string, unknown>();
  const gets = new Map<string, number>();
  const received: DocumentServer["received"] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const requested = new URL(req.url ?? "/", "http://x");
    const path = requested.pathname;
    if (req.method === "GET" && path === "/.well-known/webfinger") {
      // WebFinger for the actors added: acct:NAME@HOST names /users/NAME.
      const name = /^acct:([^@]+)@/.exec(requested.searchParams.get("resource") ?? "")?.[1];
      if (name == null || !documents.has(`/users/${name}`)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "Content-Type": "application/jrd+json" });
      res.end(JSON.stringify({
        subject: `acct:${name}@${new URL(origin).host}`,
        links: [{ rel: "self", type: "application/activity+json", href: `${origin}/users/${name}` }],
      }));
      return;
    }
    if (req.method === "GET") {
      gets.set(path, (gets.get(path) ?? 0) + 1);
      const document = documents.get(path);
      if (document == null) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "Content-Type": "application/activity+json" });
      res.end(JSON.stringify(document));
      return;
    }
    if (req.method === "POST" && path.endsWith("inbox")) {
      received.push({ path, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      res.writeHead(202).end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === "object" && address != null ? address.port : 0}`;
  return {
    origin,
    documents,
    gets,
    received,
    async addActor(name, extra = {}) {
      const id = `${origin}/users/${name}`;
      const keyId = `${id}#main-key`;
      let fields = extra;
      const handle: RemoteActorHandle = {
        id,
        keyId,
        keyPair: await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
        async update(next) {
          fields = { ...fields, ...next };
          await publish();
        },
        async rotateKey() {
          handle.keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
          await publish();
        },
        async post(url, activity) {
          const request = new Request(url, { method: "POST", body: JSON.stringify(activity), headers: { "Content-Type": "application/activity+json" } });
          return await fetch(await signRequest(request, handle.keyPair.privateKey, new URL(keyId), { spec: "draft-cavage-http-signatures-12" }));
        },
      };
      const publish = async () => {
        const person = new Person({
          id: new URL(id),
          preferredUsername: name,
          inbox: new URL(`${id}/inbox`),
          outbox: new URL(`${id}/outbox`),
          followers: new URL(`${id}/followers`),
          endpoints: new Endpoints({ sharedInbox: new URL(`${origin}/inbox`) }),
          publicKey: new CryptographicKey({ id: new URL(keyId), owner: new URL(id), publicKey: handle.keyPair.publicKey }),
        });
        const json = await person.toJsonLd({ format: "compact" }) as Record<string, unknown>;
        documents.set(`/users/${name}`, { ...json, ...fields });
      };
      await publish();
      return handle;
    },
    async close() {
      await closeHttpServer(server);
    },
  };
}
