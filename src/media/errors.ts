/** Why an upload was refused. */
import { CoreError } from "../core/context.ts";

/**
 * An upload that cannot be taken (wrong kind of file, too large, too many
 * pixels, undecodable). It is a CoreError of code "invalid", so the API
 * answers 422 `{"error": "Validation failed: <message>"}` as Mastodon does.
 */
export class MediaError extends CoreError {
  constructor(message: string) {
    super("invalid", message);
    this.name = "MediaError";
  }
}

/** Mastodon's wording for a file that is not a kind of media it takes. */
export const INVALID_CONTENT_TYPE = "File content type is invalid";

/** Mastodon's wording for a file over the size limit, such as "less than 16 MB". */
export function tooLargeMessage(limitBytes: number): string {
  return `File file size must be less than ${Math.round(limitBytes / (1024 * 1024))} MB`;
}

/**
 * The media store (the disk under DATA_DIR/media or the S3 bucket) refused
 * or failed an operation: not the client's fault. The API answers 503 with
 * the message, which names the store, the key and the reason.
 */
export class MediaStorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MediaStorageError";
  }
}
