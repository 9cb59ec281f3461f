/**
 * The owner account and the remote accounts Islet knows about.
 */
import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import { and, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import { accountKeys, accounts, mediaAttachments, users } from "../db/schema.ts";
import { deleteMediaFiles } from "../media/storage.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import { hashPassword, passwordProblem } from "./passwords.ts";
import { remoteWebUrl, sanitizeRemoteHtml } from "../text/sanitize-html.ts";

export type Account = typeof accounts.$inferSelect;
export type User = typeof users.$inferSelect;

export const USERNAME_PATTERN = /^[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?$/i;
export const MAX_USERNAME_LENGTH = 30;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The IRIs of the owner's actor and its collections, derived from the origin. */
export function localActorUris(origin: string, username: string) {
  const base = `${origin}/users/${username}`;
  return {
    uri: base,
    url: `${origin}/@${username}`,
    inboxUrl: `${base}/inbox`,
    sharedInboxUrl: `${origin}/inbox`,
    outboxUrl: `${base}/outbox`,
    followersUrl: `${base}/followers`,
    followingUrl: `${base}/following`,
    featuredUrl: `${base}/collections/featured`,
  };
}

export interface Owner {
  account: Account;
  user: User;
}

/** The owner, or null before `islet setup`. */
export async function getOwner(ctx: CoreContext): Promise<Owner | null> {
  const rows = await ctx.db
    .select({ account: accounts, user: users })
    .from(users)
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .limit(1);
  return rows[0] ?? null;
}

/** The owner, or a CoreError when there is none yet. */
export async function requireOwner(ctx: CoreContext): Promise<Owner> {
  const owner = await getOwner(ctx);
  if (owner == null) throw new CoreError("not_found", "no owner account yet; run `islet setup`");
  return owner;
}

export interface NewOwner {
  username: string;
  email: string;
  password: string;
  displayName?: string;
}

/** Why the new owner's details are unacceptable, or null. */
export function newOwnerProblem(input: NewOwner): string | null {
  if (input.username.length === 0) return "the username is empty";
  if (input.username.length > MAX_USERNAME_LENGTH) return `the username must have at most ${MAX_USERNAME_LENGTH} characters`;
  if (!USERNAME_PATTERN.test(input.username)) {
    return "the username may contain only letters, digits and underscores (dots and dashes inside)";
  }
  if (!EMAIL_PATTERN.test(input.email)) return `${JSON.stringify(input.email)} is not an email address`;
  if ((input.displayName ?? "").length > 30) return "the display name must have at most 30 characters";
  return passwordProblem(input.password);
}

/**
 * Creates the one owner account with its login and its RSA-2048 and Ed25519
 * key pairs. Refuses when an owner exists already.
 */
export async function createOwner(ctx: CoreContext, input: NewOwner): Promise<Owner> {
  const problem = newOwnerProblem(input);
  if (problem != null) throw new CoreError("invalid", problem);
  const existing = await getOwner(ctx);
  if (existing != null) {
    throw new CoreError(
      "conflict",
      `an owner account exists already (@${existing.account.username}); Islet has exactly one. ` +
        "Use `islet account password` to change its password",
    );
  }
  const passwordHash = await hashPassword(input.password);
  const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const ed25519 = await generateCryptoKeyPair("Ed25519");
  const accountId = newId();
  const username = input.username;
  try {
    await ctx.db.transaction(async (tx) => {
      await tx.insert(accounts).values({
        id: accountId,
        username,
        domain: null,
        displayName: input.displayName ?? "",
        ...localActorUris(ctx.config.origin, username),
        discoverable: true,
        indexable: true,
        publishedAt: new Date(),
      });
      await tx.insert(users).values({ id: newId(), accountId, email: input.email, passwordHash });
      await tx.insert(accountKeys).values([
        { accountId, algorithm: "RSASSA-PKCS1-v1_5", privateKey: await exportJwk(rsa.privateKey), publicKey: await exportJwk(rsa.publicKey) },
        { accountId, algorithm: "Ed25519", privateKey: await exportJwk(ed25519.privateKey), publicKey: await exportJwk(ed25519.publicKey) },
      ]);
    });
  } catch (error) {
    // Two set-ups racing: the database's one-owner index decides.
    if (await getOwner(ctx) != null) {
      throw new CoreError("conflict", "an owner account exists already; Islet has exactly one");
    }
    throw error;
  }
  return await requireOwner(ctx);
}

/** Sets a new password for the owner. */
export async function setOwnerPassword(ctx: CoreContext, password: string): Promise<void> {
  const problem = passwordProblem(password);
  if (problem != null) throw new CoreError("invalid", problem);
  const owner = await requireOwner(ctx);
  const passwordHash = await hashPassword(password);
  await ctx.db.update(users).set({ passwordHash, resetPasswordTokenHash: null, resetPasswordSentAt: null, updatedAt: new Date() }).where(eq(users.id, owner.user.id));
}

/**
 * Keeps the owner's stored IRIs in step with the configured origin (a
 * development instance at localhost that later gets its LOCAL_DOMAIN).
 */
export async function syncOwnerUris(ctx: CoreContext): Promise<void> {
  const owner = await getOwner(ctx);
  if (owner == null) return;
  const expected = localActorUris(ctx.config.origin, owner.account.username);
  if (owner.account.uri === expected.uri) return;
  ctx.log.warn(`the owner's actor IRI changes from ${owner.account.uri} to ${expected.uri}: servers that knew the old one will not recognise it`);
  await ctx.db.update(accounts).set({ ...expected, updatedAt: new Date() }).where(eq(accounts.id, owner.account.id));
}

export interface KeyPairs {
  rsa: CryptoKeyPair;
  ed25519: CryptoKeyPair;
}

const keyCache = new WeakMap<CoreContext, Map<bigint, Promise<KeyPairs>>>();

/** The key pairs of a local account, imported once and cached. */
export function getKeyPairs(ctx: CoreContext, accountId: bigint): Promise<KeyPairs> {
  let cache = keyCache.get(ctx);
  if (cache == null) {
    cache = new Map();
    keyCache.set(ctx, cache);
  }
  let pairs = cache.get(accountId);
  if (pairs == null) {
    pairs = (async () => {
      const rows = await ctx.db.select().from(accountKeys).where(eq(accountKeys.accountId, accountId));
      const pair = async (algorithm: string): Promise<CryptoKeyPair> => {
        const row = rows.find((r) => r.algorithm === algorithm);
        if (row == null) throw new CoreError("not_found", `account ${accountId} has no ${algorithm} key`);
        return { privateKey: await importJwk(row.privateKey, "private"), publicKey: await importJwk(row.publicKey, "public") };
      };
      return { rsa: await pair("RSASSA-PKCS1-v1_5"), ed25519: await pair("Ed25519") };
    })();
    pairs.catch(() => cache.delete(accountId));
    cache.set(accountId, pairs);
  }
  return pairs;
}

export async function findAccountByUri(ctx: CoreContext, uri: string): Promise<Account | null> {
  const rows = await ctx.db.select().from(accounts).where(eq(accounts.uri, uri)).limit(1);
  return rows[0] ?? null;
}

export async function findAccountById(ctx: CoreContext, id: bigint): Promise<Account | null> {
  const rows = await ctx.db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
  return rows[0] ?? null;
}

/** The accounts with these ids, by id (unknown ids are absent). */
export async function accountsByIds(ctx: CoreContext, ids: Iterable<bigint>): Promise<Map<bigint, Account>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await ctx.db.select().from(accounts).where(inArray(accounts.id, unique));
  return new Map(rows.map((row) => [row.id, row]));
}

/** The local account with this username (case-insensitive), if any. */
export async function findLocalAccount(ctx: CoreContext, username: string): Promise<Account | null> {
  const rows = await ctx.db
    .select()
    .from(accounts)
    .where(and(isNull(accounts.domain), sql`lower(${accounts.username}) = lower(${username})`))
    .limit(1);
  return rows[0] ?? null;
}

/** What federation learned of a remote actor, ready to store. */
export interface RemoteActor {
  uri: string;
  username: string;
  domain: string;
  url: string | null;
  actorType: string;
  /** Plain text, as Mastodon keeps it (clients escape it). */
  displayName: string;
  /** The bio, HTML as the remote server sent it: sanitised when stored. */
  note: string;
  avatarUrl: string | null;
  headerUrl: string | null;
  inboxUrl: string | null;
  sharedInboxUrl: string | null;
  outboxUrl: string | null;
  followersUrl: string | null;
  followingUrl: string | null;
  featuredUrl: string | null;
  locked: boolean;
  bot: boolean;
  discoverable: boolean;
  indexable: boolean;
  /** Names are plain text; values are HTML, sanitised when stored. */
  fields: { name: string; value: string }[];
  alsoKnownAs: string[];
  followersCount: number;
  followingCount: number;
  statusesCount: number;
  publishedAt: Date | null;
  /**
   * The actor's `movedTo`, if it names one. Only an account already stored
   * is linked; an actor without it leaves a known move as it is (a cached
   * copy of the document may predate the move).
   */
  movedToUri?: string | null;
}

/**
 * What is stored of a remote actor's text: the bio and field values
 * through the one sanitiser, the profile link only when it is a web
 * address. Display names and field names stay plain text.
 */
function cleanedActor(input: RemoteActor): RemoteActor {
  return {
    ...input,
    url: remoteWebUrl(input.url),
    note: sanitizeRemoteHtml(input.note),
    fields: input.fields.map((field) => ({ name: field.name, value: sanitizeRemoteHtml(field.value) })),
  };
}

/** Stores or refreshes a remote account; returns the row. */
export async function upsertRemoteAccount(ctx: CoreContext, input: RemoteActor): Promise<Account> {
  const now = new Date();
  const { movedToUri, ...actor } = cleanedActor(input);
  const moved: { movedToAccountId?: bigint } = {};
  if (movedToUri != null) {
    const target = await findAccountByUri(ctx, movedToUri);
    if (target != null && target.uri !== actor.uri) moved.movedToAccountId = target.id;
  }
  const values = { ...actor, ...moved, fetchedAt: now, updatedAt: now };
  const rows = await ctx.db
    .insert(accounts)
    .values({ id: newId(actor.publishedAt ?? now), ...values })
    .onConflictDoUpdate({ target: accounts.uri, set: values })
    .returning();
  await ctx.events.emit("account.stored", { accountId: rows[0].id });
  return rows[0];
}

/**
 * Deletes remote accounts with everything of theirs (posts, follows,
 * notifications, media files); the owner is never among them. Returns how
 * many were deleted.
 */
export async function deleteRemoteAccounts(ctx: CoreContext, ids: readonly bigint[]): Promise<number> {
  let deleted = 0;
  // In slices, so that neither a transaction nor an IN list grows huge.
  for (let i = 0; i < ids.length; i += 500) {
    const slice = ids.slice(i, i + 500);
    const files = await ctx.db
      .select({ fileKey: mediaAttachments.fileKey, previewKey: mediaAttachments.previewKey })
      .from(mediaAttachments)
      .where(inArray(mediaAttachments.accountId, slice));
    // Their avatars and headers in the media cache go too.
    const pictures = await ctx.db
      .select({ a: accounts.avatarFileKey, b: accounts.avatarStaticKey, c: accounts.headerFileKey, d: accounts.headerStaticKey })
      .from(accounts)
      .where(and(inArray(accounts.id, slice), isNotNull(accounts.domain)));
    for (const p of pictures) files.push({ fileKey: p.a, previewKey: p.b }, { fileKey: p.c, previewKey: p.d });
    const rows = await ctx.db
      .delete(accounts)
      .where(and(inArray(accounts.id, slice), isNotNull(accounts.domain)))
      .returning({ id: accounts.id });
    deleted += rows.length;
    await deleteMediaFiles(ctx.config, files.flatMap((f) => [f.fileKey, f.previewKey]));
  }
  return deleted;
}
