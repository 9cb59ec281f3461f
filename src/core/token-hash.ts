/** How bearer tokens and one-time codes are stored: their SHA-256, never the secret itself. */
import { createHash } from "node:crypto";

/** The hex SHA-256 of a token, as kept in the database. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
