/**
 * The one way Islet fetches a URL it was handed by another server: http or
 * https only; the address rule applied to the address actually connected to
 * (a literal address before any connection, a name through a `lookup` at
 * connect time, so that a name cannot be re-pointed between a check and the
 * connection); redirects followed by hand, each target checked again, at
 * most a few; a deadline for the whole exchange; and a body size cap past
 * which reading stops and the connection is dropped.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isPublicAddress } from "./public-address.ts";

/** Decides whether an IP address may be connected to. */
export type AddressRule = (address: string) => boolean;

/** Resolves a host name to its addresses (dns.lookup unless replaced, as in tests). */
export type Resolver = (hostname: string, family: number) => Promise<LookupAddress[]>;

/** Which addresses outgoing requests may reach. */
export interface NetworkPolicy {
  allowAddress: AddressRule;
  resolve?: Resolver;
}

/** The production rule: public addresses only, unless ALLOW_PRIVATE_ADDRESS lifts it. */
export function networkPolicy(allowPrivateAddress: boolean): NetworkPolicy {
  return { allowAddress: allowPrivateAddress ? () => true : isPublicAddress };
}

export type FetchFailure = "refused" | "too_large" | "timeout" | "redirects" | "network";

/** Why a guarded fetch gave no answer; `retry` says whether trying later may help. */
export class GuardedFetchError extends Error {
  readonly reason: FetchFailure;
  readonly url: string;
  constructor(reason: FetchFailure, url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GuardedFetchError";
    this.reason = reason;
    this.url = url;
  }

  get retry(): boolean {
    return this.reason === "timeout" || this.reason === "network";
  }
}

const defaultResolve: Resolver = (hostname, family) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, family }, (error, addresses) => (error == null ? resolve(addresses) : reject(error)));
  });

/**
 * A `lookup` for node:http(s) that resolves a name and fails, with the
 * error `refuse` makes, when any of its addresses breaks the rule.
 */
