/**
 * What remote servers ask a fediverse server most: WebFinger lookups of the
 * owner's handle and the owner's actor document. Each is checked once, then
 * loaded at 10 and at 50 concurrent keep-alive connections.
 */
import { measureLoad, type LoadRow } from "../lib/http-load.ts";
import type { ServerBench, ServerContext } from "../lib/types.ts";

const CONNECTIONS = [10, 50];

interface Endpoint {
  id: string;
  name: string;
  path(context: ServerContext): string;
  headers: Record<string, string>;
  /** Throws unless the body is what this endpoint should answer. */
  check(body: unknown, context: ServerContext): void;
}

const ENDPOINTS: Endpoint[] = [
  {
    id: "webfinger",
    name: "WebFinger",
    path: ({ target }) => `/.well-known/webfinger?resource=${encodeURIComponent(`acct:${target.username}@${target.host}`)}`,
    headers: { accept: "application/jrd+json" },
    check(body, { target }) {
      const subject = (body as { subject?: unknown }).subject;
      if (subject !== `acct:${target.username}@${target.host}`) throw new Error(`unexpected WebFinger subject ${JSON.stringify(subject)}`);
    },
  },
  {
    id: "actor",
    name: "Actor document",
    path: ({ target }) => `/users/${target.username}`,
    headers: { accept: "application/activity+json" },
    check(body) {
      const type = (body as { type?: unknown }).type;
      if (type !== "Person" && type !== "Service") throw new Error(`unexpected actor type ${JSON.stringify(type)}`);
    },
  },
];

async function checkOnce(context: ServerContext, endpoint: Endpoint): Promise<void> {
  const url = `${context.server.url}${endpoint.path(context)}`;
  const response = await fetch(url, { headers: endpoint.headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  endpoint.check(JSON.parse(text), context);
}

export const federationReads: ServerBench = {
  kind: "server",
  name: "WebFinger and actor",
  async run(context) {
    for (const endpoint of ENDPOINTS) {
      await checkOnce(context, endpoint);
      for (const connections of CONNECTIONS) {
        const row: LoadRow = {
          id: `${endpoint.id}.c${connections}`,
          name: `${endpoint.name}, ${connections} conns`,
          path: endpoint.path(context),
          headers: endpoint.headers,
          connections,
        };
        await measureLoad(context, row);
      }
    }
  },
};
