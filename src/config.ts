/**
 * One typed configuration, read once from the environment.
 *
 * Names follow Mastodon's where the meaning is the same, so a Mastodon admin's
 * environment mostly carries over. Every secret `NAME` may also be given as
 * `NAME_FILE` (a path) or as the file `$CREDENTIALS_DIRECTORY/NAME` (systemd
 * credentials). A bad value stops start-up with a {@link ConfigError} naming
 * the variable and what is wrong with it.
 */
import { createECDH, randomBytes, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { isAbsolute, join, resolve } from "node:path";

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface Config {
  /** The domain in the owner's handle (`@user@LOCAL_DOMAIN`). */
  readonly localDomain: string;
  /** The host that serves pages, API and ActivityPub documents. */
  readonly webDomain: string;
  /** `https://WEB_DOMAIN`, or `http://localhost:PORT` for a local instance. */
  readonly origin: string;
  /** True when no LOCAL_DOMAIN is set: a development instance over plain http. */
  readonly development: boolean;
  readonly port: number;
  readonly bind: string;
  /**
   * SOCKET (Mastodon's name): a Unix socket to serve on instead of
   * BIND:PORT, for a proxy on the same machine; null listens on TCP.
   */
  readonly socket: string | null;
  /**
   * ISLET_ADMIN_COMMAND: how the admin runs Islet's commands where this
   * server runs, for hints such as "create the owner with …" (`islet-admin`
   * under systemd, `islet` on NixOS, `docker compose exec islet islet` with
   * compose); `npx islet`, which works in a clone, when unset.
   */
  readonly adminCommand: string;
  /** A separate port that also serves the streaming API, if any. */
  readonly streamingPort: number | null;
  readonly streamingApiBaseUrl: string | null;
  readonly dataDir: string;
  /** PostgreSQL connection string; null means the embedded PGlite database. */
  readonly databaseUrl: string | null;
  readonly secretKeyBase: string;
  readonly trustedProxyIps: readonly string[];
  readonly authorizedFetch: boolean;
  readonly allowPrivateAddress: boolean;
  readonly mediaCacheRetentionDays: number;
  readonly logLevel: LogLevel;
  /** How long a claimed queue message stays invisible to other consumers. */
  readonly queueVisibilityTimeoutSeconds: number;
  /** Outgoing mail; `smtp.server` is null when mail is disabled. */
  readonly smtp: SmtpConfig;
  /** The VAPID key pair that signs Web Push requests. */
  readonly vapid: VapidKeys;
  /** FFMPEG_BINARY and FFPROBE_BINARY (Mastodon's names): the commands run for video and audio; absent means `ffmpeg` and `ffprobe` on PATH. */
  readonly ffmpeg?: { readonly ffmpeg: string; readonly ffprobe: string };
  /** Object storage for media (S3_ENABLED=true); null or absent keeps media under DATA_DIR/media. */
  readonly s3?: S3Config | null;
  /** Which variable each secret came from, for `islet config`. */
  readonly sources: Readonly<Record<string, string>>;
  /**
   * Mastodon variables set in the environment that Islet does not use, in
   * alphabetical order; see {@link ignoredMastodonVariables}.
   */
  readonly ignoredMastodonVariables: readonly string[];
}

export type SmtpStarttls = "auto" | "always" | "never";
export type SmtpAuthMethod = "plain" | "login" | "cram_md5" | "none";

/** The SMTP settings, with Mastodon's variable names. */
export interface SmtpConfig {
  /** SMTP_SERVER: the relay's host name or address; null disables mail. */
  readonly server: string | null;
  /** SMTP_PORT: 587 by default, 465 with SMTP_TLS. */
  readonly port: number;
  readonly login: string | null;
  readonly password: string | null;
  /** SMTP_FROM_ADDRESS: an address, or `Name <address>`. */
  readonly fromAddress: string;
  /** SMTP_TLS: TLS from the first byte (as on port 465). */
  readonly tls: boolean;
  /** SMTP_ENABLE_STARTTLS: upgrade when offered (auto), insist, or never try. */
  readonly enableStarttls: SmtpStarttls;
  /** SMTP_AUTH_METHOD; no login is attempted without SMTP_LOGIN or with none. */
  readonly authMethod: SmtpAuthMethod;
  /** SMTP_CA_FILE: the path, and its PEM text (trusted besides the usual roots). */
  readonly caFile: string | null;
  readonly caCertificates: string | null;
  /** SMTP_OPENSSL_VERIFY_MODE: `none` accepts any certificate. */
  readonly verifyPeer: boolean;
}

/** S3-compatible object storage for media, with Mastodon's variable names. */
export interface S3Config {
  /** S3_BUCKET. */
  readonly bucket: string;
  /** S3_ENDPOINT: the API's URL for a provider other than AWS (MinIO, R2, B2, Garage...); null for AWS. */
  readonly endpoint: string | null;
  /** S3_REGION (default us-east-1). */
  readonly region: string;
  /** S3_PROTOCOL of public URLs: https (default) or http. */
  readonly protocol: "http" | "https";
  /** S3_HOSTNAME: the host of public URLs (default: the endpoint's host, or s3.REGION.amazonaws.com). */
  readonly hostname: string;
  /** S3_ALIAS_HOST: a host (and optional path) that serves the bucket, e.g. a CDN; null for none. */
  readonly aliasHost: string | null;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** S3_FORCE_SINGLE_REQUEST: one PUT per file instead of multipart uploads (for providers without them). */
  readonly forceSingleRequest: boolean;
  /** Path-style addressing (HOST/BUCKET/KEY): the default with S3_ENDPOINT, unless S3_OVERRIDE_PATH_STYLE=true. */
  readonly pathStyle: boolean;
  /** S3_PERMISSION: the canned ACL objects are stored with (Mastodon's default public-read); null sends none. */
  readonly permission: string | null;
}

/**
 * The VAPID (RFC 8292) key pair, unpadded base64url as Mastodon's
 * VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY hold them: the P-256 private scalar
 * (32 bytes) and the uncompressed public point (65 bytes).
 */
export interface VapidKeys {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** Names of the variables whose values are never printed. */
export const SECRET_NAMES = ["SECRET_KEY_BASE", "DATABASE_URL", "SMTP_PASSWORD", "VAPID_PRIVATE_KEY", "AWS_SECRET_ACCESS_KEY"] as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads a value that may be a secret: `NAME`, then `NAME_FILE`, then
 * `$CREDENTIALS_DIRECTORY/NAME`. Returns the value and where it came from.
 */
export function readSecret(env: Env, name: string): { value: string; source: string } | null {
  const direct = env[name];
  if (direct != null && direct !== "") return { value: direct, source: name };
  const file = env[`${name}_FILE`];
  if (file != null && file !== "") {
    return { value: readSecretFile(`${name}_FILE`, file), source: `${name}_FILE` };
  }
  const credentials = env.CREDENTIALS_DIRECTORY;
  if (credentials != null && credentials !== "") {
    const path = join(credentials, name);
    if (existsSync(path)) {
      return { value: readSecretFile(name, path), source: `$CREDENTIALS_DIRECTORY/${name}` };
    }
  }
  return null;
}

function readSecretFile(variable: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code ?? error);
    throw new ConfigError(variable, `cannot read ${path} (${why})`);
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "") throw new ConfigError(variable, `${path} is empty`);
  return value;
}

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw == null || raw === "") return fallback;
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(raw)}`);
}

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw == null || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

const HOST_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;

function parseDomain(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw == null || raw.trim() === "") return null;
  const value = raw.trim().toLowerCase();
  if (/^[a-z]+:\/\//.test(value)) {
    throw new ConfigError(name, `expected a bare domain such as example.com, not a URL (${JSON.stringify(raw)})`);
  }
  if (!HOST_PATTERN.test(value)) {
    throw new ConfigError(name, `${JSON.stringify(raw)} is not a valid domain name`);
  }
  return value;
}

/** LOG_LEVEL, or Mastodon's RAILS_LOG_LEVEL when LOG_LEVEL is unset. */
function parseLogLevel(env: Env): LogLevel {
  const name = (env.LOG_LEVEL ?? "").trim() === "" && (env.RAILS_LOG_LEVEL ?? "").trim() !== "" ? "RAILS_LOG_LEVEL" : "LOG_LEVEL";
  const raw = (env[name] ?? "").trim().toLowerCase();
  if (raw === "") return "info";
  const aliases: Record<string, LogLevel> = {
    debug: "debug", trace: "debug", info: "info", warn: "warning", warning: "warning", error: "error", fatal: "error",
  };
  const level = aliases[raw];
  if (level == null) throw new ConfigError(name, `expected debug, info, warning or error, got ${JSON.stringify(env[name])}`);
  return level;
}

function parseDatabaseUrl(env: Env): { value: string; source: string } | null {
  const secret = readSecret(env, "DATABASE_URL") ?? mastodonDatabaseUrl(env);
  if (secret == null) return null;
  let url: URL;
  try {
    url = new URL(secret.value);
  } catch {
    throw new ConfigError(secret.source, "is not a URL; expected postgres://user:password@host:port/database");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(secret.source, `expected a postgres:// URL, got the scheme ${url.protocol}`);
  }
  if (url.pathname.length <= 1) {
    throw new ConfigError(secret.source, "names no database; expected postgres://user:password@host:port/database");
  }
  return secret;
}

