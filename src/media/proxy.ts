/**
 * `/media_proxy/<id>/<style>`: where the API points for a remote post's
 * file that is not in the media cache (not yet downloaded, or pruned), as
 * Mastodon does. The first request downloads it through the same steps as
 * the queue (src/media/remote-cache.ts) and every request is then sent to
 * the cached copy under `/system/`, so clients never load media from other
 * servers themselves.
 *
 * A file the cache will not keep (too large, of an unknown kind, refused
 * by its server) is sent to its origin instead, and not tried again for an
 * hour; a file from a suspended domain, or an id that is not a remote
 * attachment, is a 404.
 *
 * `/media_proxy/avatars|headers/<account id>/original|static` does the
 * same for a remote account's avatar and header (src/media/profile-cache.ts),
 * except that a picture the cache will not keep is replaced by the
 * placeholder: a client is never sent to another server for one.
 */
import { eq } from "drizzle-orm";
import type { CoreContext } from "../core/context.ts";
import { accounts, mediaAttachments } from "../db/schema.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { cacheProfileImage } from "./profile-cache.ts";
import { isCurrent, placeholderUrl, profileImageOf, type ProfileImageKind, type ProfileImageStyle } from "./profile-images.ts";
import { cacheRemoteMedia, RemoteMediaRetryError, type CacheOutcome } from "./remote-cache.ts";
import { mediaUrl } from "./storage/index.ts";

export type ProxyStyle = "original" | "small";

export type ProxyAnswer =
  | { kind: "redirect"; location: string }
  | { kind: "not_found" }
  | { kind: "unavailable" };

/** How long a file the cache would not keep is sent to its origin without another try. */
const GIVE_UP_MS = 60 * 60 * 1000;
/** The most attachments remembered as given up. */
const GIVE_UP_LIMIT = 10_000;
/** The longest a viewer waits for the download. */
const PROXY_TIMEOUT_MS = 30_000;

export class MediaProxy {
  readonly #ctx: CoreContext;
  readonly #downloads = new Map<string, Promise<CacheOutcome | "retry">>();
  readonly #givenUp = new Map<string, number>();

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  /** Where a request for attachment `id` in `style` goes. */
  async answer(id: bigint, style: ProxyStyle): Promise<ProxyAnswer> {
    const row = await this.#find(id);
    if (row == null || row.domain == null || row.remoteUrl == null) return { kind: "not_found" };
    if (row.fileKey != null) return { kind: "redirect", location: this.#cached(row.fileKey, row.previewKey, style) };
    if (await isUrlSuspended(this.#ctx, row.remoteUrl)) return { kind: "not_found" };
    const key = `media:${id}`;
    if (row.type === "unknown" || this.#gaveUp(key)) {
      return { kind: "redirect", location: row.remoteUrl };
    }
    const outcome = await this.#download(key, () => cacheRemoteMedia(this.#ctx, { mediaId: id.toString() }, { timeoutMs: PROXY_TIMEOUT_MS }));
    const after = await this.#find(id);
    if (after?.fileKey != null) return { kind: "redirect", location: this.#cached(after.fileKey, after.previewKey, style) };
    if (outcome === "retry") return { kind: "unavailable" };
    this.#giveUp(key);
    return after?.remoteUrl == null ? { kind: "not_found" } : { kind: "redirect", location: after.remoteUrl };
  }

  /** Where a request for remote account `accountId`'s avatar or header goes. */
  async answerProfileImage(accountId: bigint, kind: ProfileImageKind, style: ProfileImageStyle): Promise<ProxyAnswer> {
    const origin = this.#ctx.config.origin;
    const find = async () => {
      const [row] = await this.#ctx.db.select().from(accounts).where(eq(accounts.id, accountId)).limit(1);
      return row == null || row.domain == null ? null : profileImageOf(row, kind);
    };
    const located = (image: ReturnType<typeof profileImageOf>): ProxyAnswer | null =>
      isCurrent(image) ? { kind: "redirect", location: mediaUrl(origin, style === "static" ? image.staticKey ?? image.fileKey! : image.fileKey!) } : null;
    const image = await find();
    if (image == null) return { kind: "not_found" };
    if (image.url == null) return { kind: "redirect", location: placeholderUrl(origin, kind) };
    const cached = located(image);
    if (cached != null) return cached;
    if (await isUrlSuspended(this.#ctx, image.url)) return { kind: "not_found" };
    const key = `${kind}:${accountId}`;
    if (this.#gaveUp(key)) return { kind: "redirect", location: placeholderUrl(origin, kind) };
    const outcome = await this.#download(key, () => cacheProfileImage(this.#ctx, { accountId: accountId.toString(), image: kind }, { timeoutMs: PROXY_TIMEOUT_MS }));
    const after = await find();
    if (after == null) return { kind: "not_found" };
    const now = located(after);
    if (now != null) return now;
    if (outcome === "retry") return { kind: "unavailable" };
    this.#giveUp(key);
    return { kind: "redirect", location: placeholderUrl(origin, kind) };
  }

  async #find(id: bigint) {
    const [row] = await this.#ctx.db
      .select({
        remoteUrl: mediaAttachments.remoteUrl,
        fileKey: mediaAttachments.fileKey,
        previewKey: mediaAttachments.previewKey,
        type: mediaAttachments.type,
        domain: accounts.domain,
      })
      .from(mediaAttachments)
      .innerJoin(accounts, eq(accounts.id, mediaAttachments.accountId))
      .where(eq(mediaAttachments.id, id))
      .limit(1);
    return row;
  }

  #cached(fileKey: string, previewKey: string | null, style: ProxyStyle): string {
    return mediaUrl(this.#ctx.config.origin, style === "small" && previewKey != null ? previewKey : fileKey);
  }

  /** One download per file at a time, however many viewers ask. */
  #download(key: string, start: () => Promise<CacheOutcome>): Promise<CacheOutcome | "retry"> {
    let running = this.#downloads.get(key);
    if (running == null) {
      running = start()
        .catch((error: unknown) => {
          if (error instanceof RemoteMediaRetryError) return "retry" as const;
          throw error;
        })
        .finally(() => this.#downloads.delete(key));
      this.#downloads.set(key, running);
    }
    return running;
  }

  /** Whether the cache would not keep this file when last tried, within the hour. */
  #gaveUp(key: string): boolean {
    const at = this.#givenUp.get(key);
    return at != null && Date.now() - at < GIVE_UP_MS;
  }

  #giveUp(key: string): void {
    if (this.#givenUp.size >= GIVE_UP_LIMIT) {
      const oldest = this.#givenUp.keys().next().value;
      if (oldest != null) this.#givenUp.delete(oldest);
    }
    this.#givenUp.set(key, Date.now());
  }
}
