/**
 * A real SMTP server on loopback for the mail tests (the smtp-server
 * package), recording what it receives, and a self-signed certificate made
 * with openssl in a temporary folder.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerOptions } from "smtp-server";

export interface TestCertificate {
  dir: string;
  certFile: string;
  key: string;
  cert: string;
  remove(): void;
}

/** A self-signed certificate, by default for 127.0.0.1 and localhost. */
export function makeCertificate(subjectAltName = "IP:127.0.0.1,DNS:localhost"): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "islet-mail-cert-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=Islet test SMTP",
    "-addext", `subjectAltName=${subjectAltName}`,
  ], { stdio: "pipe" });
  return {
    dir,
    certFile,
    key: readFileSync(keyFile, "utf8"),
    cert: readFileSync(certFile, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** Whether the session was over TLS when the message came. */
  secure: boolean;
  /** The user name the session logged in with, if any. */
  user: string | null;
}

export interface TestSmtpServer {
  port: number;
  received: ReceivedMail[];
  /** Every login attempt: method, user name and password. */
  logins: { method: string; username: string; password: string | null }[];
  close(): Promise<void>;
}

export interface TestSmtpOptions {
  /** TLS from the first byte. */
  secure?: boolean;
  certificate?: TestCertificate;
  /** Offer STARTTLS (needs a certificate); default true when one is given. */
  starttls?: boolean;
  /** Require this login; no authentication at all when absent. */
  login?: { username: string; password: string };
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Recipients refused with 550. */
  refuse?: string[];
}

export async function startSmtpServer(options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const logins: TestSmtpServer["logins"] = [];
  const serverOptions: SMTPServerOptions = {
    secure: options.secure ?? false,
    logger: false,
    disableReverseLookup: true,
    // Sessions a failed client left open are cut short when a test ends.
    closeTimeout: 500,
    authMethods: ["PLAIN", "LOGIN", "CRAM-MD5"],
    authOptional: options.login == null,
    disabledCommands: [
      ...(options.login == null ? ["AUTH"] : []),
      ...(options.certificate == null || options.starttls === false ? ["STARTTLS"] : []),
    ],
    // Authentication over a plain connection is the client's choice to make.
    allowInsecureAuth: true,
    ...(options.certificate == null ? {} : { key: options.certificate.key, cert: options.certificate.cert }),
    onAuth(auth: SMTPServerAuthentication, _session, callback) {
      const password = auth.method === "CRAM-MD5" ? null : (auth.password ?? null);
      logins.push({ method: auth.method, username: auth.username ?? "", password });
      const login = options.login;
      const ok = login != null && auth.username === login.username &&
        (auth.method === "CRAM-MD5" ? auth.validatePassword(login.password) : auth.password === login.password);
      if (!ok) {
        callback(new Error("Invalid username or password"));
        return;
      }
      callback(null, { user: auth.username });
    },
    onRcptTo(address, _session, callback) {
      if (options.refuse?.includes(address.address)) {
        callback(Object.assign(new Error("5.1.1 No such user here"), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          secure: session.secure,
          user: typeof session.user === "string" ? session.user : null,
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === "object" && address != null ? address.port : 0;
  return {
    port,
    received,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The headers and body of a received message, its quoted-printable undone. */
export function decodeMail(raw: string): string {
  return raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** A loopback port with nothing listening on it (at the time of asking). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address != null ? address.port : 0;
}
