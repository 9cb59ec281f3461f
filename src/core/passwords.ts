/**
 * Password hashing with Argon2id (RFC 9106), the memory-hard KDF built into
 * Node 24. Hashes are PHC strings, so the parameters travel with the hash
 * and can be raised later without breaking old ones.
 */
import { argon2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const argon2Async = promisify(argon2);

/** OWASP's first recommended Argon2id setting: 19 MiB, 2 passes, 1 lane. */
const DEFAULTS = { memory: 19456, passes: 2, parallelism: 1, tagLength: 32 };

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** Why a password is unacceptable, or null when it is fine. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const nonce = randomBytes(16);
  const tag = await argon2Async("argon2id", { message: password, nonce, ...DEFAULTS });
  return `$argon2id$v=19$m=${DEFAULTS.memory},t=${DEFAULTS.passes},p=${DEFAULTS.parallelism}$` +
    `${nonce.toString("base64url")}$${tag.toString("base64url")}`;
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(hash);
  if (match == null) return false;
  const expected = Buffer.from(match[5], "base64url");
  const tag = await argon2Async("argon2id", {
    message: password,
    nonce: Buffer.from(match[4], "base64url"),
    memory: Number(match[1]),
    passes: Number(match[2]),
    parallelism: Number(match[3]),
    tagLength: expected.length,
  });
  return tag.length === expected.length && timingSafeEqual(tag, expected);
}
