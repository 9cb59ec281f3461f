/**
 * Headers every HTML page is sent with, whichever route made it: a
 * Content-Security-Policy that lets a page run no script and load nothing
 * from elsewhere, and the framing and sniffing guards. A route that sets
 * its own policy (the sign-in pages, served media) keeps it.
 */
import type { MiddlewareHandler } from "hono";

/** Islet's pages are plain HTML with inline styles; images and media come from the instance itself. */
export const PAGE_CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function htmlSecurityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const type = c.res.headers.get("Content-Type") ?? "";
    if (!/^text\/html\b/i.test(type)) return;
    let headers = c.res.headers;
    try {
      headers.set("X-Content-Type-Options", "nosniff");
    } catch {
      // A response passed through from elsewhere may have immutable headers.
      c.res = new Response(c.res.body, { status: c.res.status, statusText: c.res.statusText, headers: new Headers(c.res.headers) });
      headers = c.res.headers;
    }
    if (!headers.has("Content-Security-Policy")) headers.set("Content-Security-Policy", PAGE_CONTENT_SECURITY_POLICY);
    // Older browsers know only X-Frame-Options; a page whose own policy lets
    // other sites frame it (the embed page) must not be denied by it.
    const framable = /frame-ancestors (?!'none')/.test(headers.get("Content-Security-Policy")!);
    if (!headers.has("X-Frame-Options") && !framable) headers.set("X-Frame-Options", "DENY");
    headers.set("X-Content-Type-Options", "nosniff");
    if (!headers.has("Referrer-Policy")) headers.set("Referrer-Policy", "same-origin");
  };
}
