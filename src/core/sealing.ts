/**
 * Secrets kept in the database sealed with AES-256-GCM, under a key derived
 * from SECRET_KEY_BASE for one purpose: a copy of the database alone does
 * not reveal them, and a secret sealed for one purpose does not open under
 * another. The sealed text is `iv.ciphertext.tag`, each base64url.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

function sealingKey(secretKeyBase: string, purpose: string): Buffer {
  return createHmac("sha256", secretKeyBase).update(`islet: ${purpose}`).digest();
}

/** Seals `text` for `purpose`, with a fresh nonce each time. */
export function seal(secretKeyBase: string, purpose: string, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(secretKeyBase, purpose), iv);
  const data = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
  return [iv, data, cipher.getAuthTag()].map((part) => part.toString("base64url")).join(".");
}

/** The text, or null when it was sealed under another key or purpose, or damaged. */
export function unseal(secretKeyBase: string, purpose: string, sealed: string): string | null {
  const parts = sealed.split(".");
  if (parts.length !== 3) return null;
  const [iv, data, tag] = parts.map((part) => Buffer.from(part, "base64url"));
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealingKey(secretKeyBase, purpose), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}
