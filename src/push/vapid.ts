/**
 * VAPID (RFC 8292): how push services know the messages come from the
 * server the client subscribed with. The key pair is part of the
 * configuration (VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY, or a pair made
 * once under DATA_DIR); clients get the public key from the instance and
 * app answers and hand it to the browser as `applicationServerKey`.
 */
import type { Config, VapidKeys } from "../config.ts";

/** The server's VAPID key pair. */
export function vapidKeys(config: Pick<Config, "vapid">): VapidKeys {
  return config.vapid;
}

/** The public key as clients want it: the uncompressed P-256 point, base64url. */
export function vapidPublicKey(config: Pick<Config, "vapid">): string {
  return config.vapid.publicKey;
}

/**
 * The contact a push service may write to about our messages: the owner's
 * address, else the site when it is served over https, else the sender
 * address of outgoing mail.
 */
export function vapidSubject(config: Pick<Config, "origin" | "smtp">, ownerEmail: string | null): string {
  if (ownerEmail != null && /^[^\s@<>]+@[^\s@<>]+$/.test(ownerEmail)) return `mailto:${ownerEmail}`;
  if (config.origin.startsWith("https://")) return config.origin;
  const from = /<([^<>]+)>\s*$/.exec(config.smtp.fromAddress)?.[1] ?? config.smtp.fromAddress;
  return `mailto:${from.trim()}`;
}
