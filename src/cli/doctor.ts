/**
 * `islet doctor`: checks what an Islet server needs, one line each:
 * `ok|warn|fail  <what>: <detail>`. Exits non-zero when any check fails.
 */
import { existsSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { adminCommand, ignoredVariablesWarning, loadConfig, type Config } from "../config.ts";
import { openDatabase, type Database } from "../db/connect.ts";
import { describeSmtpError, smtpEndpoint, verifySmtp } from "../mail/transport.ts";
import { findFfmpeg } from "../media/ffmpeg.ts";
import { probeStorage } from "../media/storage/probe.ts";
import { S3Storage } from "../media/storage/s3.ts";
import { CliError, parseOptions, type Command } from "./command.ts";
import { dataDirFromEnv, DB_FOLDER } from "./data-dir.ts";
import { appliedMigrations, journal } from "./database-dump.ts";

const HELP = `
Usage: islet doctor

Checks, and prints one line for each:
  configuration   the environment (and *_FILE, $CREDENTIALS_DIRECTORY) reads
  mastodon settings
                  warns about Mastodon variables Islet does not use (only
                  when some are set)
  data dir        DATA_DIR exists, is yours, is not writable by others, and
                  can be written
  database        reachable, and every migration applied
  clock           this machine's time against the database server's (and
                  the web server's when the online check ran); signatures
                  fail beyond about 5 minutes of difference
  smtp            the SMTP server accepts the login (when SMTP_SERVER is set)
  owner           the owner account exists
  webfinger       https://LOCAL_DOMAIN/.well-known/webfinger answers, when
                  LOCAL_DOMAIN is a public domain
  media storage   with S3_ENABLED: a probe object is written to the bucket,
                  read back and deleted, and its public URL tried
  ffmpeg          ffmpeg and ffprobe are installed (for video and audio)

Each line starts with ok, warn or fail; the command exits non-zero when a
check fails.
`;

type Status = "ok" | "warn" | "fail";

const CLOCK_WARN_MS = 30_000;
const CLOCK_FAIL_MS = 5 * 60_000;

/** Names that are not on the public internet (RFC 2606, 6761, 6762). */
const PRIVATE_SUFFIXES = [".localhost", ".local", ".test", ".example", ".invalid", ".internal", ".lan", ".home.arpa"];

/** Whether a host is a public domain name (not localhost, an IP address or a reserved name). */
export function isPublicDomain(host: string): boolean {
  const name = host.replace(/:\d+$/, "").toLowerCase();
  if (isIP(name) !== 0 || !name.includes(".")) return false;
  return !PRIVATE_SUFFIXES.some((suffix) => name.endsWith(suffix) || name === suffix.slice(1));
}

/** "within a second of", "12 s ahead of", "3.4 s behind". */
function describeSkew(ms: number): string {
  const seconds = Math.abs(ms) / 1000;
  if (seconds < 1) return "within a second of";
  return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s ${ms > 0 ? "ahead of" : "behind"}`;
}

function clockStatus(ms: number): Status {
  const abs = Math.abs(ms);
  return abs > CLOCK_FAIL_MS ? "fail" : abs > CLOCK_WARN_MS ? "warn" : "ok";
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check configuration, database, DATA_DIR, clock, mail, reachability, media storage and ffmpeg",
  async run(argv) {
    if (parseOptions(argv, {}, HELP) == null) return;
    let failures = 0;
    const report = (status: Status, what: string, detail: string) => {
      if (status === "fail") failures++;
      process.stdout.write(`${status.padEnd(4)}  ${what}: ${detail}\n`);
    };

    // DATA_DIR as it is, before reading the configuration (which creates it and narrows its mode).
    const dataDir = dataDirFromEnv();
    const before = existsSync(dataDir) ? statSync(dataDir) : null;

    let config: Config;
    try {
      config = loadConfig(process.env);
    } catch (error) {
      report("fail", "configuration", (error as Error).message);
      checkDataDir(report, dataDir, before);
      throw new CliError(`${failures} ${failures === 1 ? "check" : "checks"} failed`);
    }
    report("ok", "configuration", `${config.localDomain}${config.development ? " (development: no LOCAL_DOMAIN)" : ""}, ${config.databaseUrl == null ? "embedded database" : "PostgreSQL"}`);
    const ignored = ignoredVariablesWarning(config.ignoredMastodonVariables);
    if (ignored != null) report("warn", "mastodon settings", `${ignored}; remove them, or see README.md for Islet's names`);
    checkDataDir(report, config.dataDir, before);

    const database = await openForChecks(report, config);
    let owner: string | null = null;
    if (database != null) {
      try {
        const applied = await appliedMigrations(database.db);
        const last = applied.at(-1)?.createdAt ?? 0;
        const pending = (await journal()).filter((entry) => entry.when > last).length;
        if (pending === 0) report("ok", "database", `reachable, ${applied.length} migrations applied, none pending`);
        else report("warn", "database", `reachable, ${pending} ${pending === 1 ? "migration" : "migrations"} pending: run \`islet migrate\` (the server also applies them at start)`);

        const sent = Date.now();
        const [row] = await database.query<{ now: string }>(sql`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::text AS now`);
        const received = Date.now();
        const skew = (sent + received) / 2 - Number(row?.now);
        const source = config.databaseUrl == null ? "the embedded database (same machine)" : "the database server";
        report(clockStatus(skew), "clock", `this machine is ${describeSkew(skew)} ${source}`);

        if (pending === 0) {
          const owners = await database.query<{ username: string }>(sql`SELECT a.username FROM users u JOIN accounts a ON a.id = u.account_id LIMIT 1`);
          owner = owners[0]?.username ?? null;
          if (owner == null) report("fail", "owner", `no owner account yet: create it with \`${adminCommand()} setup\``);
          else report("ok", "owner", `@${owner}@${config.localDomain}`);
        } else {
          report("warn", "owner", "not checked until the migrations are applied");
        }
      } catch (error) {
        report("fail", "database", (error as Error).message);
      } finally {
        await database.close();
      }
    }

    if (config.smtp.server == null) {
      report("warn", "smtp", "not configured (SMTP_SERVER is unset): no mail is sent, so no password reset by mail");
    } else {
      try {
        await verifySmtp(config, { connectionTimeoutMs: 10_000, greetingTimeoutMs: 10_000, socketTimeoutMs: 15_000 });
        const login = config.smtp.login != null && config.smtp.authMethod !== "none" ? ` accepted the login of ${config.smtp.login}` : " answered (no login configured)";
        report("ok", "smtp", `${smtpEndpoint(config.smtp)}${login}`);
      } catch (error) {
        report("fail", "smtp", describeSmtpError(error, config));
      }
    }

    if (config.development || !isPublicDomain(config.localDomain)) {
      report("ok", "webfinger", `skipped: ${config.localDomain} is not a public domain`);
    } else if (owner == null) {
      report("warn", "webfinger", "skipped: no owner account to look up");
    } else {
      await checkWebfinger(report, config, owner);
    }

    await checkMediaStorage(report, config);
    await checkFfmpeg(report, config);

    if (failures > 0) throw new CliError(`${failures} ${failures === 1 ? "check" : "checks"} failed`);
  },
};