/** A host name or an IP address, without a port. */
const SMTP_HOST_PATTERN = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;
const MAIL_ADDRESS_PATTERN = /^[^\s@<>(),;:"\[\]\\]+@[^\s@<>(),;:"\[\]\\]+$/;

function parseChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw == null || raw.trim() === "") return fallback;
  const value = raw.trim().toLowerCase().replace(/-/g, "_");
  const choice = choices.find((c) => c === value);
  if (choice == null) {
    throw new ConfigError(name, `expected ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}, got ${JSON.stringify(raw)}`);
  }
  return choice;
}

/** Checks `address` or `Display Name <address>`; returns it trimmed. */
function parseFromAddress(env: Env, fallback: string): string {
  const raw = env.SMTP_FROM_ADDRESS;
  if (raw == null || raw.trim() === "") return fallback;
  const value = raw.trim();
  const angled = /^(.*)<([^<>]*)>$/.exec(value);
  const address = angled == null ? value : angled[2].trim();
  if (/[\r\n]/.test(value) || !MAIL_ADDRESS_PATTERN.test(address) || (angled != null && /[<>]/.test(angled[1]))) {
    throw new ConfigError(
      "SMTP_FROM_ADDRESS",
      `expected an address such as notifications@example.com or "Islet <notifications@example.com>", got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function readCaFile(env: Env): { path: string; pem: string } | null {
  const raw = env.SMTP_CA_FILE;
  if (raw == null || raw.trim() === "") return null;
  const path = raw.trim();
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "a folder, not a file" : String(code ?? error);
    throw new ConfigError("SMTP_CA_FILE", `cannot read ${path} (${why})`);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError("SMTP_CA_FILE", `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new ConfigError("SMTP_CA_FILE", `${path} holds a certificate that cannot be read`);
    }
  }
  return { path, pem: blocks.join("\n") };
}

