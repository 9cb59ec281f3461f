/**
 * Profile link verification, as Mastodon does it: a profile field whose
 * whole value is a link is marked verified (`verified_at`) when the page
 * it links to links back to the owner's profile with `rel="me"` (an
 * `<a rel="me">` or `<link rel="me">` whose href is the profile URL
 * `/@owner` or the actor id, or, as Mastodon allows, whose first such
 * link redirects there, as a short link does).
 *
 * Saving the profile emits `account.updated`; the reaction here queues a
 * check on the durable "link_verification" queue when a field waits for
 * one, so the request does not wait on remote pages. The worker fetches
 * each page through the guarded fetcher (public addresses only, within a
 * deadline and a size cap) and stores the time of a successful check. A
 * field keeps its mark while its value stays the same (profile.ts carries
 * it over); a changed value is checked again.
 *
 * https links only, as the value must prove a site; plain http ones too
 * when ALLOW_PRIVATE_ADDRESS is set (development and tests).
 */
import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/connect.ts";
import { createJobQueue, type JobQueue, type JobQueueOptions } from "../db/job-queue.ts";
import type { DatabaseMessageQueue } from "../db/message-queue.ts";
import { accounts, type ProfileField } from "../db/schema.ts";
import { GuardedFetchError, guardedFetch, networkPolicy, openGuarded, type NetworkPolicy } from "../net/fetcher.ts";
import { findAccountById } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { fieldValueToHtml, getPreferences } from "./profile.ts";

/** The queue's name in `queue_messages`. */
export const LINK_VERIFICATION_QUEUE = "link_verification";
/** The longest a linked page may take to arrive. */
export const LINK_VERIFICATION_TIMEOUT_MS = 10_000;
/** The most of a linked page read (Mastodon reads 1 MiB). */
export const LINK_VERIFICATION_MAX_BYTES = 1024 * 1024;
/** The longest link checked, as Mastodon. */
const MAX_LINK_LENGTH = 255;

/** A queued check: the account's id, as a string. */
export interface LinkVerificationJob {
  accountId: string;
}

/** The "link_verification" queue over the shared table. */
export function createLinkVerificationQueue(database: Database, options: JobQueueOptions = {}): DatabaseMessageQueue {
  return createJobQueue(database, {
    name: LINK_VERIFICATION_QUEUE,
    maxAttempts: 3,
    // Four fields, each within the deadline.
    visibilityTimeoutSeconds: (4 * LINK_VERIFICATION_TIMEOUT_MS) / 1000 + 30,
    concurrency: 1,
  }, options);
}

/** The link a field's plain value is, when the whole value is one link worth checking; else null. */
export function verifiableLink(value: string, allowHttp = false): string | null {
  const text = value.trim();
  if (text.length > MAX_LINK_LENGTH || /\s/.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) return null;
  if (url.username !== "" || url.password !== "" || url.hostname === "") return null;
  return text;
}

/** The fields of a local account that wait for a check: each with its link (from the value as typed). */
async function fieldsToCheck(ctx: CoreContext, accountId: bigint): Promise<{ index: number; value: string; link: string }[]> {
  const account = await findAccountById(ctx, accountId);
  if (account == null || account.domain != null) return [];
  const { fieldsSource } = await getPreferences(ctx, accountId);
  const found: { index: number; value: string; link: string }[] = [];
  account.fields.forEach((field, index) => {
    if (field.verifiedAt != null) return;
    const source = fieldsSource?.[index];
    // The typed value, when it is still the one shown.
    if (source == null || fieldValueToHtml(source.value) !== field.value) return;
    const link = verifiableLink(source.value, ctx.config.allowPrivateAddress);
    if (link != null) found.push({ index, value: field.value, link });
  });
  return found;
}

const registered = new WeakSet<CoreContext>();

/**
 * Subscribes the check on `ctx.events`, once per core: a saved profile
 * with a field waiting for a check queues one. Returns a function that
 * unsubscribes it.
 */
export function registerLinkVerification(ctx: CoreContext, queue: Pick<JobQueue, "enqueue">): () => void {
  if (registered.has(ctx)) return () => {};
  registered.add(ctx);
  const off = ctx.events.on("account.updated", async ({ accountId }) => {
    if ((await fieldsToCheck(ctx, accountId)).length === 0) return;
    const job: LinkVerificationJob = { accountId: accountId.toString() };
    await queue.enqueue(job);
  });
  return () => {
    off();
    registered.delete(ctx);
  };
}

/** Decodes the entities an href attribute may hold. */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|#39);/gi, (whole, name: string) => {
    const lower = name.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[lower] ?? whole;
  });
}

/** The attributes of one start tag's text (after its name). */
function attributesOf(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of text.matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = match[1].toLowerCase();
    if (!attributes.has(name)) attributes.set(name, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ""));
  }
  return attributes;
}

/** The hrefs of the `<a rel="me">` and `<link rel="me">` elements of an HTML page (comments and scripts skipped). */
export function relMeLinks(html: string, base: string): string[] {
  const text = html.replace(/<!--[\s\S]*?-->/g, "").replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, "");
  const links: string[] = [];
  for (const match of text.matchAll(/<(a|link)\b([^>]*)>/gi)) {
    const attributes = attributesOf(match[2]);
    const rel = (attributes.get("rel") ?? "").toLowerCase().split(/\s+/);
    const href = attributes.get("href");
    if (!rel.includes("me") || href == null || href.trim() === "") continue;
    try {
      links.push(new URL(href.trim(), base).href);
    } catch {
      // not a link
    }
  }
  return links;
}

