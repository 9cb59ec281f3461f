/**
 * Talking to push services. A push endpoint is a URL a client hands us, so
 * it is treated like any other URL from outside: https only, and never an
 * address on the server's own networks (loopback, private, link-local),
 * checked on every connection so that a name cannot be re-pointed after the
 * check. ALLOW_PRIVATE_ADDRESS (development and tests) lifts both rules.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

/** The push service answered; `body` is its first few kilobytes. */
export interface PushServiceResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** The endpoint may not be reached from here (a private address). */
export class ForbiddenEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ForbiddenEndpointError";
  }
}

// Kept apart: a list holding ::ffff:0:0/96 would also match every IPv4 address.
const NON_PUBLIC_V4 = new BlockList();
const NON_PUBLIC_V6 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) {
  NON_PUBLIC_V4.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], ["::1", 128], ["::ffff:0:0", 96], ["64:ff9b::", 96], ["64:ff9b:1::", 48], ["100::", 64],
  ["2001::", 23], ["2001:db8::", 32], ["2002::", 16], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8],
] as const) {
  NON_PUBLIC_V6.addSubnet(network, prefix, "ipv6");
}

/** Whether an IP address lies outside every loopback, private and reserved range. */
export function isPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped != null) return !NON_PUBLIC_V4.check(mapped[1], "ipv4");
  return version === 4 ? !NON_PUBLIC_V4.check(address, "ipv4") : !NON_PUBLIC_V6.check(address, "ipv6");
}

/**
 * Why `endpoint` cannot be a push endpoint, or null when it can. Names are
 * checked when a request is made; literal addresses and `localhost` here.
 */
export function endpointProblem(endpoint: string, allowPrivateAddress: boolean): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "endpoint is not a URL";
  }
  if (url.protocol !== "https:" && !(allowPrivateAddress && url.protocol === "http:")) {
    return "endpoint must be an https:// URL";
  }
  if (url.username !== "" || url.password !== "") return "endpoint must not carry a user name or password";
  if (url.hostname === "") return "endpoint has no host";
  if (!allowPrivateAddress) {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) !== 0 ? !isPublicAddress(host) : host === "localhost" || host.endsWith(".localhost")) {
      return "endpoint must not point at a private or loopback address";
    }
  }
  return null;
}

/** Resolves like dns.lookup, refusing names that lead to a non-public address. */
const publicLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error != null) {
      callback(error, "", 0);
      return;
    }
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused != null || addresses.length === 0) {
      callback(new ForbiddenEndpointError(`${hostname} resolves to ${refused?.address ?? "nothing"}, which is not a public address`), "", 0);
      return;
    }
    if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  });
};

/** How much of a push service's answer is kept (for the log). */
const MAX_BODY = 8 * 1024;

export interface PostOptions {
  allowPrivateAddress: boolean;
  /** The longest the whole exchange may take. */
  timeoutMs: number;
}

/**
 * POSTs an encrypted push message. Resolves with whatever status the
 * service answers; rejects on network errors, the deadline, or an endpoint
 * that may not be reached ({@link ForbiddenEndpointError}).
 */
export async function postToPushService(
  endpoint: string,
  headers: Readonly<Record<string, string>>,
  body: Buffer | null,
  options: PostOptions,
): Promise<PushServiceResponse> {
  const problem = endpointProblem(endpoint, options.allowPrivateAddress);
  if (problem != null) throw new ForbiddenEndpointError(problem);
  const url = new URL(endpoint);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return await new Promise<PushServiceResponse>((resolve, reject) => {
    const request = send(url, {
      method: "POST",
      headers: { ...headers, "Content-Length": String(body?.length ?? 0) },
      lookup: options.allowPrivateAddress ? undefined : publicLookup,
    });
    const deadline = setTimeout(() => {
      request.destroy(new Error(`no answer from ${url.origin} within ${Math.round(options.timeoutMs / 1000)} s`));
    }, options.timeoutMs);
    request.on("error", (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on("data", (chunk: Buffer) => {
        if (kept < MAX_BODY) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      response.on("error", (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      response.on("end", () => {
        clearTimeout(deadline);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString("utf8"),
        });
      });
    });
    request.end(body ?? undefined);
  });
}
