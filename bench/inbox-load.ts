/**
 * The inbox load generator, run in its own process like bench/load.ts:
 *
 *   node bench/inbox-load.ts '{"inbox":"http://127.0.0.1:3000/users/bench/inbox","owner":"http://localhost:3000/users/bench","actors":100,"perActor":20,"connections":10,"tag":"inboxbench1"}'
 *
 * Stands in for `actors` remote accounts: generates an RSA key pair for
 * each, serves their actor documents on a loopback port of its own (the
 * server fetches them to verify signatures), and signs one Create of a
 * public Note per activity (draft-cavage HTTP Signatures, as Mastodon
 * sends), each mentioning the owner and tagged `#tag`. Everything is signed
 * before the clock starts. Then `connections` keep-alive loops POST them to
 * the inbox as fast as the server takes them.
 *
 * Prints one line of JSON, an {@link InboxLoadReport}, on stdout, then keeps
 * serving the actors until it is stopped (SIGTERM).
 */
import { createServer } from "node:http";
import { Agent, request } from "node:http";
import { generateCryptoKeyPair, signRequest } from "@fedify/fedify";
import { CryptographicKey, Person } from "@fedify/vocab";
import { latencySummary } from "./lib/percentile.ts";

export interface InboxLoadSpec {
  inbox: string;
  /** The owner's actor IRI, mentioned by every Note. */
  owner: string;
  actors: number;
  perActor: number;
  connections: number;
  /** The hashtag (without #) every Note carries, to find them afterwards. */
  tag: string;
  /** Per-request timeout in seconds (default 30). */
  timeoutSeconds?: number;
}

export interface InboxLoadReport {
  /** Activities sent. */
  sent: number;
  /** Answered 202. */
  accepted: number;
  /** From the first request's start to the last answer, in seconds. */
  seconds: number;
  /** Accepted per second over that window. */
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers by status code ("0" for network errors and timeouts). */
  statuses: Record<string, number>;
  errorMessages: string[];
  /** Seconds spent generating keys and signing, before the clock started. */
  prepareSeconds: number;
  /** Times an actor document was fetched by the server. */
  actorFetches: number;
  cpuMs: number;
}

interface Prepared {
  body: string;
  headers: Record<string, string>;
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw == null) throw new Error("usage: node bench/inbox-load.ts '<JSON spec>'");
  const spec = JSON.parse(raw) as InboxLoadSpec;
  for (const key of ["actors", "perActor", "connections"] as const) {
    if (!Number.isInteger(spec[key]) || spec[key] < 1) throw new Error(`inbox load spec: ${key} must be a positive whole number`);
  }
  const prepareBegin = performance.now();

  // The stand-in actors.
  const documents = new Map<string, string>();
  let actorFetches = 0;
  const actorServer = createServer((req, res) => {
    const document = documents.get(new URL(req.url ?? "/", "http://actors").pathname);
    if (req.method !== "GET" || document == null) {
      res.writeHead(404).end();
      return;
    }
    actorFetches++;
    res.writeHead(200, { "content-type": "application/activity+json" }).end(document);
  });
  await new Promise<void>((resolve) => actorServer.listen(0, "127.0.0.1", resolve));
  const address = actorServer.address();
  const origin = `http://127.0.0.1:${typeof address === "object" && address != null ? address.port : 0}`;

  const actors: { id: string; keyId: string; privateKey: CryptoKey }[] = [];
  for (let n = 0; n < spec.actors; n++) {
    const keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
    const id = `${origin}/actors/${n}`;
    const keyId = `${id}#main-key`;
    const person = new Person({
      id: new URL(id),
      preferredUsername: `loader${n}`,
      name: `Inbox load actor ${n}`,
      inbox: new URL(`${id}/inbox`),
      publicKey: new CryptographicKey({ id: new URL(keyId), owner: new URL(id), publicKey: keyPair.publicKey }),
    });
    documents.set(`/actors/${n}`, JSON.stringify(await person.toJsonLd()));
    actors.push({ id, keyId, privateKey: keyPair.privateKey });
  }

  // One signed Create per activity, interleaving the actors.
  const prepared: Prepared[] = [];
  const published = new Date().toISOString();
  for (let i = 0; i < spec.perActor; i++) {
    for (const [n, actor] of actors.entries()) {
      const noteId = `${actor.id}/notes/${i}`;
      const activity = {
        "@context": ["https://www.w3.org/ns/activitystreams", { Hashtag: "as:Hashtag" }],
        id: `${noteId}/activity`,
        type: "Create",
        actor: actor.id,
        published,
        to: ["https://www.w3.org/ns/activitystreams#Public"],
        cc: [spec.owner],
        object: {
          id: noteId,
          type: "Note",
          attributedTo: actor.id,
          content: `<p><a href="${spec.owner}" class="u-url mention">@owner</a> Inbox load ${n}/${i} <a href="${origin}/tags/${spec.tag}" rel="tag">#${spec.tag}</a></p>`,
          published,
          to: ["https://www.w3.org/ns/activitystreams#Public"],
          cc: [spec.owner],
          tag: [
            { type: "Mention", href: spec.owner, name: "@owner" },
            { type: "Hashtag", href: `${origin}/tags/${spec.tag}`, name: `#${spec.tag}` },
          ],
        },
      };
      const body = JSON.stringify(activity);
      const signed = await signRequest(
        new Request(spec.inbox, { method: "POST", body, headers: { "content-type": "application/activity+json", accept: "application/activity+json" } }),
        actor.privateKey,
        new URL(actor.keyId),
        { spec: "draft-cavage-http-signatures-12" },
      );
      const headers: Record<string, string> = {};
      signed.headers.forEach((value, name) => {
        headers[name] = value;
      });
      headers["content-length"] = String(Buffer.byteLength(body));
      prepared.push({ body, headers });
    }
  }
  const prepareSeconds = (performance.now() - prepareBegin) / 1000;

  const target = new URL(spec.inbox);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections });
  const timeoutMs = (spec.timeoutSeconds ?? 30) * 1000;
  const errorMessages = new Set<string>();
  const once = (item: Prepared): Promise<number> => new Promise((resolve) => {
    const req = request({ agent, hostname: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: item.headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on("error", (error) => {
      if (errorMessages.size < 5) errorMessages.add(error.message);
      resolve(0);
    });
    req.end(item.body);
  });

  const latencies = new Float64Array(prepared.length);
  const statuses: Record<string, number> = {};
  let next = 0;
  let count = 0;
  let accepted = 0;
  const cpuBefore = process.cpuUsage();
  const begin = performance.now();
  let end = begin;
  await Promise.all(Array.from({ length: spec.connections }, async () => {
    while (next < prepared.length) {
      const item = prepared[next++];
      const start = performance.now();
      const status = await once(item);
      const now = performance.now();
      end = Math.max(end, now);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 202) accepted++;
      if (status !== 0) latencies[count++] = now - start;
    }
  }));
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  const seconds = (end - begin) / 1000;
  const report: InboxLoadReport = {
    sent: prepared.length,
    accepted,
    seconds,
    rps: seconds > 0 ? accepted / seconds : 0,
    ...latencySummary(latencies, count),
    statuses,
    errorMessages: [...errorMessages],
    prepareSeconds,
    actorFetches,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  // The server may still fetch actor documents while it works through its
  // queue: the actors stay up until this process is stopped.
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`inbox-load: ${(error as Error).stack ?? error}\n`);
    process.exit(2);
  });
}