/** A URL compared loosely: host case, default port and a trailing slash aside. */
function comparable(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}${parsed.search}`;
  } catch {
    return url;
  }
}

export interface LinkCheckOptions {
  policy?: NetworkPolicy;
  timeoutMs?: number;
}

/**
 * Whether the page at `link` links back with `rel="me"` to one of
 * `targets`. Throws a GuardedFetchError when the page could not be read.
 */
export async function linksBack(ctx: CoreContext, link: string, targets: readonly string[], options: LinkCheckOptions = {}): Promise<boolean> {
  const policy = options.policy ?? networkPolicy(ctx.config.allowPrivateAddress);
  const fetched = await guardedFetch(link, {
    policy,
    timeoutMs: options.timeoutMs ?? LINK_VERIFICATION_TIMEOUT_MS,
    maxBytes: LINK_VERIFICATION_MAX_BYTES,
    headers: { Accept: "text/html", "User-Agent": `Islet (+${ctx.config.origin}/)` },
  });
  if (fetched.status < 200 || fetched.status >= 300) return false;
  const type = fetched.headers.get("Content-Type") ?? "text/html";
  if (!/^\s*(text\/html|application\/xhtml\+xml)\b/i.test(type)) return false;
  const html = new TextDecoder().decode(fetched.body);
  const wanted = new Set(targets.map(comparable));
  const links = relMeLinks(html, fetched.url);
  if (links.some((href) => wanted.has(comparable(href)))) return true;
  // As Mastodon: the first rel=me link may be a short link that redirects to the profile.
  if (links.length === 0) return false;
  const location = await redirectTarget(links[0], policy, options.timeoutMs ?? LINK_VERIFICATION_TIMEOUT_MS).catch(() => null);
  return location != null && wanted.has(comparable(location));
}

/**
 * Where `link` redirects to, without going there: the first redirect's
 * target is captured as the fetcher checks it, and refused, so no
 * connection is made to it. Null when `link` does not redirect.
 */
async function redirectTarget(link: string, policy: NetworkPolicy, timeoutMs: number): Promise<string | null> {
  let requested = 0;
  let target: string | null = null;
  try {
    const opened = await openGuarded(link, {
      policy,
      timeoutMs,
      maxRedirects: 1,
      refuseUrl: async (url) => {
        if (requested++ === 0) return false;
        target = url.href;
        return true;
      },
    });
    opened.response.destroy();
    return null;
  } catch (error) {
    if (target != null) return target;
    throw error;
  }
}

/**
 * Checks the fields of the account in `job` that wait for a check and
 * marks those whose page links back. Returns how many were marked. A page
 * that cannot be reached leaves its field unmarked (it is checked again
 * the next time the profile is saved).
 */
export async function verifyProfileLinks(ctx: CoreContext, job: unknown, options: LinkCheckOptions = {}): Promise<number> {
  const accountId = typeof (job as LinkVerificationJob | null)?.accountId === "string" && /^\d{1,19}$/.test((job as LinkVerificationJob).accountId)
    ? BigInt((job as LinkVerificationJob).accountId)
    : null;
  if (accountId == null) return 0;
  const account = await findAccountById(ctx, accountId);
  if (account == null || account.domain != null) return 0;
  const targets = [account.uri, account.url ?? `${ctx.config.origin}/@${account.username}`];
  const verified = new Set<string>();
  for (const field of await fieldsToCheck(ctx, accountId)) {
    try {
      if (await linksBack(ctx, field.link, targets, options)) verified.add(field.value);
    } catch (error) {
      if (!(error instanceof GuardedFetchError)) throw error;
      ctx.log.debug(`profile link ${field.link} could not be checked: ${error.message}`);
    }
  }
  if (verified.size === 0) return 0;
  const at = new Date().toISOString();
  // Marked on the fields as they are now, unless the profile changed meanwhile.
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await findAccountById(ctx, accountId);
    if (current == null) return 0;
    let marked = 0;
    const fields: ProfileField[] = current.fields.map((field) => {
      if (field.verifiedAt != null || !verified.has(field.value)) return field;
      marked++;
      return { ...field, verifiedAt: at };
    });
    if (marked === 0) return 0;
    const rows = await ctx.db
      .update(accounts)
      .set({ fields })
      .where(sql`${eq(accounts.id, accountId)} and ${accounts.fields} = ${JSON.stringify(current.fields)}::jsonb`)
      .returning({ id: accounts.id });
    if (rows.length > 0) return marked;
  }
  return 0;
}

/** Runs the worker on `queue` until `signal` aborts. */
export async function startLinkVerificationWorker(
  ctx: CoreContext,
  queue: Pick<JobQueue, "listen">,
  signal: AbortSignal,
  options: LinkCheckOptions = {},
): Promise<void> {
  await queue.listen(async (job) => {
    await verifyProfileLinks(ctx, job, options);
  }, { signal });
}
