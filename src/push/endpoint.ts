/**
 * Talking to push services. A push endpoint is a URL a client hands us, so
 * it is treated like any other URL from outside: https only, and never an
 * address on the server's own networks (loopback, private, link-local),
 * checked on every connection so that a name cannot be re-pointed after the
 * check. ALLOW_PRIVATE_ADDRESS (development and tests) lifts both rules.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isNonPublicHost, publicAddressLookup } from "../net/public-address.ts";

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
    if (isNonPublicHost(host)) {
      return "endpoint must not point at a private or loopback address";
    }
  }
  return null;
}

/** Resolves names like dns.lookup, refusing those that lead to a non-public address. */
const publicLookup = publicAddressLookup((message) => new ForbiddenEndpointError(message));

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