function parseSmtp(env: Env, localDomain: string | null): { smtp: SmtpConfig; passwordSource: string | null } {
  const serverRaw = (env.SMTP_SERVER ?? "").trim();
  let server: string | null = null;
  if (serverRaw !== "") {
    const bracketed = /^\[(.*)\]$/.exec(serverRaw)?.[1];
    if (bracketed != null && isIP(bracketed) === 6) server = bracketed;
    else if (isIP(serverRaw) !== 0 || SMTP_HOST_PATTERN.test(serverRaw)) server = serverRaw.toLowerCase();
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(serverRaw)) {
      throw new ConfigError("SMTP_SERVER", `expected a bare host name such as smtp.example.com, not a URL (${JSON.stringify(serverRaw)})`);
    } else if (/^[^:\s]+:\d+$/.test(serverRaw)) {
      throw new ConfigError("SMTP_SERVER", `expected a host name without a port (set SMTP_PORT for the port), got ${JSON.stringify(serverRaw)}`);
    } else {
      throw new ConfigError("SMTP_SERVER", `expected a host name or IP address such as smtp.example.com, got ${JSON.stringify(serverRaw)}`);
    }
  }
  // Mastodon's SMTP_SSL means what SMTP_TLS does; SMTP_TLS wins when both are set.
  const tls = parseBoolean(env, isSet(env, "SMTP_TLS") ? "SMTP_TLS" : "SMTP_SSL", false);
  const port = parseInteger(env, "SMTP_PORT", tls ? 465 : 587, 1, 65535);
  // Mastodon's older SMTP_ENABLE_STARTTLS_AUTO: true is auto, false never.
  const starttlsDefault: SmtpStarttls = isSet(env, "SMTP_ENABLE_STARTTLS") || !isSet(env, "SMTP_ENABLE_STARTTLS_AUTO")
    ? "auto"
    : parseBoolean(env, "SMTP_ENABLE_STARTTLS_AUTO", true) ? "auto" : "never";
  const enableStarttls = parseChoice<SmtpStarttls>(env, "SMTP_ENABLE_STARTTLS", ["auto", "always", "never"], starttlsDefault);
  if (tls && enableStarttls === "always") {
    throw new ConfigError(
      "SMTP_ENABLE_STARTTLS",
      "always contradicts SMTP_TLS=true: a connection that starts with TLS has no STARTTLS; unset one of them",
    );
  }
  const authMethod = parseChoice<SmtpAuthMethod>(env, "SMTP_AUTH_METHOD", ["plain", "login", "cram_md5", "none"], "plain");
  const verifyPeer = parseChoice(env, "SMTP_OPENSSL_VERIFY_MODE", ["none", "peer"], "peer") === "peer";
  const login = (env.SMTP_LOGIN ?? "") === "" ? null : env.SMTP_LOGIN!;
  if (login != null && /[\r\n]/.test(login)) throw new ConfigError("SMTP_LOGIN", "must not contain a line break");
  const password = readSecret(env, "SMTP_PASSWORD");
  if (authMethod !== "none") {
    const explicit = (env.SMTP_AUTH_METHOD ?? "").trim() !== "";
    if (login == null && password != null) {
      throw new ConfigError("SMTP_LOGIN", `is not set but ${password.source} is; set both, or SMTP_AUTH_METHOD=none`);
    }
    if (login == null && explicit) {
      throw new ConfigError("SMTP_LOGIN", `is not set but SMTP_AUTH_METHOD=${authMethod} asks for a login; set it, or SMTP_AUTH_METHOD=none`);
    }
    if (login != null && password == null) {
      throw new ConfigError("SMTP_PASSWORD", "is not set but SMTP_LOGIN is (SMTP_PASSWORD, SMTP_PASSWORD_FILE or $CREDENTIALS_DIRECTORY/SMTP_PASSWORD)");
    }
  }
  const ca = readCaFile(env);
  // An address has no port: a development instance at localhost:3000 sends as notifications@localhost.
  const fromDomain = (localDomain ?? "localhost").replace(/:\d+$/, "");
  const fromAddress = parseFromAddress(env, `notifications@${fromDomain}`);
  return {
    smtp: {
      server,
      port,
      login,
      password: password?.value ?? null,
      fromAddress,
      tls,
      enableStarttls,
      authMethod,
      caFile: ca?.path ?? null,
      caCertificates: ca?.pem ?? null,
      verifyPeer,
    },
    passwordSource: password?.source ?? null,
  };
}

/** Creates a folder (and its parents) readable by the owner only. */
export function ensurePrivateDir(path: string, variable = "DATA_DIR"): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    chmodSync(path, 0o700);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(variable, `cannot create or use ${path} (${code ?? String(error)})`);
  }
}

/**
 * Returns SECRET_KEY_BASE from the environment, or the one kept under
 * DATA_DIR, generating and keeping it on first start.
 */
