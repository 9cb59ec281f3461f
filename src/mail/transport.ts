/**
 * The SMTP connection, from the SMTP_* settings: nodemailer's SMTP transport
 * with implicit TLS or STARTTLS as configured, the login, and the extra CA.
 * Also turns nodemailer's errors into one plain sentence an admin can act on.
 */
import { getCACertificates } from "node:tls";
import nodemailer, { type SMTPTransportOptions } from "nodemailer";
import type { Config, SmtpConfig } from "../config.ts";

/** A message as Islet sends it: always both a plain text and an HTML part. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface TransportTimeouts {
  /** To open the TCP connection (default 30 s). */
  connectionTimeoutMs?: number;
  /** For the greeting and the TLS handshake (default 30 s). */
  greetingTimeoutMs?: number;
  /** Of silence in the middle of a session (default 60 s). */
  socketTimeoutMs?: number;
}

/** The SMTP server configured, as `HOST:PORT` (IPv6 in brackets). */
export function smtpEndpoint(smtp: SmtpConfig): string {
  const host = smtp.server ?? "(no SMTP_SERVER)";
  return `${host.includes(":") ? `[${host}]` : host}:${smtp.port}`;
}

const AUTH_METHODS = { plain: "PLAIN", login: "LOGIN", cram_md5: "CRAM-MD5" } as const;

/**
 * nodemailer's options for the configured server. Throws when mail is
 * disabled (no SMTP_SERVER).
 */
export function smtpTransportOptions(config: Config, timeouts: TransportTimeouts = {}): SMTPTransportOptions {
  const smtp = config.smtp;
  if (smtp.server == null) throw new Error("SMTP_SERVER is not set: mail is disabled");
  const options: SMTPTransportOptions = {
    host: smtp.server,
    port: smtp.port,
    secure: smtp.tls,
    // The name given in EHLO: this instance's host rather than the machine's.
    name: config.webDomain.replace(/:\d+$/, ""),
    connectionTimeout: timeouts.connectionTimeoutMs ?? 30_000,
    greetingTimeout: timeouts.greetingTimeoutMs ?? 30_000,
    socketTimeout: timeouts.socketTimeoutMs ?? 60_000,
    tls: {
      rejectUnauthorized: smtp.verifyPeer,
      minVersion: "TLSv1.2",
      // Setting `ca` replaces the default roots: keep them and add the file's.
      ...(smtp.caCertificates == null ? {} : { ca: [...getCACertificates("default"), smtp.caCertificates] }),
    },
  };
  if (smtp.enableStarttls === "always") options.requireTLS = true;
  if (smtp.enableStarttls === "never") options.ignoreTLS = true;
  if (smtp.authMethod !== "none" && smtp.login != null) {
    options.auth = { user: smtp.login, pass: smtp.password ?? "", method: AUTH_METHODS[smtp.authMethod] };
  }
  return options;
}

/** A transporter for the configured server; close it when done. */
export function createSmtpTransport(config: Config, timeouts: TransportTimeouts = {}) {
  return nodemailer.createTransport(smtpTransportOptions(config, timeouts));
}

/** Headers on every message: an automatic message, not to be auto-answered. */
const HEADERS = { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" };

/**
 * Sends one message now, over a connection opened for it. Rejects with
 * nodemailer's error (see {@link describeSmtpError}); resolves with the
 * server's final answer.
 */
export async function sendNow(config: Config, message: MailMessage, timeouts: TransportTimeouts = {}): Promise<string> {
  const transport = createSmtpTransport(config, timeouts);
  try {
    const info = await transport.sendMail({
      from: config.smtp.fromAddress,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      headers: HEADERS,
    });
    if (info.rejected.length > 0) {
      throw Object.assign(new Error(`the server refused the recipient ${info.rejected.join(", ")}`), { code: "EENVELOPE", rejected: info.rejected });
    }
    return info.response;
  } finally {
    transport.close();
  }
}

/** Opens a connection, logs in if configured, and closes it. */
export async function verifySmtp(config: Config, timeouts: TransportTimeouts = {}): Promise<void> {
  const transport = createSmtpTransport(config, timeouts);
  try {
    await transport.verify();
  } finally {
    transport.close();
  }
}

interface SmtpError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejected?: string[];
  message?: string;
}

const CERTIFICATE_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "it is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "its chain ends in a self-signed certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "no trusted certificate authority signed it",
  UNABLE_TO_GET_ISSUER_CERT: "no trusted certificate authority signed it",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "no trusted certificate authority signed it",
  CERT_UNTRUSTED: "it is not trusted",
};

/** The server's answer, trimmed to one line. */
function answer(error: SmtpError): string {
  const text = (error.response ?? "").replace(/\s+/g, " ").trim();
  return text === "" ? "" : ` (the server said: ${text.length > 200 ? `${text.slice(0, 200)}…` : text})`;
}

