/**
 * Content negotiation on the addresses people share, as Mastodon does: the
 * profile page `/@owner` and a post's page `/@owner/ID` answer an
 * ActivityPub request (`Accept: application/activity+json`, or
 * `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
 * with the same document as the actor's and the post's IRI, so that a link
 * pasted into another server's search box resolves. Browsers get the HTML
 * pages; every answer on these addresses carries `Vary: Accept`.
 */
import type { Federation } from "@fedify/fedify";
import type { MiddlewareHandler } from "hono";
import { findLocalAccount } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { prefersActivityJson } from "./activity-accept.ts";
import { ownerPerson } from "./actors.ts";
import { mayFetch } from "./authorized-fetch.ts";
import { statusDocument } from "./status-documents.ts";

const PROFILE_PATH = /^\/@([^/@]+)$/;
const STATUS_PATH = /^\/@([^/@]+)\/([0-9]+)$/;

/** `Vary: Accept` added to a response, copying it when its headers are immutable. */
function varyOnAccept(response: Response): Response {
  const vary = response.headers.get("Vary");
  if (vary != null && /(^|,)\s*(accept|\*)\s*(,|$)/i.test(vary)) return response;
  const value = vary == null || vary === "" ? "Accept" : `${vary}, Accept`;
  try {
    response.headers.set("Vary", value);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set("Vary", value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

/**
 * The middleware: ActivityPub requests for `/@owner/ID` get the post's
 * document (checked as at its IRI: 404 unless public or unlisted), those
 * for `/@owner` the actor, fetched through `dispatch` (the whole app) at
 * `/users/owner` so its caching applies; under AUTHORIZED_FETCH a request
 * signed for `/@owner` gets the whole actor, others the reduced one, as at
 * the actor's id. Other requests pass on to the pages.
 */
export function contentNegotiation(
  core: CoreContext,
  federation: Federation<void>,
  dispatch: (request: Request) => Response | Promise<Response>,
): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    const status = STATUS_PATH.exec(path);
    const profile = status == null ? PROFILE_PATH.exec(path) : null;
    if (status == null && profile == null) return await next();
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || !prefersActivityJson(c.req.header("Accept"))) {
      await next();
      c.res = varyOnAccept(c.res);
      return;
    }
    let username: string;
    try {
      username = decodeURIComponent((status ?? profile)![1]);
    } catch {
      username = "";
    }
    const account = username === "" ? null : await findLocalAccount(core, username);
    if (account == null) {
      return c.json({ error: "Record not found" }, 404, { Vary: "Accept" });
    }
    if (status != null) return await statusDocument(federation, core, c.req.raw, account.username, status[2]);
    const url = new URL(c.req.url);
    if (core.config.authorizedFetch) {
      // A signature covers the address it was made for: checked here, on
      // this URL, so a signed reader gets the whole actor as at its id.
      const signed = new Request(new URL(`${url.pathname}${url.search}`, core.config.origin), { method: c.req.method, headers: c.req.raw.headers });
      const ctx = federation.createContext(signed, undefined);
      if (await mayFetch(core, ctx)) {
        const person = await ownerPerson(core, ctx, account);
        const json = await person.toJsonLd({ contextLoader: ctx.contextLoader, format: "compact" });
        return new Response(JSON.stringify(json), { status: 200, headers: { "Content-Type": "application/activity+json", Vary: "Accept" } });
      }
    }
    const actor = new Request(new URL(`/users/${encodeURIComponent(account.username)}${url.search}`, url), {
      method: c.req.method,
      headers: c.req.raw.headers,
    });
    return varyOnAccept(await dispatch(actor));
  };
}