async function checkMediaStorage(report: Report, config: Config): Promise<void> {
  if (config.s3 == null) {
    report("ok", "media storage", `${join(config.dataDir, "media")} (S3_ENABLED is false)`);
    return;
  }
  const store = new S3Storage(config.s3);
  try {
    const probe = await probeStorage(store, { checkPublicUrl: true });
    if (!probe.ok) {
      report("fail", "media storage", probe.detail);
      return;
    }
    if (probe.publicStatus !== 200) {
      report(
        "warn",
        "media storage",
        `${probe.detail}, but clients could not load it at ${probe.publicUrl} (${probe.publicStatus === "unreachable" ? "no answer" : `HTTP ${probe.publicStatus}`}): ` +
          "let the bucket (or S3_ALIAS_HOST) serve its objects publicly, or check S3_PROTOCOL, S3_HOSTNAME and S3_ALIAS_HOST",
      );
      return;
    }
    report("ok", "media storage", `${probe.detail}; clients load media from ${probe.publicUrl!.slice(0, probe.publicUrl!.lastIndexOf("/doctor/"))}`);
  } finally {
    store.destroy();
  }
}

async function checkFfmpeg(report: Report, config: Config): Promise<void> {
  const tools = await findFfmpeg(config);
  const missing = [tools.ffmpeg == null ? "ffmpeg" : null, tools.ffprobe == null ? "ffprobe" : null].filter((name) => name != null);
  if (missing.length === 0) report("ok", "ffmpeg", tools.version ?? "found");
  else {
    report(
      "warn",
      "ffmpeg",
      `${missing.join(" and ")} not found: videos and sounds are kept as uploaded, without previews, GIF-to-MP4 or re-encoding ` +
        "(install the ffmpeg package, or set FFMPEG_BINARY and FFPROBE_BINARY)",
    );
  }
}