function resolveSecretKeyBase(env: Env, dataDir: string, write = true): { value: string; source: string } {
  const secret = readSecret(env, "SECRET_KEY_BASE");
  if (secret != null) {
    if (secret.value.length < 32) {
      throw new ConfigError(secret.source, "is too short; use at least 32 characters (for example `openssl rand -hex 64`)");
    }
    return secret;
  }
  const path = join(dataDir, "secret_key_base");
  if (existsSync(path)) return { value: readSecretFile("SECRET_KEY_BASE", path), source: path };
  const value = randomBytes(64).toString("hex");
  if (!write) return { value, source: `${path} (not there yet: made on the first start)` };
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      return { value: readSecretFile("SECRET_KEY_BASE", path), source: path };
    }
    throw new ConfigError("DATA_DIR", `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  return { value, source: `${path} (generated)` };
}

/** Bytes of a base64 or base64url text (padding optional), or null when it is neither. */
function decodeBase64Key(text: string): Buffer | null {
  const trimmed = text.trim().replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/_-]+$/.test(trimmed) || trimmed.length % 4 === 1) return null;
  return Buffer.from(trimmed.replace(/\+/g, "-").replace(/\//g, "_"), "base64url");
}

/**
 * Checks a VAPID pair: a P-256 private scalar and the public point that
 * belongs to it. Returns both as unpadded base64url.
 */
function checkVapidKeys(
  privateKey: { value: string; source: string },
  publicKey: { value: string; source: string },
): VapidKeys {
  const privateBytes = decodeBase64Key(privateKey.value);
  if (privateBytes == null || privateBytes.length !== 32) {
    throw new ConfigError(privateKey.source, "is not a VAPID private key (expected 32 bytes in base64url, as Mastodon keeps it)");
  }
  const publicBytes = decodeBase64Key(publicKey.value);
  if (publicBytes == null || publicBytes.length !== 65 || publicBytes[0] !== 4) {
    throw new ConfigError(publicKey.source, "is not a VAPID public key (an uncompressed P-256 point: 65 bytes in base64url)");
  }
  const ecdh = createECDH("prime256v1");
  try {
    ecdh.setPrivateKey(privateBytes);
  } catch {
    throw new ConfigError(privateKey.source, "is not a valid P-256 private key");
  }
  if (!ecdh.getPublicKey().equals(publicBytes)) {
    throw new ConfigError(publicKey.source, `is not the public key of ${privateKey.source}; set the two from one pair`);
  }
  return { privateKey: privateBytes.toString("base64url"), publicKey: publicBytes.toString("base64url") };
}

function readVapidKeyFile(path: string): VapidKeys {
  const text = readSecretFile("VAPID_PRIVATE_KEY", path);
  const value = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const broken = () => new ConfigError("DATA_DIR", `${path} does not hold a VAPID key pair; remove it to have a new pair made (clients then subscribe again)`);
  const privateKey = value("VAPID_PRIVATE_KEY");
  const publicKey = value("VAPID_PUBLIC_KEY");
  if (privateKey === "" || publicKey === "") throw broken();
  try {
    return checkVapidKeys({ value: privateKey, source: path }, { value: publicKey, source: path });
  } catch (error) {
    if (error instanceof ConfigError) throw broken();
    throw error;
  }
}

/**
 * Returns the VAPID pair from VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY (both
 * or neither), or the pair kept under DATA_DIR, generating and keeping one
 * on first start. The file appears whole or not at all, so processes
 * starting together agree on one pair.
 */
function resolveVapidKeys(env: Env, dataDir: string, write = true): { keys: VapidKeys; privateSource: string; publicSource: string } {
  const privateKey = readSecret(env, "VAPID_PRIVATE_KEY");
  const publicKey = readSecret(env, "VAPID_PUBLIC_KEY");
  if (privateKey != null && publicKey == null) {
    throw new ConfigError("VAPID_PUBLIC_KEY", `is not set but ${privateKey.source} is; set both, or neither to have a pair made under DATA_DIR`);
  }
  if (publicKey != null && privateKey == null) {
    throw new ConfigError("VAPID_PRIVATE_KEY", `is not set but ${publicKey.source} is; set both, or neither to have a pair made under DATA_DIR`);
  }
  if (privateKey != null && publicKey != null) {
    return { keys: checkVapidKeys(privateKey, publicKey), privateSource: privateKey.source, publicSource: publicKey.source };
  }
  const path = join(dataDir, "vapid_keys");
  if (existsSync(path)) return { keys: readVapidKeyFile(path), privateSource: path, publicSource: path };
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  // The scalar may come back shorter when it starts with zero bytes.
  const scalar = ecdh.getPrivateKey();
  const keys: VapidKeys = {
    privateKey: Buffer.concat([Buffer.alloc(32 - scalar.length), scalar]).toString("base64url"),
    publicKey: ecdh.getPublicKey().toString("base64url"),
  };
  if (!write) {
    const source = `${path} (not there yet: made on the first start)`;
    return { keys, privateSource: source, publicSource: source };
  }
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString("hex")}`;
  try {
    const text = `VAPID_PRIVATE_KEY=${keys.privateKey}\nVAPID_PUBLIC_KEY=${keys.publicKey}\n`;
    writeFileSync(temporary, text, { mode: 0o600, flag: "wx" });
    try {
      linkSync(temporary, path);
    } catch (error) {
      // A file system without hard links: create the file in place instead.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
      writeFileSync(path, text, { mode: 0o600, flag: "wx" });
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      return { keys: readVapidKeyFile(path), privateSource: path, publicSource: path };
    }
    throw new ConfigError("DATA_DIR", `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? error})`);
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // Never written.
    }
  }
  return { keys, privateSource: `${path} (generated)`, publicSource: `${path} (generated)` };
}

// ------------------------------------------------------ Mastodon's variables
//
// A Mastodon admin's environment mostly carries over: the names Islet shares
// with Mastodon are read as they are, a few older or differently named ones
// are read as their Islet equivalent (below), and the rest, which mean
// nothing to Islet, are named in one warning at start and by `islet doctor`,
// so that a copied configuration is never half-applied in silence.

function isSet(env: Env, name: string): boolean {
  return (env[name] ?? "").trim() !== "";
}

