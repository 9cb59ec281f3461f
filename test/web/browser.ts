/**
 * A browser for the HTML form tests: a cookie jar for one site, an address
 * it seems to come from (sent as X-Forwarded-For, believed when the server
 * trusts the loopback proxy), and reading hidden form fields from pages.
 */
import assert from "node:assert/strict";

/** Cookies as a browser keeps them for one site (attributes ignored). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  readonly lastSetCookie: string[] = [];

  absorb(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      this.lastSetCookie.push(line);
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

export interface Page {
  response: Response;
  text: string;
}

export class Browser {
  readonly jar = new CookieJar();
  readonly base: string;
  readonly ip: string | null;

  /** `base`: where requests go (http://127.0.0.1:PORT); `ip`: sent as X-Forwarded-For. */
  constructor(base: string, ip: string | null = null) {
    this.base = base;
    this.ip = ip;
  }

  async request(method: string, path: string, form?: Record<string, string>): Promise<Page> {
    const headers: Record<string, string> = { Accept: "text/html" };
    if (this.ip != null) headers["X-Forwarded-For"] = this.ip;
    const cookie = this.jar.header();
    if (cookie !== "") headers.Cookie = cookie;
    const url = /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
    const response = await fetch(url, { method, headers, body: form == null ? undefined : new URLSearchParams(form), redirect: "manual" });
    this.jar.absorb(response);
    return { response, text: await response.text() };
  }

  get(path: string): Promise<Page> {
    return this.request("GET", path);
  }

  post(path: string, form: Record<string, string>): Promise<Page> {
    return this.request("POST", path, form);
  }
}

export function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name]!);
}

/** The hidden fields of the form posting to `action` on an HTML page. */
export function formFields(html: string, action: string): Record<string, string> {
  const forms = [...html.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((match) => unescapeHtml(match[1]) === action);
  assert.ok(form != null, `a form posting to ${action} in:\n${html.slice(0, 2000)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(input[1])] = unescapeHtml(input[2]);
  }
  return fields;
}

/** Signs the owner in through the sign-in form; returns the answer to the form. */
export async function signIn(browser: Browser, login: string, password: string, returnTo = "/"): Promise<Page> {
  const page = await browser.get(`/auth/sign_in?return_to=${encodeURIComponent(returnTo)}`);
  assert.equal(page.response.status, 200, page.text.slice(0, 500));
  return await browser.post("/auth/sign_in", { ...formFields(page.text, "/auth/sign_in"), login, password });
}
