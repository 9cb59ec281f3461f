/** Media rows as Mastodon's MediaAttachment entity. */
import type { mediaAttachments } from "../../db/schema.ts";

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

/** The public URL of a file stored under the media root. */
export function mediaUrl(origin: string, key: string): string {
  return `${origin}/system/${key}`;
}

export function serializeMediaAttachment(origin: string, row: MediaAttachmentRow): MastodonMediaAttachment {
  const url = row.fileKey == null ? row.remoteUrl : mediaUrl(origin, row.fileKey);
  const preview = row.previewKey == null ? (row.type === "image" ? url : null) : mediaUrl(origin, row.previewKey);
  const meta: Record<string, unknown> = { ...row.meta };
  if (row.focusX != null && row.focusY != null) meta.focus = { x: row.focusX, y: row.focusY };
  return {
    id: row.id.toString(),
    type: row.type,
    url,
    preview_url: preview,
    remote_url: row.fileKey == null ? row.remoteUrl : (row.remoteUrl ?? null),
    preview_remote_url: null,
    text_url: null,
    meta: Object.keys(meta).length === 0 ? null : meta,
    description: row.description,
    blurhash: row.blurhash,
  };
}