type Report = (status: Status, what: string, detail: string) => void;

function checkDataDir(report: Report, dataDir: string, before: ReturnType<typeof statSync> | null): void {
  const info = existsSync(dataDir) ? statSync(dataDir) : null;
  if (info == null) {
    report("fail", "data dir", `${dataDir} does not exist and cannot be created`);
    return;
  }
  if (!info.isDirectory()) {
    report("fail", "data dir", `${dataDir} is not a folder`);
    return;
  }
  const uid = process.getuid?.();
  if (uid != null && Number(info.uid) !== uid) {
    report("fail", "data dir", `${dataDir} belongs to user ${info.uid}, not to this user (${uid}): run Islet as its owner, or chown it`);
    return;
  }
  const mode = Number(info.mode) & 0o777;
  if ((mode & 0o022) !== 0) {
    report("fail", "data dir", `${dataDir} is writable by ${mode & 0o002 ? "everyone" : "its group"} (mode ${mode.toString(8)}): chmod 700 it`);
    return;
  }
  const probe = join(dataDir, `.doctor-${process.pid}`);
  try {
    writeFileSync(probe, "", { mode: 0o600, flag: "wx" });
    unlinkSync(probe);
  } catch (error) {
    report("fail", "data dir", `${dataDir} cannot be written (${(error as NodeJS.ErrnoException).code ?? error})`);
    return;
  }
  const earlier = before == null ? null : Number(before.mode) & 0o777;
  if (earlier != null && (earlier & 0o022) !== 0) {
    report("warn", "data dir", `${dataDir} was writable by ${earlier & 0o002 ? "everyone" : "its group"} (mode ${earlier.toString(8)}); Islet narrowed it to ${mode.toString(8)}: check what else can reach it`);
    return;
  }
  report("ok", "data dir", `${dataDir} is yours, mode ${mode.toString(8)}, writable`);
}

/** The database without migrating it; null (after reporting why) when it cannot be used. */
async function openForChecks(report: Report, config: Config): Promise<Database | null> {
  if (config.databaseUrl == null) {
    if (!existsSync(join(config.dataDir, DB_FOLDER, "PG_VERSION"))) {
      report("warn", "database", `the embedded database in ${join(config.dataDir, DB_FOLDER)} does not exist yet: the first start (or \`islet migrate\`) creates it`);
      return null;
    }
  }
  try {
    return await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: false, maxConnections: 1 });
  } catch (error) {
    report("fail", "database", (error as Error).message);
    return null;
  }
}

async function checkWebfinger(report: Report, config: Config, username: string): Promise<void> {
  const host = config.localDomain;
  const url = `https://${host}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${username}@${host}`)}`;
  const sent = Date.now();
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/jrd+json" }, redirect: "follow", signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = (error as Error).name === "TimeoutError" ? "no answer in 5 s" : cause?.code ?? cause?.message ?? (error as Error).message;
    report("warn", "webfinger", `${url} could not be reached (${why}); fine if this machine is offline, otherwise check DNS, TLS and the reverse proxy`);
    return;
  }
  const received = Date.now();
  const date = response.headers.get("date");
  if (date != null && !Number.isNaN(Date.parse(date))) {
    // The header has whole seconds: differences under a second or two say nothing.
    const skew = (sent + received) / 2 - Date.parse(date);
    report(clockStatus(skew), "clock", `this machine is ${describeSkew(Math.abs(skew) < 2000 ? 0 : skew)} ${host}'s web server`);
  }
  if (!response.ok) {
    report("fail", "webfinger", `${url} answered ${response.status}: is the reverse proxy passing /.well-known/ to Islet?`);
    return;
  }
  let body: { subject?: unknown; links?: { rel?: string; href?: string }[] };
  try {
    body = await response.json() as typeof body;
  } catch {
    report("fail", "webfinger", `${url} answered something other than JSON`);
    return;
  }
  const self = body.links?.find((link) => link.rel === "self")?.href;
  if (self == null) {
    report("fail", "webfinger", `${url} answered without a self link`);
    return;
  }
  report("ok", "webfinger", `acct:${username}@${host} is ${self}`);
}
