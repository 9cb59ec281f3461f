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
 */
import { eq } from "drizzle-orm";
import type { CoreContext } from "../core/context.ts";
import { accounts, mediaAttachments } from "../db/schema.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { cacheRemoteMedia, RemoteMediaRetryError, type CacheOutcome } from "./remote-cache.ts";

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
    const key = id.toString();
    const gaveUpAt = this.#givenUp.get(key);
    if (row.type === "unknown" || (gaveUpAt != null && Date.now() - gaveUpAt < GIVE_UP_MS)) {
      return { kind: "redirect", location: row.remoteUrl };
    }
    const outcome = await this.#download(key);
    const after = await this.#find(id);
    if (after?.fileKey != null) return { kind: "redirect", location: this.#cached(after.fileKey, after.previewKey, style) };
    if (outcome === "retry") return { kind: "unavailable" };
    this.#giveUp(key);
    return after?.remoteUrl == null ? { kind: "not_found" } : { kind: "redirect", location: after.remoteUrl };
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
    return `${this.#ctx.config.origin}/system/${style === "small" && previewKey != null ? previewKey : fileKey}`;
  }

  /** One download per attachment at a time, however many viewers ask. */
  #download(key: string): Promise<CacheOutcome | "retry"> {
    let running = this.#downloads.get(key);
    if (running == null) {
      running = cacheRemoteMedia(this.#ctx, { mediaId: key }, { timeoutMs: PROXY_TIMEOUT_MS })
        .catch((error: unknown) => {
          if (error instanceof RemoteMediaRetryError) return "retry" as const;
          throw error;
        })
        .finally(() => this.#downloads.delete(key));
      this.#downloads.set(key, running);
    }
    return running;
  }

  #giveUp(key: string): void {
    if (this.#givenUp.size >= GIVE_UP_LIMIT) {
      const oldest = this.#givenUp.keys().next().value;
      if (oldest != null) this.#givenUp.delete(oldest);
    }
    this.#givenUp.set(key, Date.now());
  }
}
