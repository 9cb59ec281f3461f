/** Media rows as Mastodon's MediaAttachment entity. */
import type { mediaAttachments } from "../../db/schema.ts";
import { mediaUrl as storedMediaUrl } from "../../media/storage/index.ts";

export type MediaAttachmentRow = typeof mediaAttachments.$inferSelect;

export interface MastodonMediaAttachment {
  id: string;
  type: "image" | "gifv" | "video" | "audio" | "unknown";
  url: string | null;
  preview_url: string | null;
  remote_url: string | null;
  preview_remote_url: string | null;
  text_url: string | null;
  meta: Record<string, unknown> | null;
  description: string | null;
  blurhash: string | null;
}

/** The public URL of a stored file: `/system/<key>`, or in the S3 bucket (at S3_ALIAS_HOST when set). */
export function mediaUrl(origin: string, key: string): string {
  return storedMediaUrl(origin, key);
}

/** Where a remote file not in the cache is asked for (src/media/proxy.ts). */
export function mediaProxyUrl(origin: string, id: bigint, style: "original" | "small"): string {
  return `${origin}/media_proxy/${id}/${style}`;
}

/**
 * A media row as Mastodon shows it. A file stored here (an upload, or a
 * remote post's file in the media cache) is served from `/system/<key>`,
 * and `remote_url` names the origin's copy of a remote one; a remote file
 * not cached here (not yet, or pruned) is shown at `/media_proxy/`, which
 * fetches it when first asked for (src/media/proxy.ts).
 * `meta.focus` comes from the focus columns (never from stored meta).
 */
export function serializeMediaAttachment(origin: string, row: MediaAttachmentRow): MastodonMediaAttachment {
  // A remote file not cached here goes through the media proxy, which
  // fetches it on first view; one of no kind this server handles is a link.
  const proxied = row.fileKey == null && row.remoteUrl != null && row.type !== "unknown";
  const url = row.fileKey != null
    ? mediaUrl(origin, row.fileKey)
    : proxied ? mediaProxyUrl(origin, row.id, "original") : row.remoteUrl;
  // Without a preview of its own, a picture is its own preview; a video or
  // sound has none (clients then show their own placeholder).
  const preview = row.previewKey != null
    ? mediaUrl(origin, row.previewKey)
    : proxied && (row.type === "image" || row.type === "gifv")
      ? mediaProxyUrl(origin, row.id, "small")
      : row.type === "image" || row.type === "gifv" ? url : null;
  const { focus: _storedFocus, processing: _processing, ...stored } = row.meta ?? {};
  const meta: Record<string, unknown> = { ...stored };
  if (row.focusX != null && row.focusY != null) meta.focus = { x: row.focusX, y: row.focusY };
  return {
    id: row.id.toString(),
    type: row.type,
    url,
    preview_url: preview,
    remote_url: row.remoteUrl ?? null,
    preview_remote_url: null,
    text_url: null,
    meta: Object.keys(meta).length === 0 ? null : meta,
    description: row.description ?? null,
    blurhash: row.blurhash ?? null,
  };
}