/** Is it worth sending the message again later? False for a refused recipient. */
export function isPermanentSmtpFailure(error: unknown): boolean {
  const e = (error ?? {}) as SmtpError;
  if (e.code !== "EENVELOPE" && e.code !== "EMESSAGE") return false;
  if (Array.isArray(e.rejected) && e.rejected.length > 0 && (e.responseCode == null || e.responseCode >= 500)) return true;
  return e.command === "RCPT TO" && e.responseCode != null && e.responseCode >= 500 && e.responseCode !== 503;
}

/**
 * One sentence, without a trailing period, on why talking to the SMTP
 * server failed: what an admin reads in `islet mail test` and in the log.
 */
export function describeSmtpError(error: unknown, config: Config): string {
  const smtp = config.smtp;
  const where = smtpEndpoint(smtp);
  const e = (error ?? {}) as SmtpError;
  const system = e.originalCode ?? e.code;
  const message = String(e.message ?? error);
  if (system === "ECONNREFUSED") return `connection refused by ${where}: is the SMTP server running, and is SMTP_PORT right?`;
  if (system === "ENOTFOUND" || system === "EAI_AGAIN" || e.code === "EDNS") {
    return `cannot resolve the host name ${smtp.server} (SMTP_SERVER)`;
  }
  if (system === "EHOSTUNREACH" || system === "ENETUNREACH") return `no route to ${where}`;
  if (system === "ECONNRESET") return `${where} closed the connection abruptly${smtp.tls ? "" : " (does it expect TLS from the start? then set SMTP_TLS=true)"}`;
  if (system != null && system in CERTIFICATE_CODES) {
    return `the certificate of ${where} is not trusted: ${CERTIFICATE_CODES[system]}; ` +
      "name its CA in SMTP_CA_FILE (or, insecurely, set SMTP_OPENSSL_VERIFY_MODE=none)";
  }
  if (system === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `the certificate of ${where} is not for the host name ${smtp.server}: set SMTP_SERVER to a name the certificate lists`;
  }
  if (system === "CERT_HAS_EXPIRED") return `the certificate of ${where} has expired`;
  if (system === "CERT_NOT_YET_VALID") return `the certificate of ${where} is not valid yet (is the clock right?)`;
  if (e.code === "ETIMEDOUT" || system === "ETIMEDOUT") {
    return `no answer from ${where} in time${smtp.tls ? "" : " (if it expects TLS from the start, set SMTP_TLS=true)"}`;
  }
  if (e.code === "EAUTH") {
    if (/Missing credentials/i.test(message)) return `${where} asks for a login but none is configured: set SMTP_LOGIN and SMTP_PASSWORD`;
    return `authentication failed at ${where} for ${JSON.stringify(smtp.login ?? "")} with ${e.command?.replace(/^AUTH /, "") ?? "the configured method"}: ` +
      `check SMTP_LOGIN, SMTP_PASSWORD and SMTP_AUTH_METHOD${answer(e)}`;
  }
  if (e.code === "ENOAUTH") return `${where} requires a login but none is configured: set SMTP_LOGIN and SMTP_PASSWORD`;
  if (e.code === "ETLS") {
    if (e.command === "STARTTLS" && e.responseCode != null && e.responseCode >= 500) {
      return `${where} does not offer STARTTLS, which SMTP_ENABLE_STARTTLS=always requires${answer(e)}`;
    }
    if (e.command === "STARTTLS" || /STARTTLS/i.test(message)) {
      return `STARTTLS failed at ${where}${answer(e)}`;
    }
    if (/wrong version number|packet length too long|unknown protocol/i.test(message)) {
      return `${where} does not speak TLS from the start: unset SMTP_TLS (STARTTLS is used when offered)`;
    }
    return `TLS failed with ${where}: ${message}`;
  }
  if (/wrong version number|packet length too long/i.test(message)) {
    return `${where} does not speak TLS from the start: unset SMTP_TLS (STARTTLS is used when offered)`;
  }
  if (e.code === "EENVELOPE") {
    if (e.command === "MAIL FROM") return `${where} refused the sender ${config.smtp.fromAddress} (SMTP_FROM_ADDRESS)${answer(e)}`;
    if (Array.isArray(e.rejected) && e.rejected.length > 0) return `${where} refused the recipient ${e.rejected.join(", ")}${answer(e)}`;
    return `${where} refused the message envelope${answer(e)}`;
  }
  if (e.code === "EMESSAGE") return `${where} refused the message${answer(e)}`;
  if (e.code === "ECONNECTION") {
    if (!smtp.tls && /closed unexpectedly/i.test(message) && e.command === "CONN") {
      return `${where} closed the connection before greeting (does it expect TLS from the start? then set SMTP_TLS=true)`;
    }
    return `the connection to ${where} failed: ${message}`;
  }
  return `sending through ${where} failed: ${message.split("\n")[0]}`;
}
