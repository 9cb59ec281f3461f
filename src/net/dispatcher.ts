/**
 * The requests Fedify sends with the global `fetch` (deliveries, WebFinger
 * and NodeInfo lookups) held to the same address rule as the guarded
 * fetcher: a process-wide undici dispatcher recognises a federation's
 * traffic (its user agent, or a signature by one of its keys) and sends it
 * through an agent whose connections resolve names with the rule's lookup
 * and refuse literal addresses the rule forbids. Any other request (a test
 * client, an admin command's check) goes through the dispatcher that was
 * there before.
 */
import { isIP } from "node:net";
import { Agent, Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { GuardedFetchError, guardedLookup, type NetworkPolicy } from "./fetcher.ts";

interface Route {
  /** The federation's origin: its keys' IRIs start with it. */
  origin: string;
  userAgent: string;
  policy: NetworkPolicy;
  agent: Agent;
}

type HeaderValue = string | string[] | undefined;

/** One header of a dispatched request, whichever shape undici was given the headers in. */
function headerOf(headers: unknown, name: string): string | null {
  if (headers == null) return null;
  const pick = (value: HeaderValue) => (Array.isArray(value) ? value.join(", ") : value ?? null);
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const [key, value] of headers as [string, HeaderValue][]) if (String(key).toLowerCase() === name) return pick(value);
      return null;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    return null;
  }
  if (typeof headers === "object" && Symbol.iterator in headers) {
    for (const [key, value] of headers as Iterable<[string, HeaderValue]>) if (String(key).toLowerCase() === name) return pick(value);
    return null;
  }
  for (const [key, value] of Object.entries(headers as Record<string, HeaderValue>)) if (key.toLowerCase() === name) return pick(value);
  return null;
}

/** The key IRI a request is signed with, if any. */
function signingKey(headers: unknown): string | null {
  const input = headerOf(headers, "signature-input");
  const cavage = headerOf(headers, "signature");
  return (input != null ? /keyid="([^"]+)"/i.exec(input)?.[1] : undefined) ?? (cavage != null ? /keyId="([^"]+)"/i.exec(cavage)?.[1] : undefined) ?? null;
}

class FederationDispatcher extends Dispatcher {
  readonly #fallback: Dispatcher;
  readonly #routes = new Map<string, Route>();

  constructor(fallback: Dispatcher) {
    super();
    this.#fallback = fallback;
  }

  add(route: Route): void {
    this.#routes.get(route.origin)?.agent.close().catch(() => {});
    this.#routes.set(route.origin, route);
  }

  #routeOf(headers: unknown): Route | null {
    const userAgent = headerOf(headers, "user-agent");
    const key = signingKey(headers);
    for (const route of this.#routes.values()) {
      if (userAgent === route.userAgent) return route;
      if (key != null && key.startsWith(`${route.origin}/`)) return route;
    }
    return null;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const route = this.#routeOf(options.headers);
    if (route == null) return this.#fallback.dispatch(options, handler);
    const origin = String(options.origin ?? "");
    let host = "";
    try {
      host = new URL(origin).hostname.replace(/^\[(.*)\]$/, "$1");
    } catch {
      // Not a URL: undici refuses it on its own.
    }
    // A literal address is connected to without a lookup: check it here.
    if (isIP(host) !== 0 && !route.policy.allowAddress(host)) {
      throw new GuardedFetchError("refused", origin, `${host} is not a public address`);
    }
    return route.agent.dispatch(options, handler);
  }

  override async close(): Promise<void> {
    await Promise.all([...this.#routes.values()].map((route) => route.agent.close()));
  }

  override async destroy(): Promise<void> {
    await Promise.all([...this.#routes.values()].map((route) => route.agent.destroy()));
  }
}

function federationDispatcher(): FederationDispatcher {
  const current = getGlobalDispatcher();
  if (current instanceof FederationDispatcher) return current;
  const installed = new FederationDispatcher(current);
  setGlobalDispatcher(installed);
  return installed;
}

/**
 * Holds the global-`fetch` requests of the federation at `origin` (those
 * sent with `userAgent`, or signed by a key under `origin`) to `policy`.
 */
export function guardFederationFetches(origin: string, userAgent: string, policy: NetworkPolicy): void {
  const lookup = guardedLookup(policy, (message) => new GuardedFetchError("refused", origin, message));
  // Connections are pooled per route: each was made through the lookup above.
  const agent = new Agent({ connect: { lookup } });
  federationDispatcher().add({ origin: new URL(origin).origin, userAgent, policy, agent });
}
