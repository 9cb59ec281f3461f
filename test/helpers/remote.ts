/**
 * A stand-in remote server on loopback: one actor with an RSA key, whose
 * inbox records what it is sent. Tests use it to send hand-signed activities
 * to Islet and to watch Islet's deliveries.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { generateCryptoKeyPair, signRequest, verifyRequest } from "@fedify/fedify";
import { CryptographicKey, Endpoints, Person } from "@fedify/vocab";
import { closeHttpServer } from "./http-server.ts";

export interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  rawBody: Buffer;
  body: Record<string, unknown>;
  /** Which HTTP signature scheme signed it. */
  spec: "rfc9421" | "draft-cavage-http-signatures-12" | null;
}

export type InboxBehaviour = "accept" | "hang" | "fail";

export interface RemoteServer {
  origin: string;
  actorId: string;
  keyId: string;
  keyPair: CryptoKeyPair;
  /** Activities the inbox answered with 202. */
  received: Received[];
  /** Requests that reached the inbox, answered or not. */
  attempts: number;
  /** What the inbox does with the next requests. */
  behaviour: InboxBehaviour;
  /** Signature schemes the inbox takes; others get 401 (default: both). */
  acceptSpecs: Set<NonNullable<Received["spec"]>>;
  /** More documents served on GET, by path (objects, media files); others are 404. */
  files: Map<string, { contentType: string; body: string | Uint8Array }>;
  /** Paths of the GET requests received, in order. */
  gets: string[];
  /** Verifies a received request's signature; returns the key's IRI or null. */
  verify(received: Received): Promise<string | null>;
  /** A signed POST of `activity` to `url`. */
  post(url: string, activity: Record<string, unknown>, options?: PostOptions): Promise<Response>;
  close(): Promise<void>;
}

export interface PostOptions {
  spec?: "rfc9421" | "draft-cavage-http-signatures-12";
  /** Sign this body but send `sendBody` instead (a tampered request). */
  sendBody?: string;
  unsigned?: boolean;
  /** Sign with this key instead of the actor's own. */
  keyPair?: CryptoKeyPair;
  headers?: Record<string, string>;
}

export async function startRemote(username = "remote"): Promise<RemoteServer> {
  const keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const hanging: ServerResponse[] = [];
  let actorJson = "";
  const remote: RemoteServer = {
    origin: "",
    actorId: "",
    keyId: "",
    keyPair,
    received: [],
    attempts: 0,
    behaviour: "accept",
    acceptSpecs: new Set(["rfc9421", "draft-cavage-http-signatures-12"]),
    files: new Map(),
    gets: [],
    async verify(received) {
      const headers = new Headers();
      for (const [name, value] of Object.entries(received.headers)) {
        if (typeof value === "string") headers.set(name, value);
      }
      const request = new Request(`${remote.origin}${received.path}`, { method: "POST", headers, body: new Uint8Array(received.rawBody) });
      const key = await verifyRequest(request, {
        spec: received.spec ?? undefined,
        documentLoader: async (url: string) => {
          const response = await fetch(url.replace("://localhost:", "://127.0.0.1:"), { headers: { Accept: "application/activity+json" } });
          return { contextUrl: null, documentUrl: url, document: await response.json() };
        },
      });
      return key?.id?.href ?? null;
    },
    async post(url, activity, options = {}) {
      const body = JSON.stringify(activity);
      let request = new Request(url, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/activity+json", Accept: "application/activity+json", ...options.headers },
      });
      if (!options.unsigned) {
        request = await signRequest(request, (options.keyPair ?? keyPair).privateKey, new URL(remote.keyId), {
          spec: options.spec ?? "rfc9421",
        });
      }
      if (options.sendBody != null) {
        request = new Request(request.url, { method: "POST", headers: request.headers, body: options.sendBody });
      }
      return await fetch(request);
    },
    async close() {
      await closeHttpServer(server, hanging);
    },
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? "/", remote.origin).pathname;
    if (req.method === "GET" && path === `/users/${username}`) {
      res.writeHead(200, { "Content-Type": "application/activity+json" });
      res.end(actorJson);
      return;
    }
    if (req.method === "POST" && (path === `/users/${username}/inbox` || path === "/inbox")) {
      remote.attempts++;
      if (remote.behaviour === "hang") {
        hanging.push(res);
        return;
      }
      if (remote.behaviour === "fail") {
        res.writeHead(503).end();
        return;
      }
      const spec = req.headers["signature-input"] != null ? "rfc9421" : req.headers.signature != null ? "draft-cavage-http-signatures-12" : null;
      if (spec == null || !remote.acceptSpecs.has(spec)) {
        res.writeHead(401).end();
        return;
      }
      const rawBody = Buffer.concat(chunks);
      remote.received.push({ path, headers: req.headers, rawBody, body: JSON.parse(rawBody.toString("utf8")), spec });
      res.writeHead(202).end();
      return;
    }
    const file = req.method === "GET" ? remote.files.get(path) : undefined;
    if (req.method === "GET") remote.gets.push(path);
    if (file != null) {
      res.writeHead(200, { "Content-Type": file.contentType, "Content-Length": String(Buffer.byteLength(file.body)) });
      res.end(file.body);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address != null ? address.port : 0;
  remote.origin = `http://127.0.0.1:${port}`;
  remote.actorId = `${remote.origin}/users/${username}`;
  remote.keyId = `${remote.actorId}#main-key`;
  const person = new Person({
    id: new URL(remote.actorId),
    preferredUsername: username,
    name: `Remote ${username}`,
    inbox: new URL(`${remote.actorId}/inbox`),
    endpoints: new Endpoints({ sharedInbox: new URL(`${remote.origin}/inbox`) }),
    publicKey: new CryptographicKey({
      id: new URL(remote.keyId),
      owner: new URL(remote.actorId),
      publicKey: keyPair.publicKey,
    }),
  });
  actorJson = JSON.stringify(await person.toJsonLd());
  return remote;
}

/** A Follow from the remote actor to `target`. */
export function followActivity(remote: RemoteServer, target: string, id = `${remote.origin}/follows/${crypto.randomUUID()}`) {
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id,
    type: "Follow",
    actor: remote.actorId,
    object: target,
  };
}