/** Mastodon's database variables, read when DATABASE_URL is not set. */
const MASTODON_DATABASE_VARIABLES = ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASS", "DB_SSLMODE"] as const;

/**
 * DATABASE_URL made of Mastodon's DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASS
 * (also DB_PASS_FILE or the credential DB_PASS) and DB_SSLMODE, with
 * Mastodon's defaults for the ones left out; null when none is set.
 */
function mastodonDatabaseUrl(env: Env): { value: string; source: string } | null {
  const password = readSecret(env, "DB_PASS");
  const given = MASTODON_DATABASE_VARIABLES.filter((name) => name === "DB_PASS" ? password != null : isSet(env, name));
  if (given.length === 0) return null;
  const host = (env.DB_HOST ?? "").trim() || "localhost";
  if (host.startsWith("/")) {
    throw new ConfigError(
      "DB_HOST",
      `is a socket folder (${host}), which Islet cannot take from DB_HOST; set DATABASE_URL=postgres:///${(env.DB_NAME ?? "").trim() || "mastodon_production"} and PGHOST=${host} instead`,
    );
  }
  if (isIP(host) === 0 && !SMTP_HOST_PATTERN.test(host)) throw new ConfigError("DB_HOST", `expected a host name or IP address, got ${JSON.stringify(env.DB_HOST)}`);
  const port = parseInteger(env, "DB_PORT", 5432, 1, 65535);
  const url = new URL(`postgres://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`);
  url.pathname = `/${encodeURIComponent((env.DB_NAME ?? "").trim() || "mastodon_production")}`;
  url.username = encodeURIComponent((env.DB_USER ?? "").trim() || "mastodon");
  if (password != null) url.password = encodeURIComponent(password.value);
  if (isSet(env, "DB_SSLMODE")) url.searchParams.set("sslmode", env.DB_SSLMODE!.trim());
  const sources = given.map((name) => name === "DB_PASS" ? password!.source : name);
  return { value: url.toString(), source: sources.join(", ") };
}

/**
 * Variables Islet reads, Mastodon's equivalents included: a prefix below
 * never makes one of these "ignored".
 */
const ISLET_VARIABLES = new Set([
  "LOCAL_DOMAIN", "WEB_DOMAIN", "PORT", "BIND", "SOCKET", "STREAMING_PORT", "STREAMING_API_BASE_URL", "DATA_DIR", "DATABASE_URL",
  "SECRET_KEY_BASE", "VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY", "TRUSTED_PROXY_IP", "AUTHORIZED_FETCH", "SINGLE_USER_MODE",
  "ALLOW_PRIVATE_ADDRESS", "MEDIA_CACHE_RETENTION_DAYS", "LOG_LEVEL", "QUEUE_VISIBILITY_TIMEOUT",
  "SMTP_SERVER", "SMTP_PORT", "SMTP_LOGIN", "SMTP_PASSWORD", "SMTP_FROM_ADDRESS", "SMTP_TLS", "SMTP_ENABLE_STARTTLS",
  "SMTP_AUTH_METHOD", "SMTP_CA_FILE", "SMTP_OPENSSL_VERIFY_MODE",
  "S3_ENABLED", "S3_BUCKET", "S3_ENDPOINT", "S3_REGION", "S3_PROTOCOL", "S3_HOSTNAME", "S3_ALIAS_HOST", "S3_FORCE_SINGLE_REQUEST",
  "S3_OVERRIDE_PATH_STYLE", "S3_PERMISSION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "FFMPEG_BINARY", "FFPROBE_BINARY",
  // Mastodon's names for an Islet setting.
  "RAILS_LOG_LEVEL", "SMTP_SSL", "SMTP_ENABLE_STARTTLS_AUTO", ...MASTODON_DATABASE_VARIABLES,
]);

/** Mastodon's variables (docs.joinmastodon.org/admin/config) that Islet has no use for. */
const MASTODON_ONLY_VARIABLES = new Set([
  "ALTERNATE_DOMAINS", "LOCAL_HTTPS", "LIMITED_FEDERATION_MODE", "DISALLOW_UNAUTHENTICATED_API_ACCESS",
  "ALLOWED_PRIVATE_ADDRESSES", "ALLOW_ACCESS_TO_HIDDEN_SERVICE", "DEFAULT_LOCALE", "OTP_SECRET", "CDN_HOST",
  "WEB_CONCURRENCY", "MAX_THREADS", "PREPARED_STATEMENTS", "STREAMING_CLUSTER_NUM", "BIND_ADDRESS",
  "IP_RETENTION_PERIOD", "SESSION_RETENTION_PERIOD", "MAX_SESSION_ACTIVATIONS", "USER_ACTIVE_DAYS",
  "GITHUB_REPOSITORY", "SOURCE_BASE_URL", "SOURCE_TAG", "FFMPEG_BINARY", "MASTODON_USE_LIBVIPS", "MAX_REQUEST_POOL_SIZE",
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "REPLICA_DB_NAME", "REPLICA_DB_HOST", "REPLICA_DB_PORT", "REPLICA_DB_USER",
  "REPLICA_DB_PASS", "REPLICA_PREPARED_STATEMENTS", "READ_DATABASE_URL", "DATABASE_REPLICA_URL",
]);

/**
 * Prefixes of Mastodon's variable families: Redis, Sidekiq, Elasticsearch,
 * object storage, single sign-on, captcha, translation, encryption keys, the
 * Rails runtime, and any SMTP_ or DB_ variable Islet does not read.
 */
