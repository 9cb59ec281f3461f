/**
 * Where clients are sent for accounts' avatars and headers. The owner's
 * pictures are stored here. A remote account's are shown from the media
 * cache (src/media/profile-cache.ts) once downloaded, and until then (or
 * after pruning) through `/media_proxy/avatars|headers/<account id>/...`
 * (src/media/proxy.ts), which downloads on first view: a client is never
 * given another server's URL, so viewing a profile does not tell that
 * server the owner's address. Without a picture, the placeholder.
 */
import { accounts } from "../db/schema.ts";
import { mediaUrl } from "./storage/index.ts";

type AccountRow = typeof accounts.$inferSelect;

export type ProfileImageKind = "avatar" | "header";
/** The picture as stored, or a still of an animated one. */
export type ProfileImageStyle = "original" | "static";

export const PROFILE_IMAGE_KINDS: readonly ProfileImageKind[] = ["avatar", "header"];

/** The columns of an account row that say where its pictures are. */
export type ProfileImageFields = Pick<
  AccountRow,
  | "id"
  | "domain"
  | "avatarUrl"
  | "avatarFileKey"
  | "avatarStaticKey"
  | "avatarFileSource"
  | "headerUrl"
  | "headerFileKey"
  | "headerStaticKey"
  | "headerFileSource"
>;

/** One picture of an account: its URL (remote, for a remote account) and its copy in the cache. */
export interface ProfileImage {
  url: string | null;
  fileKey: string | null;
  staticKey: string | null;
  /** The URL the cached copy was downloaded from. */
  source: string | null;
}

export function profileImageOf(account: Omit<ProfileImageFields, "id" | "domain">, kind: ProfileImageKind): ProfileImage {
  return kind === "avatar"
    ? { url: account.avatarUrl, fileKey: account.avatarFileKey, staticKey: account.avatarStaticKey, source: account.avatarFileSource }
    : { url: account.headerUrl, fileKey: account.headerFileKey, staticKey: account.headerStaticKey, source: account.headerFileSource };
}

/** Whether the cached copy is of the picture the account has now. */
export function isCurrent(image: ProfileImage): image is ProfileImage & { url: string; fileKey: string } {
  return image.url != null && image.fileKey != null && image.source === image.url;
}

/** The table's columns for one kind of picture, for queries and updates. */
export function profileImageColumns(kind: ProfileImageKind) {
  return kind === "avatar"
    ? { url: accounts.avatarUrl, fileKey: accounts.avatarFileKey, staticKey: accounts.avatarStaticKey, source: accounts.avatarFileSource, cachedAt: accounts.avatarCachedAt }
    : { url: accounts.headerUrl, fileKey: accounts.headerFileKey, staticKey: accounts.headerStaticKey, source: accounts.headerFileSource, cachedAt: accounts.headerCachedAt };
}

/** The values that set (or, with nulls, clear) one kind of picture's cached copy. */
export function cachedProfileImageValues(
  kind: ProfileImageKind,
  copy: { fileKey: string; staticKey: string | null; source: string; cachedAt: Date } | null,
): Partial<typeof accounts.$inferInsert> {
  const values = { fileKey: copy?.fileKey ?? null, staticKey: copy?.staticKey ?? null, source: copy?.source ?? null, cachedAt: copy?.cachedAt ?? null };
  return kind === "avatar"
    ? { avatarFileKey: values.fileKey, avatarStaticKey: values.staticKey, avatarFileSource: values.source, avatarCachedAt: values.cachedAt }
    : { headerFileKey: values.fileKey, headerStaticKey: values.staticKey, headerFileSource: values.source, headerCachedAt: values.cachedAt };
}

/** The picture shown for an account without one. */
export function placeholderUrl(origin: string, kind: ProfileImageKind): string {
  return `${origin}/${kind}s/original/missing.png`;
}

/** Where a remote account's picture not in the cache is asked for. */
export function profileImageProxyUrl(origin: string, accountId: bigint, kind: ProfileImageKind, style: ProfileImageStyle): string {
  return `${origin}/media_proxy/${kind}s/${accountId}/${style}`;
}

/**
 * The URL a client gets for an account's picture. For the owner, the stored
 * picture (its still, when there is one, is the caller's to know); for a
 * remote account, the cached copy when current, else the media proxy.
 */
export function profileImageUrl(origin: string, account: ProfileImageFields, kind: ProfileImageKind, style: ProfileImageStyle): string {
  const image = profileImageOf(account, kind);
  if (image.url == null) return placeholderUrl(origin, kind);
  if (account.domain == null) return image.url;
  if (isCurrent(image)) return mediaUrl(origin, style === "static" ? image.staticKey ?? image.fileKey! : image.fileKey!);
  return profileImageProxyUrl(origin, account.id, kind, style);
}
