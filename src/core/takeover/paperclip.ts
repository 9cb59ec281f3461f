/**
 * Where a Mastodon keeps an uploaded file below `public/system`: Paperclip's
 * `:class/:attachment/:id_partition/:style/:filename`. The id partition is
 * the id, zero-padded to at least nine digits, cut into groups of three
 * (a trailing group of fewer digits is dropped, as Paperclip does).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

/** `000/000/001` for 1; `109/876/543/210/987/654` for a snowflake id. */
export function idPartition(id: bigint | string): string {
  const digits = id.toString().padStart(9, "0");
  return (digits.match(/\d{3}/g) ?? []).join("/");
}

/** The path of a file below the media root, e.g. `media_attachments/files/…/original/NAME`. */
export function paperclipPath(kind: string, attachment: string, id: bigint | string, style: string, fileName: string): string {
  return `${kind}/${attachment}/${idPartition(id)}/${style}/${fileName}`;
}

/**
 * The folder holding `media_attachments/` and `accounts/`: the given
 * `public/system` itself, or its `system` folder when given `public`.
 */
export function systemRoot(dir: string): string {
  if (!existsSync(join(dir, "media_attachments")) && !existsSync(join(dir, "accounts")) && existsSync(join(dir, "system"))) {
    return join(dir, "system");
  }
  return dir;
}