const MASTODON_PREFIXES = [
  "REDIS_", "CACHE_REDIS_", "SIDEKIQ_", "ES_", "S3_", "SWIFT_", "AZURE_", "PAPERCLIP_", "CACHE_BUSTER_", "STATSD_",
  "LDAP_", "PAM_", "CAS_", "SAML_", "OIDC_", "OMNIAUTH_", "HCAPTCHA_", "DEEPL_", "LIBRE_TRANSLATE_",
  "ACTIVE_RECORD_ENCRYPTION_", "EMAIL_DOMAIN_", "FETCH_REPLIES_", "RAILS_", "SMTP_", "DB_",
];

/**
 * The Mastodon variables set (not empty) in `env` that Islet does not use,
 * sorted. A secret's `NAME_FILE` counts as `NAME`.
 */
export function ignoredMastodonVariables(env: Env): string[] {
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value == null || value.trim() === "") continue;
    const base = name.endsWith("_FILE") ? name.slice(0, -"_FILE".length) : name;
    if (ISLET_VARIABLES.has(name) || ISLET_VARIABLES.has(base)) continue;
    if (MASTODON_ONLY_VARIABLES.has(name) || MASTODON_PREFIXES.some((prefix) => name.startsWith(prefix))) ignored.push(name);
  }
  return ignored.sort();
}

/** The one warning line for ignored Mastodon variables, or null when there are none. */
export function ignoredVariablesWarning(names: readonly string[]): string | null {
  if (names.length === 0) return null;
  return `Mastodon ${names.length === 1 ? "setting" : "settings"} that Islet does not use, ignored: ${names.join(", ")}`;
}

