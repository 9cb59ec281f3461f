/**
 * The in-place takeover of a Mastodon account: Islet becomes that account,
 * with its username, actor and status IRIs, ids, RSA key pair, profile,
 * posts, media files, followers (with their inboxes), follows, lists,
 * blocks, mutes, filters and markers, read from the stopped Mastodon's
 * database and its `public/system` folder.
 *
 * It runs in phases, each in one transaction that also records the phase
 * as done: a run that fails part-way leaves whole phases behind, and the
 * next run resumes at the first phase not done. Media files are copied
 * inside their phase's transaction and simply copied again on a re-run.
 */
import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import { copyFile, readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { exportJwk, generateCryptoKeyPair } from "@fedify/fedify";
import { count, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/connect.ts";
import {
  accountKeys,
  accountNotes,
  accounts,
  blocks,
  bookmarks,
  domainBlocks as serverDomainBlocks,
  favourites,
  featuredTags,
  filterKeywords,
  filterStatuses,
  filters,
  follows,
  listAccounts,
  lists,
  markers,
  mediaAttachments,
  mentions,
  mutes,
  polls,
  statusEdits,
  statusPins,
  statuses,
  statusTags,
  tagFollows,
  userDomainBlocks,
  users,
  type MediaMeta,
  type ProfileField,
} from "../../db/schema.ts";
import { ensurePrivateDirectory, isValidKey, keyPath, attachmentFolder } from "../../media/storage.ts";
import { sanitizeRemoteHtml, remoteWebUrl } from "../../text/sanitize-html.ts";
import { markDataMigrationsDone } from "../../db/data-migrations.ts";
import { recountStatuses } from "../account-counters.ts";
import { getOwner, localActorUris, MAX_USERNAME_LENGTH, USERNAME_PATTERN } from "../accounts.ts";
import { CoreError, type CoreContext } from "../context.ts";
import { newId } from "../ids.ts";
import { hashPassword, passwordProblem } from "../passwords.ts";
import { fieldValueToHtml } from "../profile.ts";
import { localStatusUris } from "../statuses/rows.ts";
import { upsertTags } from "../tags.ts";
import { isLocalDomain, renderPlainText, type MentionTarget } from "../text.ts";
import { readMastodon, type MastodonSource } from "./mastodon-source.ts";
import { paperclipPath, systemRoot } from "./paperclip.ts";

type Row = Record<string, unknown>;

export interface TakeoverOptions {
  /** The Mastodon database, `postgres://…`. */
  databaseUrl: string;
  /** Mastodon's `public/system` folder (or `public`). */
  mediaDir: string;
  /** The Mastodon account to become. */
  username: string;
  /** The owner's new password; without it, set one with `islet account password`. */
  password?: string | null;
  /** Hears progress lines. */
  progress?: (line: string) => void;
}

export interface TakeoverReport {
  /** What was carried over, by kind. */
  counts: Record<string, number>;
  /** What was not, by reason. */
  skipped: Record<string, number>;
  /** Phases done by an earlier, interrupted run. */
  resumedPhases: string[];
  username: string;
  actorUri: string;
}

const PHASES = ["identity", "accounts", "statuses", "relationships", "settings"] as const;
type Phase = (typeof PHASES)[number];

interface Progress {
  username: string;
  done: Phase[];
  counts: Record<string, number>;
  skipped: Record<string, number>;
  finishedAt?: string;
}

const PROGRESS_KEY = ["takeover", "mastodon"];

async function readProgress(ctx: CoreContext): Promise<Progress | null> {
  const rows = await ctx.database.query<{ value: string }>(
    sql`SELECT value::text AS value FROM kv_entries WHERE key = ARRAY[${PROGRESS_KEY[0]}::text, ${PROGRESS_KEY[1]}::text]::text[]`,
  );
  return rows.length === 0 ? null : JSON.parse(rows[0].value) as Progress;
}

async function writeKv(db: Db, key: readonly string[], value: unknown): Promise<void> {
  await db.execute(sql`
    INSERT INTO kv_entries (key, value) VALUES (ARRAY[${sql.join(key.map((part) => sql`${part}::text`), sql`, `)}]::text[], ${JSON.stringify(value)}::jsonb)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = NULL`);
}

const big = (value: unknown): bigint => BigInt(String(value));
const bigOrNull = (value: unknown): bigint | null => (value == null ? null : BigInt(String(value)));
const date = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
const dateOrNull = (value: unknown): Date | null => (value == null ? null : date(value));
const str = (value: unknown): string => (value == null ? "" : String(value));
const strOrNull = (value: unknown): string | null => (value == null || value === "" ? null : String(value));

const VISIBILITY = ["public", "unlisted", "private", "direct"] as const;
const MEDIA_TYPES = ["image", "gifv", "video", "unknown", "audio"] as const;
const FILTER_ACTIONS = ["warn", "hide", "blur"] as const;
const REPLIES_POLICIES = ["list", "followed", "none"] as const;
const COPY_CONCURRENCY = 8;

/** Inserts in slices, so that no statement carries too many parameters. */
async function insertAll<T>(rows: T[], insert: (slice: T[]) => Promise<unknown>, size = 1000): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

/** A PEM key pair of Mastodon's as the JWKs Islet stores. */
async function importRsaPair(privatePem: string, publicPem: string): Promise<{ privateKey: JsonWebKey; publicKey: JsonWebKey }> {
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const privateDer = createPrivateKey(privatePem).export({ format: "der", type: "pkcs8" });
  const publicDer = createPublicKey(publicPem).export({ format: "der", type: "spki" });
  const privateKey = await webcrypto.subtle.importKey("pkcs8", privateDer, algorithm, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", publicDer, algorithm, true, ["verify"]);
  return { privateKey: await exportJwk(privateKey as CryptoKey), publicKey: await exportJwk(publicKey as CryptoKey) };
}

/** Whether Islet holds anything yet (an owner, accounts or posts). */
async function isEmpty(ctx: CoreContext): Promise<boolean> {
  const [a] = await ctx.db.select({ n: count() }).from(accounts);
  const [s] = await ctx.db.select({ n: count() }).from(statuses);
  return (a?.n ?? 0) === 0 && (s?.n ?? 0) === 0;
}

/**
 * Makes this Islet the Mastodon account `options.username`. Refuses unless
 * Islet is empty or an earlier takeover of the same account was
 * interrupted (then it resumes).
 */
export async function takeOverMastodonAccount(ctx: CoreContext, options: TakeoverOptions): Promise<TakeoverReport> {
  const say = options.progress ?? (() => {});
  if (options.password != null) {
    const problem = passwordProblem(options.password);
    if (problem != null) throw new CoreError("invalid", problem);
  }
  let progress = await readProgress(ctx);
  if (progress?.finishedAt != null) {
    throw new CoreError("conflict", `@${progress.username} was taken over from Mastodon already (${progress.finishedAt}); the import runs once`);
  }
  if (progress != null && progress.username.toLowerCase() !== options.username.toLowerCase()) {
    throw new CoreError("conflict", `an interrupted takeover of @${progress.username} is under way; run it again for that account, or start over with \`islet reset\``);
  }
  if (progress == null && !(await isEmpty(ctx))) {
    const owner = await getOwner(ctx);
    throw new CoreError(
      "conflict",
      owner != null
        ? `this Islet already has an owner (@${owner.account.username}); a Mastodon takeover needs an empty Islet (\`islet reset\` empties it)`
        : "this Islet already holds accounts or posts; a Mastodon takeover needs an empty Islet (`islet reset` empties it)",
    );
  }
  const mediaRoot = systemRoot(options.mediaDir);
  try {
    if (!(await stat(mediaRoot)).isDirectory()) throw new Error("not a folder");
  } catch {
    throw new CoreError("invalid", `the media folder ${options.mediaDir} cannot be read (give Mastodon's public/system folder)`);
  }

  say("Reading the Mastodon database…");
  const source = await readMastodon(options.databaseUrl, options.username);
  const owner = source.owner;
  const username = str(owner.username);
  if (!USERNAME_PATTERN.test(username) || username.length > MAX_USERNAME_LENGTH) {
    throw new CoreError("invalid", `the username ${JSON.stringify(username)} is not one Islet accepts`);
  }
  if (owner.private_key == null || str(owner.private_key) === "") throw new CoreError("invalid", `@${username} has no private key in this database`);
  checkOrigin(ctx, username, source);

  progress ??= { username, done: [], counts: {}, skipped: {} };
  const resumedPhases = [...progress.done];
  if (resumedPhases.length > 0) say(`Resuming after: ${resumedPhases.join(", ")}`);

  const plan = new Plan(ctx, source, mediaRoot, options.password ?? null);
  for (const phase of PHASES) {
    if (progress.done.includes(phase)) continue;
    say(`Importing ${phase}…`);
    const counts: Record<string, number> = {};
    const skipped: Record<string, number> = {};
    const current: Progress = progress;
    await ctx.db.transaction(async (tx) => {
      await plan.run(phase, tx, counts, skipped);
      const next: Progress = {
        ...current,
        done: [...current.done, phase],
        counts: { ...current.counts, ...counts },
        skipped: mergeCounts(current.skipped, skipped),
      };
      if (next.done.length === PHASES.length) {
        next.finishedAt = new Date().toISOString();
        // What it stored is in today's form (remote HTML sanitised): the
        // next start need not read it all again.
        await markDataMigrationsDone(tx);
      }
      await writeKv(tx, PROGRESS_KEY, next);
    });
    progress = (await readProgress(ctx))!;
    for (const [what, n] of Object.entries(counts)) say(`  ${what}: ${n}`);
  }
  const skippedAll = mergeCounts(progress.skipped, source.leftBehind);
  const { uri } = localActorUris(ctx.config.origin, username);
  await ctx.events.emit("account.updated", { accountId: big(owner.id) });
  return { counts: progress.counts, skipped: skippedAll, resumedPhases, username, actorUri: uri };
}

function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const merged = { ...a };
  for (const [key, n] of Object.entries(b)) merged[key] = (merged[key] ?? 0) + n;
  return merged;
}

/**
 * The owner's posts must already live at this Islet's origin: the same
 * LOCAL_DOMAIN (and WEB_DOMAIN) as the Mastodon had.
 */
function checkOrigin(ctx: CoreContext, username: string, source: MastodonSource): void {
  const sample = source.statuses.find((s) => s.uri != null && s.reblog_of_id == null);
  if (sample == null) return;
  const expected = localStatusUris(ctx.config.origin, username, big(sample.id)).uri;
  if (str(sample.uri) !== expected) {
    let origin = str(sample.uri);
    try {
      origin = new URL(origin).origin;
    } catch {
      // shown as it is
    }
    throw new CoreError(
      "invalid",
      `this Mastodon's posts live at ${origin}, but Islet is configured for ${ctx.config.origin}: set LOCAL_DOMAIN (and WEB_DOMAIN) as the Mastodon had them`,
    );
  }
}

/** What one takeover writes, phase by phase. */
class Plan {
  readonly #ctx: CoreContext;
  readonly #source: MastodonSource;
  readonly #mediaRoot: string;
  readonly #password: string | null;
  readonly #ownerId: bigint;
  readonly #username: string;
  /** Remote accounts that are taken over (other local accounts of the Mastodon are not). */
  readonly #remote: Map<string, Row>;
  /** Statuses written (ids as strings). */
  readonly #statusIds = new Set<string>();
  /** Mentionable accounts by `username@domain` (domain "" for the owner). */
  readonly #byHandle = new Map<string, MentionTarget>();

  constructor(ctx: CoreContext, source: MastodonSource, mediaRoot: string, password: string | null) {
    this.#ctx = ctx;
    this.#source = source;
    this.#mediaRoot = mediaRoot;
    this.#password = password;
    this.#ownerId = big(source.owner.id);
    this.#username = str(source.owner.username);
    this.#remote = new Map([...source.accounts].filter(([, row]) => row.domain != null && row.suspended_at == null));
    const origin = ctx.config.origin;
    this.#byHandle.set(`${this.#username.toLowerCase()}@`, { id: this.#ownerId, username: this.#username, domain: null, url: `${origin}/@${this.#username}` });
    for (const row of this.#remote.values()) {
      this.#byHandle.set(`${str(row.username).toLowerCase()}@${str(row.domain).toLowerCase()}`, {
        id: big(row.id),
        username: str(row.username),
        domain: str(row.domain),
        url: strOrNull(row.url) ?? str(row.uri),
      });
    }
    // Statuses that exist after the statuses phase, for a resumed run too.
    for (const s of source.statuses) this.#statusIds.add(String(s.id));
    for (const s of source.referencedStatuses) if (this.#remote.has(String(s.account_id))) this.#statusIds.add(String(s.id));
  }

  async run(phase: Phase, tx: Db, counts: Record<string, number>, skipped: Record<string, number>): Promise<void> {
    const skip = (reason: string, n = 1) => {
      if (n > 0) skipped[reason] = (skipped[reason] ?? 0) + n;
    };
    switch (phase) {
      case "identity":
        return await this.#identity(tx, counts, skip);
      case "accounts":
        return await this.#accounts(tx, counts, skip);
      case "statuses":
        return await this.#statuses(tx, counts, skip);
      case "relationships":
        return await this.#relationships(tx, counts, skip);
      case "settings":
        return await this.#settings(tx, counts, skip);
    }
  }

  /** A local account's text (a post, the bio) as the HTML Mastodon would have shown. */
  #render(text: string): string {
    const ctx = this.#ctx;
    return renderPlainText(text, {
      origin: ctx.config.origin,
      resolveMention: (name, domain) => this.#byHandle.get(`${name.toLowerCase()}@${isLocalDomain(ctx, domain) ? "" : domain!.toLowerCase()}`) ?? null,
    }).html;
  }

  /** Copies a file from Mastodon's folder to Islet's media root at `key`; false when it is missing. */
  async #copy(relative: string, key: string): Promise<boolean> {
    const from = join(this.#mediaRoot, relative);
    const to = keyPath(this.#ctx.config, key);
    if (to == null) return false;
    try {
      if (!(await stat(from)).isFile()) return false;
    } catch {
      return false;
    }
    await ensurePrivateDirectory(dirname(to));
    await copyFile(from, to);
    return true;
  }

  /** The key an imported file keeps: Mastodon's own path, so its old URL still serves it. */
  #key(relative: string, fallback: string): string {
    return isValidKey(relative) ? relative : fallback;
  }

  async #identity(tx: Db, counts: Record<string, number>, skip: (reason: string, n?: number) => void): Promise<void> {
    const ctx = this.#ctx;
    const owner = this.#source.owner;
    const id = this.#ownerId;
    const origin = ctx.config.origin;
    const pictures: { avatarUrl: string | null; headerUrl: string | null } = { avatarUrl: null, headerUrl: null };
    for (const kind of ["avatar", "header"] as const) {
      const fileName = strOrNull(owner[`${kind}_file_name`]);
      if (fileName == null) continue;
      const relative = paperclipPath("accounts", `${kind}s`, String(owner.id), "original", fileName);
      const key = this.#key(relative, `accounts/${kind}s/${id}/original${fileName.replace(/^.*(\.[A-Za-z0-9]+)$/, "$1")}`);
      if (await this.#copy(relative, key)) {
        pictures[`${kind}Url`] = `${origin}/system/${key}`;
        counts[`${kind}`] = 1;
      } else {
        skip(`${kind} file missing from the media folder`);
      }
    }
    const fieldsSource = Array.isArray(owner.fields)
      ? (owner.fields as { name?: unknown; value?: unknown }[]).map((f) => ({ name: str(f.name), value: str(f.value) }))
      : [];
    const fields: ProfileField[] = fieldsSource.map((f) => ({ name: f.name, value: fieldValueToHtml(f.value) }));
    const note = str(owner.note);
    await tx.insert(accounts).values({
      id,
      username: this.#username,
      domain: null,
      ...localActorUris(origin, this.#username),
      actorType: str(owner.actor_type) === "Service" ? "Service" : "Person",
      displayName: str(owner.display_name),
      note: this.#render(note),
      avatarUrl: pictures.avatarUrl,
      headerUrl: pictures.headerUrl,
      locked: owner.locked === true,
      bot: str(owner.actor_type) === "Service" || str(owner.actor_type) === "Application",
      discoverable: owner.discoverable === true,
      indexable: owner.indexable === true,
      fields,
      alsoKnownAs: this.#source.aliases.map((a) => str(a.uri)).filter((uri) => uri !== ""),
      publishedAt: date(owner.created_at),
      createdAt: date(owner.created_at),
    });
    const passwordHash = this.#password == null ? "!" : await hashPassword(this.#password);
    if (this.#password == null) skip("password (Mastodon's cannot be carried over: set one with `islet account password`)");
    await tx.insert(users).values({
      id: big(owner.user_id),
      accountId: id,
      email: str(owner.user_email),
      passwordHash,
      locale: strOrNull(owner.locale) ?? "en",
    });
    const rsa = await importRsaPair(str(owner.private_key), str(owner.public_key));
    const ed25519 = await generateCryptoKeyPair("Ed25519");
    await tx.insert(accountKeys).values([
      { accountId: id, algorithm: "RSASSA-PKCS1-v1_5", privateKey: rsa.privateKey, publicKey: rsa.publicKey },
      { accountId: id, algorithm: "Ed25519", privateKey: await exportJwk(ed25519.privateKey), publicKey: await exportJwk(ed25519.publicKey) },
    ]);
    // The profile as typed, and the defaults for new posts.
    let settings: Record<string, unknown> = {};
    try {
      settings = owner.settings == null ? {} : JSON.parse(str(owner.settings)) as Record<string, unknown>;
    } catch {
      settings = {};
    }
    const privacy = String(settings.default_privacy ?? "public");
    await writeKv(tx, ["preferences", id.toString()], {
      privacy: (VISIBILITY as readonly string[]).includes(privacy) ? privacy : "public",
      sensitive: settings.default_sensitive === true,
      language: typeof settings.default_language === "string" && settings.default_language !== "" ? settings.default_language : null,
      hideCollections: owner.hide_collections === true,
      noteSource: note,
      fieldsSource,
      avatarStaticUrl: null,
      headerStaticUrl: null,
    });
    counts.account = 1;
    counts["key pair"] = 1;
  }

  async #accounts(tx: Db, counts: Record<string, number>, skip: (reason: string, n?: number) => void): Promise<void> {
    const others = [...this.#source.accounts.values()].filter((row) => !this.#remote.has(String(row.id)));
    skip("other local accounts of the Mastodon (they do not move with this one)", others.filter((row) => row.domain == null).length);
    skip("suspended remote accounts", others.filter((row) => row.domain != null).length);
    const rows = [...this.#remote.values()].map((row) => ({
      id: big(row.id),
      username: str(row.username),
      domain: str(row.domain).toLowerCase(),
      uri: str(row.uri),
      url: remoteWebUrl(strOrNull(row.url)),
      actorType: strOrNull(row.actor_type) ?? "Person",
      displayName: str(row.display_name),
      note: sanitizeRemoteHtml(str(row.note)),
      avatarUrl: strOrNull(row.avatar_remote_url),
      headerUrl: strOrNull(row.header_remote_url),
      inboxUrl: strOrNull(row.inbox_url),
      sharedInboxUrl: strOrNull(row.shared_inbox_url),
      outboxUrl: strOrNull(row.outbox_url),
      followersUrl: strOrNull(row.followers_url),
      followingUrl: strOrNull(row.following_url),
      featuredUrl: strOrNull(row.featured_collection_url),
      locked: row.locked === true,
      bot: str(row.actor_type) === "Service" || str(row.actor_type) === "Application",
      discoverable: row.discoverable === true,
      indexable: row.indexable === true,
      fields: Array.isArray(row.fields)
        ? (row.fields as { name?: unknown; value?: unknown }[]).map((f) => ({ name: str(f.name), value: sanitizeRemoteHtml(str(f.value)) }))
        : [],
      alsoKnownAs: Array.isArray(row.also_known_as) ? (row.also_known_as as unknown[]).map(String) : [],
      createdAt: date(row.created_at),
      // Never fetched by Islet: stale, so refreshed when next seen.
      fetchedAt: null,
    }));
    await insertAll(rows, (slice) => tx.insert(accounts).values(slice).onConflictDoNothing());
    // Moves between them, once all are stored.
    for (const row of this.#remote.values()) {
      if (row.moved_to_account_id != null && this.#remote.has(String(row.moved_to_account_id))) {
        await tx.update(accounts).set({ movedToAccountId: big(row.moved_to_account_id) }).where(eq(accounts.id, big(row.id)));
      }
    }
    counts["remote accounts"] = rows.length;
  }

  async #statuses(tx: Db, counts: Record<string, number>, skip: (reason: string, n?: number) => void): Promise<void> {
    const ctx = this.#ctx;
    const source = this.#source;
    const origin = ctx.config.origin;
    const ownerId = this.#ownerId;
    // Whose each status is, and its parent, for thread roots.
    const parentOf = new Map<string, string | null>();
    const written: Row[] = [];
    const referenced = source.referencedStatuses.filter((s) => {
      if (this.#remote.has(String(s.account_id))) return true;
      skip("posts by other local accounts of the Mastodon");
      return false;
    });
    const own = source.statuses.filter((s) => {
      const visibility = Number(s.visibility);
      if (visibility >= 0 && visibility <= 3) return true;
      skip("limited-visibility posts");
      return false;
    });
    for (const s of [...referenced, ...own]) {
      parentOf.set(String(s.id), s.in_reply_to_id == null ? null : String(s.in_reply_to_id));
      written.push(s);
    }
    const rootOf = (id: string): bigint => {
      let current = id;
      for (let i = 0; i < 1000; i++) {
        const parent = parentOf.get(current);
        if (parent == null || !parentOf.has(parent)) return big(current);
        current = parent;
      }
      return big(current);
    };
    const boostTarget = new Map<string, string>();
    for (const s of own) if (s.reblog_of_id != null) boostTarget.set(String(s.id), String(s.reblog_of_id));

    const rows = written.map((s) => {
      const id = String(s.id);
      const local = big(s.account_id) === ownerId;
      const reblogOf = s.reblog_of_id == null ? null : String(s.reblog_of_id);
      const uris = local ? localStatusUris(origin, this.#username, big(id)) : null;
      const inReplyToAccount = bigOrNull(s.in_reply_to_account_id);
      return {
        id: big(id),
        accountId: big(s.account_id),
        uri: strOrNull(s.uri) ?? (reblogOf != null ? `${uris!.uri}/activity` : uris!.uri),
        url: local ? uris!.url : strOrNull(s.url),
        content: reblogOf != null ? "" : local ? this.#render(str(s.text)) : sanitizeRemoteHtml(str(s.text)),
        text: local && reblogOf == null ? str(s.text) : null,
        spoilerText: str(s.spoiler_text),
        sensitive: s.sensitive === true,
        visibility: VISIBILITY[Number(s.visibility)] ?? "public",
        language: strOrNull(s.language),
        inReplyToId: bigOrNull(s.in_reply_to_id),
        inReplyToAccountId: inReplyToAccount != null && (inReplyToAccount === ownerId || this.#remote.has(String(inReplyToAccount))) ? inReplyToAccount : null,
        reblogOfId: reblogOf == null ? null : big(reblogOf),
        conversationId: reblogOf != null && parentOf.has(reblogOf) ? rootOf(reblogOf) : rootOf(id),
        repliesCount: Number(s.replies_count ?? 0),
        reblogsCount: Number(s.reblogs_count ?? 0),
        favouritesCount: Number(s.favourites_count ?? 0),
        createdAt: date(s.created_at),
        editedAt: dateOrNull(s.edited_at),
        updatedAt: date(s.updated_at ?? s.created_at),
      };
    });
    const boostsOfMissing = rows.filter((r) => r.reblogOfId != null && !this.#statusIds.has(String(r.reblogOfId)));
    skip("boosts of posts no longer in the Mastodon database", boostsOfMissing.length);
    const keep = rows.filter((r) => r.reblogOfId == null || this.#statusIds.has(String(r.reblogOfId)));
    await insertAll(keep, (slice) => tx.insert(statuses).values(slice).onConflictDoNothing());
    await recountStatuses(tx, [ownerId]);
    const kept = new Set(keep.map((r) => String(r.id)));
    counts.posts = keep.filter((r) => r.accountId === ownerId && r.reblogOfId == null).length;
    counts.boosts = keep.filter((r) => r.accountId === ownerId && r.reblogOfId != null).length;
    counts["other accounts' posts (replied to, boosted, favourited or bookmarked)"] = keep.filter((r) => r.accountId !== ownerId).length;

    // Media: the owner's files copied, other accounts' kept as remote links.
    const mediaRows: (typeof mediaAttachments.$inferInsert)[] = [];
    const position = new Map<string, number>();
    const orderOf = new Map<string, string[]>();
    for (const s of written) {
      if (Array.isArray(s.ordered_media_attachment_ids)) orderOf.set(String(s.id), (s.ordered_media_attachment_ids as unknown[]).map(String));
    }
    let copied = 0;
    const copies: (() => Promise<void>)[] = [];
    for (const m of source.media) {
      const statusId = String(m.status_id);
      if (!kept.has(statusId)) continue;
      const id = big(m.id);
      const order = orderOf.get(statusId);
      const index = order?.indexOf(String(m.id)) ?? -1;
      const pos = index >= 0 ? index : (position.get(statusId) ?? 0);
      position.set(statusId, pos + 1);
      let meta: MediaMeta = {};
      try {
        meta = m.file_meta == null ? {} : JSON.parse(str(m.file_meta)) as MediaMeta;
      } catch {
        meta = {};
      }
      const focus = meta.focus as { x?: number; y?: number } | undefined;
      const type = MEDIA_TYPES[Number(m.type)] ?? "unknown";
      const common = {
        id,
        accountId: big(m.account_id ?? ownerId),
        statusId: big(statusId),
        type,
        contentType: strOrNull(m.file_content_type) ?? "application/octet-stream",
        description: strOrNull(m.description),
        blurhash: strOrNull(m.blurhash),
        meta,
        focusX: typeof focus?.x === "number" ? focus.x : null,
        focusY: typeof focus?.y === "number" ? focus.y : null,
        position: pos,
        createdAt: date(m.created_at),
      };
      if (big(m.account_id ?? 0) !== ownerId) {
        if (strOrNull(m.remote_url) == null) {
          skip("other accounts' media without a remote address");
          continue;
        }
        mediaRows.push({ ...common, remoteUrl: strOrNull(m.remote_url), fileKey: null, previewKey: null, fileSize: null });
        continue;
      }
      const fileName = strOrNull(m.file_file_name);
      if (fileName == null) {
        skip("media attachments without a file");
        continue;
      }
      copies.push(async () => {
        const original = paperclipPath("media_attachments", "files", String(m.id), "original", fileName);
        const ext = /\.[A-Za-z0-9]+$/.exec(fileName)?.[0] ?? "";
        const fileKey = this.#key(original, `${attachmentFolder(id)}/original${ext}`);
        if (!(await this.#copy(original, fileKey))) {
          skip("media files missing from the media folder");
          return;
        }
        copied++;
        // The preview Mastodon made (`small`), whatever its extension.
        let previewKey: string | null = null;
        const smallFolder = dirname(paperclipPath("media_attachments", "files", String(m.id), "small", fileName));
        try {
          const names = await readdir(join(this.#mediaRoot, smallFolder));
          if (names.length > 0) {
            const relative = `${smallFolder}/${names[0]}`;
            const key = this.#key(relative, `${attachmentFolder(id)}/small${/\.[A-Za-z0-9]+$/.exec(names[0])?.[0] ?? ""}`);
            if (await this.#copy(relative, key)) previewKey = key;
          }
        } catch {
          // no preview: the original serves
        }
        if (previewKey == null && type === "image") previewKey = fileKey;
        mediaRows.push({ ...common, fileKey, previewKey, fileSize: m.file_file_size == null ? null : Number(m.file_file_size), remoteUrl: null });
      });
    }
    // Several files at a time: copying is mostly waiting on the disk.
    for (let i = 0; i < copies.length; i += COPY_CONCURRENCY) {
      await Promise.all(copies.slice(i, i + COPY_CONCURRENCY).map((copy) => copy()));
    }
    await insertAll(mediaRows, (slice) => tx.insert(mediaAttachments).values(slice).onConflictDoNothing());
    counts["media files copied"] = copied;
    counts["media attachments"] = mediaRows.length;

    const pollRows = source.polls.filter((p) => kept.has(String(p.status_id))).map((p) => {
      const options = (p.options as unknown[] ?? []).map(String);
      const tallies = (p.cached_tallies as unknown[] ?? []).map(Number);
      return {
        id: big(p.id),
        statusId: big(p.status_id),
        expiresAt: dateOrNull(p.expires_at),
        multiple: p.multiple === true,
        hideTotals: p.hide_totals === true,
        options,
        votesCounts: options.map((_, i) => tallies[i] ?? 0),
        votersCount: p.voters_count == null ? null : Number(p.voters_count),
        createdAt: date(p.created_at),
      };
    });
    await insertAll(pollRows, (slice) => tx.insert(polls).values(slice).onConflictDoNothing());
    counts.polls = pollRows.length;

    const editRows = source.edits.filter((e) => kept.has(String(e.status_id))).map((e) => ({
      id: big(e.id),
      statusId: big(e.status_id),
      accountId: ownerId,
      content: this.#render(str(e.text)),
      spoilerText: str(e.spoiler_text),
      sensitive: e.sensitive === true,
      mediaAttachmentIds: Array.isArray(e.ordered_media_attachment_ids) ? (e.ordered_media_attachment_ids as unknown[]).map(String) : [],
      mediaDescriptions: Array.isArray(e.media_descriptions) ? (e.media_descriptions as unknown[]).map((d) => (d == null ? null : String(d))) : null,
      pollOptions: Array.isArray(e.poll_options) ? (e.poll_options as unknown[]).map(String) : null,
      createdAt: date(e.created_at),
    }));
    await insertAll(editRows, (slice) => tx.insert(statusEdits).values(slice).onConflictDoNothing());
    counts.edits = editRows.length;

    const mentionRows = source.mentions
      .filter((m) => kept.has(String(m.status_id)) && (big(m.account_id) === ownerId || this.#remote.has(String(m.account_id))))
      .map((m) => ({ id: big(m.id), statusId: big(m.status_id), accountId: big(m.account_id), silent: m.silent === true }));
    skip("mentions of accounts not taken over", source.mentions.filter((m) => kept.has(String(m.status_id))).length - mentionRows.length);
    await insertAll(mentionRows, (slice) => tx.insert(mentions).values(slice).onConflictDoNothing());
    counts.mentions = mentionRows.length;

    const tagged = source.statusTags.filter((t) => kept.has(String(t.status_id)));
    const tagRows = await upsertTags(tx, tagged.map((t) => str(t.display_name) || str(t.name)));
    const tagId = new Map(tagRows.map((t) => [t.name, t.id]));
    const links = tagged.flatMap((t) => {
      const id = tagId.get((str(t.display_name) || str(t.name)).normalize("NFKC").toLowerCase());
      return id == null ? [] : [{ statusId: big(t.status_id), tagId: id }];
    });
    await insertAll(links, (slice) => tx.insert(statusTags).values(slice).onConflictDoNothing());
    counts.hashtags = tagRows.length;

    const accountStatus = (rows: Row[]) => rows.filter((r) => kept.has(String(r.status_id))).map((r) => ({
      id: big(r.id),
      accountId: ownerId,
      statusId: big(r.status_id),
      createdAt: date(r.created_at),
    }));
    for (const [name, table, rows] of [
      ["pins", statusPins, source.pins],
      ["favourites", favourites, source.favourites],
      ["bookmarks", bookmarks, source.bookmarks],
    ] as const) {
      const values = accountStatus(rows as Row[]);
      skip(`${name} of posts no longer in the Mastodon database`, rows.length - values.length);
      await insertAll(values, (slice) => tx.insert(table).values(slice).onConflictDoNothing());
      counts[name] = values.length;
    }
  }

  async #relationships(tx: Db, counts: Record<string, number>, skip: (reason: string, n?: number) => void): Promise<void> {
    const source = this.#source;
    const ownerId = this.#ownerId;
    const known = (id: unknown) => big(id) === ownerId || this.#remote.has(String(id));
    const followValues = (rows: Row[], state: "accepted" | "pending") => {
      const usable = rows.filter((r) => known(r.account_id) && known(r.target_account_id));
      skip(state === "accepted" ? "follows with accounts not taken over" : "follow requests with accounts not taken over", rows.length - usable.length);
      return usable.map((r) => ({
        id: big(r.id),
        accountId: big(r.account_id),
        targetAccountId: big(r.target_account_id),
        uri: strOrNull(r.uri),
        state,
        showReblogs: r.show_reblogs !== false,
        notify: r.notify === true,
        languages: Array.isArray(r.languages) ? (r.languages as unknown[]).map(String) : null,
        createdAt: date(r.created_at),
      }));
    };
    const accepted = followValues(source.follows, "accepted");
    // Request ids live in their own sequence in Mastodon: kept apart from follow ids.
    const pending = followValues(source.followRequests, "pending").map((r) => ({ ...r, id: newId(r.createdAt) }));
    await insertAll([...accepted, ...pending], (slice) => tx.insert(follows).values(slice).onConflictDoNothing());
    counts.followers = accepted.filter((r) => r.targetAccountId === ownerId).length;
    counts.following = accepted.filter((r) => r.accountId === ownerId).length;
    counts["follow requests received"] = pending.filter((r) => r.targetAccountId === ownerId).length;
    counts["follow requests sent"] = pending.filter((r) => r.accountId === ownerId).length;

    const blockRows = source.blocks.filter((r) => known(r.account_id) && known(r.target_account_id)).map((r) => ({
      id: big(r.id),
      accountId: big(r.account_id),
      targetAccountId: big(r.target_account_id),
      uri: strOrNull(r.uri),
      createdAt: date(r.created_at),
    }));
    await insertAll(blockRows, (slice) => tx.insert(blocks).values(slice).onConflictDoNothing());
    counts.blocks = blockRows.filter((r) => r.accountId === ownerId).length;

    const muteRows = source.mutes.filter((r) => known(r.target_account_id)).map((r) => ({
      id: big(r.id),
      accountId: ownerId,
      targetAccountId: big(r.target_account_id),
      hideNotifications: r.hide_notifications !== false,
      expiresAt: dateOrNull(r.expires_at),
      createdAt: date(r.created_at),
    }));
    await insertAll(muteRows, (slice) => tx.insert(mutes).values(slice).onConflictDoNothing());
    counts.mutes = muteRows.length;

    const domainRows = source.domainBlocks.map((r) => ({ accountId: ownerId, domain: str(r.domain).toLowerCase(), createdAt: date(r.created_at) }));
    await insertAll(domainRows, (slice) => tx.insert(userDomainBlocks).values(slice).onConflictDoNothing());
    counts["domain blocks"] = domainRows.length;

    const listRows = source.lists.map((r) => ({
      id: big(r.id),
      accountId: ownerId,
      title: str(r.title),
      repliesPolicy: REPLIES_POLICIES[Number(r.replies_policy)] ?? "list",
      exclusive: r.exclusive === true,
      createdAt: date(r.created_at),
    }));
    await insertAll(listRows, (slice) => tx.insert(lists).values(slice).onConflictDoNothing());
    const members = source.listAccounts.filter((r) => this.#remote.has(String(r.account_id))).map((r) => ({ listId: big(r.list_id), accountId: big(r.account_id) }));
    skip("list members not taken over", source.listAccounts.length - members.length);
    await insertAll(members, (slice) => tx.insert(listAccounts).values(slice).onConflictDoNothing());
    counts.lists = listRows.length;
    counts["list members"] = members.length;

    const notes = source.accountNotes.filter((r) => this.#remote.has(String(r.target_account_id))).map((r) => ({
      accountId: ownerId,
      targetAccountId: big(r.target_account_id),
      comment: str(r.comment),
      updatedAt: date(r.updated_at),
    }));
    await insertAll(notes, (slice) => tx.insert(accountNotes).values(slice).onConflictDoNothing());
    counts["notes on accounts"] = notes.length;
  }

  async #settings(tx: Db, counts: Record<string, number>, skip: (reason: string, n?: number) => void): Promise<void> {
    const source = this.#source;
    const ownerId = this.#ownerId;
    const filterRows = source.filters.map((r) => ({
      id: big(r.id),
      accountId: ownerId,
      title: str(r.phrase),
      context: Array.isArray(r.context) ? (r.context as unknown[]).map(String) : [],
      filterAction: FILTER_ACTIONS[Number(r.action ?? 0)] ?? "warn",
      expiresAt: dateOrNull(r.expires_at),
      createdAt: date(r.created_at),
    }));
    await insertAll(filterRows, (slice) => tx.insert(filters).values(slice).onConflictDoNothing());
    const keywordRows = source.filterKeywords.map((r) => ({
      id: big(r.id),
      filterId: big(r.custom_filter_id),
      keyword: str(r.keyword),
      wholeWord: r.whole_word !== false,
    }));
    await insertAll(keywordRows, (slice) => tx.insert(filterKeywords).values(slice).onConflictDoNothing());
    const filterStatusRows = source.filterStatuses.filter((r) => this.#statusIds.has(String(r.status_id))).map((r) => ({
      id: big(r.id),
      filterId: big(r.custom_filter_id),
      statusId: big(r.status_id),
    }));
    skip("filtered posts not taken over", source.filterStatuses.length - filterStatusRows.length);
    await insertAll(filterStatusRows, (slice) => tx.insert(filterStatuses).values(slice).onConflictDoNothing());
    counts.filters = filterRows.length;
    counts["filter keywords"] = keywordRows.length;

    const markerRows = source.markers
      .filter((r) => r.timeline === "home" || r.timeline === "notifications")
      .map((r) => ({
        accountId: ownerId,
        timeline: r.timeline as "home" | "notifications",
        lastReadId: String(r.last_read_id),
        version: Number(r.lock_version ?? 0),
        updatedAt: date(r.updated_at),
      }));
    if (markerRows.length > 0) await tx.insert(markers).values(markerRows).onConflictDoNothing();
    counts.markers = markerRows.length;

    const tagName = (r: Row) => str(r.display_name) || str(r.name);
    const followed = await upsertTags(tx, source.tagFollows.map(tagName));
    if (followed.length > 0) {
      await tx.insert(tagFollows).values(followed.map((tag) => ({ id: newId(), accountId: ownerId, tagId: tag.id }))).onConflictDoNothing();
    }
    counts["followed hashtags"] = followed.length;
    const featured = await upsertTags(tx, source.featuredTags.map(tagName));
    if (featured.length > 0) {
      await tx.insert(featuredTags).values(featured.map((tag) => ({ id: newId(), accountId: ownerId, tagId: tag.id }))).onConflictDoNothing();
    }
    counts["featured hashtags"] = featured.length;

    // Mastodon's severities: silence 0, suspend 1, noop 2 (nothing to keep).
    const blocked = source.serverDomainBlocks.filter((r) => Number(r.severity) === 0 || Number(r.severity) === 1).map((r) => ({
      domain: str(r.domain).toLowerCase(),
      severity: Number(r.severity) === 1 ? "suspend" as const : "silence" as const,
      comment: strOrNull(r.private_comment),
      createdAt: date(r.created_at),
    }));
    skip("server domain blocks that only reject media or reports", source.serverDomainBlocks.length - blocked.length);
    await insertAll(blocked, (slice) => tx.insert(serverDomainBlocks).values(slice).onConflictDoNothing());
    counts["server domain blocks"] = blocked.length;
  }
}
