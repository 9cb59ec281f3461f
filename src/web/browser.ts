/**
 * The owner's browser: the session cookie, and CSRF tokens for the forms
 * (sign-in, consent, sign-out, password reset). A CSRF token is an HMAC
 * (keyed from SECRET_KEY_BASE) of a random HttpOnly cookie, the form's
 * purpose and, once signed in, the session id. Cookies are SameSite=Lax and
 * HttpOnly; Secure, with the `__Host-` prefix, when the canonical origin is
 * https (behind a TLS-terminating proxy Islet itself is reached over http,
 * so the request's own scheme does not decide it).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CoreContext } from "../core/context.ts";
import { findWebSession, randomSecret, SESSION_LIFETIME_MS, type WebSession } from "../core/oauth.ts";

export type CsrfPurpose = "sign_in" | "authorize" | "sign_out" | "password_reset" | "password_edit" | "interaction" | "settings";

export class BrowserState {
  readonly core: CoreContext;
  readonly secure: boolean;
  readonly sessionCookie: string;
  readonly csrfCookie: string;
  readonly #csrfKey: Buffer;
  readonly #issued = new WeakMap<Context, string>();

  constructor(core: CoreContext) {
    this.core = core;
    this.secure = core.config.origin.startsWith("https:");
    this.sessionCookie = this.secure ? "__Host-islet_session" : "islet_session";
    this.csrfCookie = this.secure ? "__Host-islet_csrf" : "islet_csrf";
    this.#csrfKey = createHmac("sha256", core.config.secretKeyBase).update("islet: csrf tokens of the sign-in and authorize forms").digest();
  }

  #cookieOptions(maxAgeSeconds?: number) {
    return { path: "/", httpOnly: true, secure: this.secure, sameSite: "Lax" as const, ...(maxAgeSeconds == null ? {} : { maxAge: maxAgeSeconds }) };
  }

  /** The session id in the cookie and its live session, or null. */
  async session(c: Context): Promise<{ id: string; session: WebSession } | null> {
    const id = getCookie(c, this.sessionCookie);
    if (id == null) return null;
    const session = await findWebSession(this.core, id);
    return session == null ? null : { id, session };
  }

  setSession(c: Context, id: string): void {
    setCookie(c, this.sessionCookie, id, this.#cookieOptions(Math.floor(SESSION_LIFETIME_MS / 1000)));
  }

  clearSession(c: Context): void {
    deleteCookie(c, this.sessionCookie, { path: "/", secure: this.secure });
  }

  #token(purpose: CsrfPurpose, cookie: string, sessionId: string | null): string {
    return createHmac("sha256", this.#csrfKey).update(`${purpose}\n${cookie}\n${sessionId ?? ""}`).digest("base64url");
  }

  /** A CSRF token for a form, setting the CSRF cookie when the browser has none. */
  csrfToken(c: Context, purpose: CsrfPurpose, sessionId: string | null): string {
    let cookie = getCookie(c, this.csrfCookie);
    if (cookie == null || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) {
      // One new cookie per response, however many forms the page has.
      cookie = this.#issued.get(c);
      if (cookie == null) {
        cookie = randomSecret();
        setCookie(c, this.csrfCookie, cookie, this.#cookieOptions());
        this.#issued.set(c, cookie);
      }
    }
    return this.#token(purpose, cookie, sessionId);
  }

  /** Whether a submitted CSRF token belongs to this browser (and session). */
  checkCsrf(c: Context, purpose: CsrfPurpose, submitted: string | undefined, sessionId: string | null): boolean {
    const cookie = getCookie(c, this.csrfCookie);
    if (cookie == null || submitted == null) return false;
    const expected = Buffer.from(this.#token(purpose, cookie, sessionId));
    const given = Buffer.from(submitted);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