export function guardedLookup(policy: NetworkPolicy, refuse: (message: string) => Error): LookupFunction {
  const resolve = policy.resolve ?? defaultResolve;
  return (hostname, options, callback) => {
    resolve(hostname, typeof options.family === "number" ? options.family : 0).then(
      (addresses) => {
        const refused = addresses.find((entry) => !policy.allowAddress(entry.address));
        if (refused != null || addresses.length === 0) {
          callback(refuse(`${hostname} resolves to ${refused?.address ?? "nothing"}, which is not a public address`), "", 0);
          return;
        }
        if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}

/** Why `url` may not be fetched, before any connection, or null. */
export function urlProblem(url: URL, policy: NetworkPolicy): string | null {
  if (url.protocol !== "https:" && url.protocol !== "http:") return `${url.protocol} URLs are not fetched`;
  if (url.username !== "" || url.password !== "") return "the URL carries a user name or password";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  // A literal address is connected to without a lookup: check it here.
  if (isIP(host) !== 0 && !policy.allowAddress(host)) return `${host} is not a public address`;
  return null;
}

export interface OpenOptions {
  policy: NetworkPolicy;
  /** The longest the whole exchange (every redirect and the body) may take. */
  timeoutMs: number;
  /** Redirects followed at most (default 5). */
  maxRedirects?: number;
  headers?: Record<string, string>;
  /** Headers for each request made (the first and every redirect), e.g. a signature over its URL. */
  headersFor?: (url: URL) => Promise<Headers | Record<string, string>>;
  /** Checked for the first URL and every redirect: true refuses it (a suspended domain). */
  refuseUrl?: (url: URL) => Promise<boolean>;
  signal?: AbortSignal;
}

export interface OpenedResponse {
  response: IncomingMessage;
  /** The URL answered, after redirects. */
  url: URL;
  /** Aborts when the deadline passes or the caller's signal fires. */
  signal: AbortSignal;
  /** Whether the deadline (rather than the caller) ended the exchange. */
  timedOut(): boolean;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code == null || error.message.includes(code) ? error.message : `${error.message} (${code})`;
  }
  return String(error);
}

function send(url: URL, headers: Record<string, string>, lookup: LookupFunction, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // No pooled connections: every connection goes through the lookup above.
    const outgoing = request(url, { method: "GET", headers, lookup, signal, agent: false });
    outgoing.on("error", reject);
    outgoing.on("response", resolve);
    outgoing.end();
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Sends a GET to `source`, following redirects, and resolves with the
 * final answer's head, its body not read yet (the caller reads it within
 * `signal`, or destroys the response).
 */
export async function openGuarded(source: string | URL, options: OpenOptions): Promise<OpenedResponse> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new GuardedFetchError("refused", String(source), `${String(source)} is not a URL`);
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal == null ? timeout : AbortSignal.any([timeout, options.signal]);
  const lookup = guardedLookup(options.policy, (message) => new GuardedFetchError("refused", url.href, message));
  const maxRedirects = options.maxRedirects ?? 5;
  for (let redirects = 0; ; redirects++) {
    const problem = urlProblem(url, options.policy);
    if (problem != null) throw new GuardedFetchError("refused", url.href, `${url.href}: ${problem}`);
    if (options.refuseUrl != null && (await options.refuseUrl(url))) throw new GuardedFetchError("refused", url.href, `${url.host} is refused`);
    const headers: Record<string, string> = { ...options.headers };
    if (options.headersFor != null) {
      const extra = await options.headersFor(url);
      for (const [name, value] of extra instanceof Headers ? extra.entries() : Object.entries(extra)) headers[name] = value;
    }
    let response: IncomingMessage;
    try {
      response = await send(url, headers, lookup, signal);
    } catch (error) {
      if (error instanceof GuardedFetchError) throw error;
      if (timeout.aborted) throw new GuardedFetchError("timeout", url.href, `no answer from ${url.origin} within ${options.timeoutMs} ms`, { cause: error });
      throw new GuardedFetchError("network", url.href, `could not reach ${url.origin}: ${describe(error)}`, { cause: error });
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (!REDIRECTS.has(status) || location == null) return { response, url, signal, timedOut: () => timeout.aborted };
    response.destroy();
    if (redirects >= maxRedirects) throw new GuardedFetchError("redirects", url.href, `${String(source)}: more than ${maxRedirects} redirects`);
    try {
      url = new URL(location, url);
    } catch {
      throw new GuardedFetchError("refused", url.href, `${url.href} redirects to an invalid URL`);
    }
  }
}

export interface FetchOptions extends OpenOptions {
  /** The longest body read; past it the fetch fails and the rest is not read. */
  maxBytes: number;
}

export interface FetchedResponse {
  /** The URL answered, after redirects. */
  url: string;
  status: number;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
}

/** The head of a node:http response as Headers. */
export function responseHeaders(response: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      // A header Headers cannot hold is not one a caller needs.
    }
  }
  return headers;
}

/**
 * Fetches `source` with a GET and reads its body, at most
 * `options.maxBytes` of it. A non-2xx answer comes back without a body.
 * Throws a {@link GuardedFetchError}.
 */
export async function guardedFetch(source: string | URL, options: FetchOptions): Promise<FetchedResponse> {
  const opened = await openGuarded(source, options);
  const { response, url } = opened;
  const status = response.statusCode ?? 0;
  const headers = responseHeaders(response);
  if (status < 200 || status >= 300) {
    response.destroy();
    return { url: url.href, status, headers, body: new Uint8Array(new ArrayBuffer(0)) };
  }
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    response.destroy();
    throw new GuardedFetchError("too_large", url.href, `${url.href} is ${declared} bytes, over the limit of ${options.maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.maxBytes) {
        throw new GuardedFetchError("too_large", url.href, `${url.href} is over the limit of ${options.maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    response.destroy();
    if (error instanceof GuardedFetchError) throw error;
    if (opened.timedOut()) throw new GuardedFetchError("timeout", url.href, `${url.href} did not arrive within ${options.timeoutMs} ms`, { cause: error });
    throw new GuardedFetchError("network", url.href, `${url.href} could not be received: ${describe(error)}`, { cause: error });
  }
  const body = new Uint8Array(new ArrayBuffer(size));
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { url: url.href, status, headers, body };
}