/** DATA_DIR as an absolute path (default ./data), without creating or checking anything. */
export function resolveDataDir(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const raw = (env.DATA_DIR ?? "").trim() || "./data";
  return isAbsolute(raw) ? raw : resolve(cwd, raw);
}

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_ALIAS_PATTERN = /^(?=.{1,253}(\/|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?(\/[A-Za-z0-9._~-]+)*\/?$/i;

/** Object storage settings, or null when S3_ENABLED is not true. */
function parseS3(env: Env): { s3: S3Config | null; sources: Record<string, string> } {
  if (!parseBoolean(env, "S3_ENABLED", false)) return { s3: null, sources: {} };
  const bucket = (env.S3_BUCKET ?? "").trim();
  if (bucket === "") throw new ConfigError("S3_BUCKET", "is not set but S3_ENABLED=true; set it to the bucket's name");
  if (!BUCKET_PATTERN.test(bucket)) throw new ConfigError("S3_BUCKET", `${JSON.stringify(bucket)} is not a valid bucket name (3 to 63 lower-case letters, digits, dots and hyphens)`);
  const region = (env.S3_REGION ?? "").trim() || "us-east-1";
  if (!/^[a-z0-9-]{1,64}$/i.test(region)) throw new ConfigError("S3_REGION", `expected a region name such as us-east-1 or auto, got ${JSON.stringify(env.S3_REGION)}`);
  const endpointRaw = (env.S3_ENDPOINT ?? "").trim();
  let endpoint: string | null = null;
  let endpointHost: string | null = null;
  if (endpointRaw !== "") {
    let url: URL;
    try {
      url = new URL(endpointRaw);
    } catch {
      throw new ConfigError("S3_ENDPOINT", `expected a URL such as https://s3.example.com, got ${JSON.stringify(endpointRaw)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError("S3_ENDPOINT", `expected an http:// or https:// URL, got the scheme ${url.protocol}`);
    if (url.username !== "" || url.password !== "") throw new ConfigError("S3_ENDPOINT", "must not hold credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    endpoint = endpointRaw.replace(/\/+$/, "");
    endpointHost = url.host;
  }
  const protocol = parseChoice(env, "S3_PROTOCOL", ["https", "http"], "https");
  const hostnameRaw = (env.S3_HOSTNAME ?? "").trim().toLowerCase();
  if (hostnameRaw !== "" && !HOST_PATTERN.test(hostnameRaw)) {
    throw new ConfigError("S3_HOSTNAME", `expected a bare host name such as s3.example.com (with an optional :port), got ${JSON.stringify(env.S3_HOSTNAME)}`);
  }
  const hostname = hostnameRaw || endpointHost || `s3.${region}.amazonaws.com`;
  const aliasRaw = (env.S3_ALIAS_HOST ?? "").trim();
  if (aliasRaw !== "" && !S3_ALIAS_PATTERN.test(aliasRaw)) {
    throw new ConfigError("S3_ALIAS_HOST", `expected a host name with an optional path such as media.example.com, not a URL (${JSON.stringify(aliasRaw)})`);
  }
  const aliasHost = aliasRaw === "" ? null : aliasRaw.replace(/\/+$/, "");
  const accessKey = readSecret(env, "AWS_ACCESS_KEY_ID");
  const secretKey = readSecret(env, "AWS_SECRET_ACCESS_KEY");
  if (accessKey == null) throw new ConfigError("AWS_ACCESS_KEY_ID", "is not set but S3_ENABLED=true (AWS_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID_FILE or $CREDENTIALS_DIRECTORY/AWS_ACCESS_KEY_ID)");
  if (secretKey == null) throw new ConfigError("AWS_SECRET_ACCESS_KEY", "is not set but S3_ENABLED=true (AWS_SECRET_ACCESS_KEY, AWS_SECRET_ACCESS_KEY_FILE or $CREDENTIALS_DIRECTORY/AWS_SECRET_ACCESS_KEY)");
  const forceSingleRequest = parseBoolean(env, "S3_FORCE_SINGLE_REQUEST", false);
  const pathStyle = endpoint != null && !parseBoolean(env, "S3_OVERRIDE_PATH_STYLE", false);
  const permissionRaw = (env.S3_PERMISSION ?? "").trim();
  const acls = ["private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read", "bucket-owner-full-control"];
  if (permissionRaw !== "" && !acls.includes(permissionRaw)) {
    throw new ConfigError("S3_PERMISSION", `expected one of ${acls.join(", ")}, got ${JSON.stringify(permissionRaw)}`);
  }
  // Mastodon sends public-read unless told otherwise; many providers (R2, B2, Garage) refuse ACLs, so an empty S3_PERMISSION sends none.
  const permission = env.S3_PERMISSION == null ? "public-read" : permissionRaw === "" ? null : permissionRaw;
  return {
    s3: {
      bucket, endpoint, region, protocol, hostname, aliasHost,
      accessKeyId: accessKey.value, secretAccessKey: secretKey.value,
      forceSingleRequest, pathStyle, permission,
    },
    sources: { AWS_ACCESS_KEY_ID: accessKey.source, AWS_SECRET_ACCESS_KEY: secretKey.source },
  };
}

/** Reads and checks the whole configuration. Creates DATA_DIR when needed. */
/**
 * `readOnly`: resolve without creating anything (DATA_DIR and the secrets
 * kept in it are left as they are; a missing secret gets a throwaway value,
 * its source saying so), for `islet config`.
 */
export function loadConfig(env: Env = process.env, options: { cwd?: string; readOnly?: boolean } = {}): Config {
  const port = parseInteger(env, "PORT", 3000, 1, 65535);
  const bind = (env.BIND ?? "").trim() || "127.0.0.1";
  if (bind !== "localhost" && isIP(bind) === 0) {
    throw new ConfigError("BIND", `expected an IP address such as 127.0.0.1 or 0.0.0.0, got ${JSON.stringify(env.BIND)}`);
  }
  const socketRaw = (env.SOCKET ?? "").trim();
  const socket = socketRaw === "" ? null : socketRaw;
  if (socket != null && !isAbsolute(socket)) {
    throw new ConfigError("SOCKET", `expected the absolute path of a Unix socket such as /run/islet/web.socket, got ${JSON.stringify(socketRaw)}`);
  }
  const streamingPortRaw = env.STREAMING_PORT;
  const streamingPort = streamingPortRaw == null || streamingPortRaw === ""
    ? null
    : parseInteger(env, "STREAMING_PORT", 0, 1, 65535);
  if (streamingPort === port) {
    throw new ConfigError("STREAMING_PORT", `must differ from PORT (${port}); leave it unset to serve streaming on PORT`);
  }

  const localDomain = parseDomain(env, "LOCAL_DOMAIN");
  const webDomainSetting = parseDomain(env, "WEB_DOMAIN");
  if (webDomainSetting != null && localDomain == null) {
    throw new ConfigError("WEB_DOMAIN", "is set but LOCAL_DOMAIN is not; set LOCAL_DOMAIN to the domain of your handle");
  }
  const development = localDomain == null;
  const handleHost = localDomain ?? `localhost:${port}`;
  const webDomain = webDomainSetting ?? handleHost;
  const origin = development ? `http://${webDomain}` : `https://${webDomain}`;

  const streamingApiBaseUrl = (env.STREAMING_API_BASE_URL ?? "").trim() || null;
  if (streamingApiBaseUrl != null && !/^(wss?|https?):\/\/[^/]+/.test(streamingApiBaseUrl)) {
    throw new ConfigError("STREAMING_API_BASE_URL", `expected a wss:// or https:// URL, got ${JSON.stringify(streamingApiBaseUrl)}`);
  }

  const dataDir = resolveDataDir(env, options.cwd ?? process.cwd());

  const trustedProxyIps = (env.TRUSTED_PROXY_IP ?? "")
    .split(/[\s,]+/)
    .filter((ip) => ip !== "");
  for (const entry of trustedProxyIps) {
    const [address, prefix, ...rest] = entry.split("/");
    const version = isIP(address);
    const maxPrefix = version === 6 ? 128 : 32;
    const prefixOk = prefix == null || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (version === 0 || !prefixOk || rest.length > 0) {
      throw new ConfigError("TRUSTED_PROXY_IP", `${JSON.stringify(entry)} is not an IP address or CIDR range`);
    }
  }

  // SINGLE_USER_MODE is always on in Islet: accepted for compatibility, checked, ignored.
  parseBoolean(env, "SINGLE_USER_MODE", true);

  const database = parseDatabaseUrl(env);
  const authorizedFetch = parseBoolean(env, "AUTHORIZED_FETCH", false);
  const allowPrivateAddress = parseBoolean(env, "ALLOW_PRIVATE_ADDRESS", false);
  const mediaCacheRetentionDays = parseInteger(env, "MEDIA_CACHE_RETENTION_DAYS", 7, 0, 36500);
  const logLevel = parseLogLevel(env);
  const queueVisibilityTimeoutSeconds = parseInteger(env, "QUEUE_VISIBILITY_TIMEOUT", 60, 1, 86400);
  const { smtp, passwordSource: smtpPasswordSource } = parseSmtp(env, localDomain);
  const { s3, sources: s3Sources } = parseS3(env);
  const ffmpeg = { ffmpeg: (env.FFMPEG_BINARY ?? "").trim() || "ffmpeg", ffprobe: (env.FFPROBE_BINARY ?? "").trim() || "ffprobe" };

  const write = options.readOnly !== true;
  if (write) ensurePrivateDir(dataDir);
  const secretKeyBase = resolveSecretKeyBase(env, dataDir, write);
  const vapid = resolveVapidKeys(env, dataDir, write);

  const sources: Record<string, string> = { SECRET_KEY_BASE: secretKeyBase.source };
  if (database != null) sources.DATABASE_URL = database.source;
  if (smtpPasswordSource != null) sources.SMTP_PASSWORD = smtpPasswordSource;
  sources.VAPID_PRIVATE_KEY = vapid.privateSource;
  sources.VAPID_PUBLIC_KEY = vapid.publicSource;
  Object.assign(sources, s3Sources);
  const ignored = ignoredMastodonVariables(env);

  return {
    localDomain: handleHost,
    webDomain,
    origin,
    development,
    port,
    bind,
    socket,
    adminCommand: adminCommand(env),
    streamingPort,
    streamingApiBaseUrl,
    dataDir,
    databaseUrl: database?.value ?? null,
    secretKeyBase: secretKeyBase.value,
    trustedProxyIps,
    authorizedFetch,
    allowPrivateAddress,
    mediaCacheRetentionDays,
    logLevel,
    queueVisibilityTimeoutSeconds,
    smtp,
    vapid: vapid.keys,
    s3,
    ffmpeg,
    sources,
    ignoredMastodonVariables: ignored,
  };
}

/** Hides the password in a connection string. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "****";
    return parsed.toString();
  } catch {
    return "****";
  }
}

/** The resolved configuration as `NAME=value` lines, secrets masked. */
export function describeConfig(config: Config): string[] {
  const line = (name: string, value: string | number | boolean | null) =>
    `${name}=${value == null ? "" : String(value)}`;
  return [
    line("LOCAL_DOMAIN", config.localDomain),
    line("WEB_DOMAIN", config.webDomain),
    line("# origin", config.origin + (config.development ? " (development: no LOCAL_DOMAIN set)" : "")),
    line("PORT", config.port),
    line("BIND", config.bind),
    line("SOCKET", config.socket ?? "(unset: listening on BIND:PORT)"),
    line("STREAMING_PORT", config.streamingPort),
    line("STREAMING_API_BASE_URL", config.streamingApiBaseUrl),
    line("DATA_DIR", config.dataDir),
    line(
      "DATABASE_URL",
      config.databaseUrl == null
        ? `(unset: embedded PGlite at ${join(config.dataDir, "db")})`
        : `${maskUrl(config.databaseUrl)} (from ${config.sources.DATABASE_URL})`,
    ),
    line("SECRET_KEY_BASE", `**** (from ${config.sources.SECRET_KEY_BASE})`),
    line("TRUSTED_PROXY_IP", config.trustedProxyIps.join(",")),
    line("AUTHORIZED_FETCH", config.authorizedFetch),
    line("ALLOW_PRIVATE_ADDRESS", config.allowPrivateAddress),
    line("MEDIA_CACHE_RETENTION_DAYS", config.mediaCacheRetentionDays),
    line("LOG_LEVEL", config.logLevel),
    line("QUEUE_VISIBILITY_TIMEOUT", config.queueVisibilityTimeoutSeconds),
    line("SINGLE_USER_MODE", "true (always)"),
    line("SMTP_SERVER", config.smtp.server ?? "(unset: mail disabled)"),
    line("SMTP_PORT", config.smtp.port),
    line("SMTP_LOGIN", config.smtp.login),
    line("SMTP_PASSWORD", config.smtp.password == null ? null : `**** (from ${config.sources.SMTP_PASSWORD})`),
    line("SMTP_FROM_ADDRESS", config.smtp.fromAddress),
    line("SMTP_TLS", config.smtp.tls),
    line("SMTP_ENABLE_STARTTLS", config.smtp.enableStarttls),
    line("SMTP_AUTH_METHOD", config.smtp.authMethod),
    line("SMTP_CA_FILE", config.smtp.caFile),
    line("SMTP_OPENSSL_VERIFY_MODE", config.smtp.verifyPeer ? "peer" : "none"),
    line("VAPID_PRIVATE_KEY", `**** (from ${config.sources.VAPID_PRIVATE_KEY})`),
    line("VAPID_PUBLIC_KEY", `**** (from ${config.sources.VAPID_PUBLIC_KEY})`),
    ...describeS3(config),
  ];
}

function describeS3(config: Config): string[] {
  const s3 = config.s3;
  if (s3 == null) return ["S3_ENABLED=false (media under DATA_DIR/media)"];
  return [
    "S3_ENABLED=true",
    `S3_BUCKET=${s3.bucket}`,
    `S3_ENDPOINT=${s3.endpoint ?? "(unset: AWS)"}`,
    `S3_REGION=${s3.region}`,
    `S3_PROTOCOL=${s3.protocol}`,
    `S3_HOSTNAME=${s3.hostname}`,
    `S3_ALIAS_HOST=${s3.aliasHost ?? ""}`,
    `S3_FORCE_SINGLE_REQUEST=${s3.forceSingleRequest}`,
    `# addressing=${s3.pathStyle ? "path-style" : "virtual-host"}`,
    `S3_PERMISSION=${s3.permission ?? ""}`,
    `AWS_ACCESS_KEY_ID=${s3.accessKeyId} (from ${config.sources.AWS_ACCESS_KEY_ID})`,
    `AWS_SECRET_ACCESS_KEY=**** (from ${config.sources.AWS_SECRET_ACCESS_KEY})`,
  ];
}

/** ISLET_ADMIN_COMMAND, or `npx islet` (see Config.adminCommand). */
export function adminCommand(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const command = env.ISLET_ADMIN_COMMAND?.trim();
  return command ? command : "npx islet";
}
