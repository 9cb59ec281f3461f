/**
 * Calling the Mastodon API in tests: an access token made directly in the
 * database (the OAuth flow has tests of its own), and a small fetch wrapper.
 */
import { randomBytes } from "node:crypto";
import { after, before } from "node:test";
import { hashToken } from "../../src/core/token-hash.ts";
import { newId } from "../../src/core/ids.ts";
import { oauthApplications, oauthTokens } from "../../src/db/schema.ts";
import type { DatabaseKind } from "./database.ts";
import { startInstance, type TestInstance } from "./instance.ts";

/** A token for the owner with these scopes (default: read write follow push). */
export async function ownerToken(instance: TestInstance, scopes = "read write follow push"): Promise<string> {
  const core = instance.islet.core;
  const applicationId = newId();
  await core.db.insert(oauthApplications).values({
    id: applicationId,
    name: "Test client",
    website: null,
    redirectUris: ["urn:ietf:wg:oauth:2.0:oob"],
    scopes,
    clientId: randomBytes(16).toString("hex"),
    clientSecret: randomBytes(16).toString("hex"),
  });
  const token = randomBytes(32).toString("base64url");
  await core.db.insert(oauthTokens).values({
    id: newId(),
    tokenHash: hashToken(token),
    applicationId,
    accountId: instance.owner?.account.id ?? null,
    scopes,
  });
  return token;
}

/**
 * For the enclosing suite: starts an instance before its tests, hands it and
 * an owner token (with `scopes`, default as {@link ownerToken}) to `ready`,
 * and closes it after them.
 */
export function withOwnerInstance(kind: DatabaseKind, ready: (instance: TestInstance, token: string) => void, scopes?: string): void {
  let instance: TestInstance | undefined;
  before(async () => {
    instance = await startInstance(kind);
    ready(instance, await ownerToken(instance, scopes));
  });
  after(async () => {
    await instance?.close();
  });
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Calls `path` on the instance. `body` is sent as JSON unless it is a
 * FormData or URLSearchParams.
 */
export async function api<T = any>(
  instance: TestInstance,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token != null) headers.Authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData || options.body instanceof URLSearchParams) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`${instance.url}${path}`, { method, headers, body, redirect: "manual" });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get("Content-Type") ?? "").includes("json") && text !== "") parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** The URL in a Link header (`<url>; rel="next", …`) with this rel, or null. */
export function linkUrl(link: string | null, rel: string): string | null {
  if (link == null) return null;
  for (const match of link.matchAll(/<([^>]+)>;\s*rel="([^"]+)"/g)) {
    if (match[2] === rel) return match[1];
  }
  return null;
}

/** The same URL as a path and query on the test server. */
export function linkPath(link: string | null, rel: string): string | null {
  const url = linkUrl(link, rel);
  if (url == null) return null;
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
