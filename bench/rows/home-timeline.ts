/**
 * The owner's home timeline, the request a client makes most:
 * `GET /api/v1/timelines/home?limit=40` with the owner's bearer token, on the
 * database bench/rows/seed.ts filled (100,000 statuses by 1,000 followed
 * remote accounts). One request is checked first (200, 40 statuses, newest
 * first, by followed accounts), then the endpoint is loaded at 10 and at 50
 * connections. Must run before anything posts as the owner (the owner's own
 * statuses are part of the home timeline).
 *
 * Then the same at 10 connections on a page of the owner's own statuses
 * (the owner has 100,000, seeded older than the followees'): the page shows
 * the owner 40 times, so it costs what rendering the owner costs, which
 * must not grow with the owner's posts.
 */
import { fixture, ownerHeaders } from "../lib/fixtures.ts";
import { measureLoad } from "../lib/http-load.ts";
import type { ServerBench, ServerContext } from "../lib/types.ts";

const CONNECTIONS = [10, 50];
const LIMIT = 40;
const PATH = `/api/v1/timelines/home?limit=${LIMIT}`;

interface StatusJson {
  id?: unknown;
  account?: { id?: unknown; acct?: unknown; statuses_count?: unknown };
}

/** The page of the owner's own statuses: just below the newest of them. */
function ownPath(context: ServerContext): string {
  const maxId = fixture(context.target).ownMaxId;
  if (maxId == null) throw new Error("the seeding gave the owner no statuses of their own");
  return `${PATH}&max_id=${maxId}`;
}

async function checkOwnPage(context: ServerContext): Promise<void> {
  const path = ownPath(context);
  const response = await fetch(`${context.server.url}${path}`, { headers: ownerHeaders(context.target) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as StatusJson[];
  const { ownerId, ownStatuses } = fixture(context.target);
  if (!Array.isArray(body) || body.length !== LIMIT || body.some((status) => status.account?.id !== ownerId)) {
    throw new Error(`GET ${path}: expected ${LIMIT} of the owner's statuses, got ${text.slice(0, 300)}`);
  }
  const count = Number(body[0].account?.statuses_count);
  if (count < ownStatuses) throw new Error(`GET ${path}: the owner's statuses_count is ${count}, expected at least ${ownStatuses}`);
}

async function checkOnce(context: ServerContext): Promise<void> {
  const url = `${context.server.url}${PATH}`;
  const response = await fetch(url, { headers: ownerHeaders(context.target) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${PATH} answered ${response.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as StatusJson[];
  if (!Array.isArray(body) || body.length !== LIMIT) {
    throw new Error(`GET ${PATH} answered ${Array.isArray(body) ? `${body.length} statuses` : "no array"}, expected ${LIMIT}`);
  }
  const ids = body.map((status) => BigInt(String(status.id)));
  if (ids.some((id, i) => i > 0 && id >= ids[i - 1])) throw new Error(`GET ${PATH}: statuses are not newest first`);
  const ownerId = fixture(context.target).ownerId;
  const stranger = body.find((status) => status.account?.id === ownerId || !/^user\d+@remote\d+\.example$/.test(String(status.account?.acct)));
  if (stranger != null) throw new Error(`GET ${PATH}: expected only seeded statuses, got one by ${JSON.stringify(stranger.account?.acct)}`);
}

export const homeTimeline: ServerBench = {
  kind: "server",
  name: "home timeline",
  async run(context) {
    await checkOnce(context);
    for (const connections of CONNECTIONS) {
      await measureLoad(context, {
        id: `home.c${connections}`,
        name: `Home timeline (limit ${LIMIT}), ${connections} conns`,
        path: PATH,
        headers: ownerHeaders(context.target, { accept: "application/json" }),
        connections,
      });
    }
    await checkOwnPage(context);
    await measureLoad(context, {
      id: "home-own.c10",
      name: `Home timeline (limit ${LIMIT}), a page of the owner's own of 100,000, 10 conns`,
      path: ownPath(context),
      headers: ownerHeaders(context.target, { accept: "application/json" }),
      connections: 10,
    });
  },
};
