/**
 * Database targets: a fresh, initialised Islet (migrated database, an owner
 * created with `islet setup`) on PGlite or on a throwaway PostgreSQL
 * database, with the DATA_DIR and port the server will use.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startNode } from "./children.ts";

/** Which database a figure was measured on; "-" for machine-only rows. */
export type DatabaseLabel = "PGlite" | "PostgreSQL" | "-";

export const DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test";

export interface Target {
  database: Exclude<DatabaseLabel, "-">;
  /** The environment `islet` runs with: DATA_DIR, PORT, DATABASE_URL. */
  env: Record<string, string>;
  port: number;
  /** Where requests go: http://127.0.0.1:PORT. */
  url: string;
  /** The instance's origin and handle host: localhost:PORT. */
  host: string;
  username: string;
  /** The temporary folder holding DATA_DIR; removed by dispose(). */
  tempDir: string;
  dispose(): Promise<void>;
}

/** Targets not yet disposed, for the clean-up on an interrupted run. */
export const openTargets = new Set<Target>();

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address != null ? address.port : 0));
    });
  });
}

/** The admin URL with any password hidden, for printing. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

/** Connects to the admin URL; the server's version, or why not. */
export async function probePostgres(adminUrl: string): Promise<{ version: string } | { error: string }> {
  let sql: ReturnType<typeof postgres> | undefined;
  try {
    sql = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
    const [row] = await sql`show server_version`;
    return { version: String(row.server_version) };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await sql?.end({ timeout: 2 }).catch(() => {});
  }
}

async function runSetup(env: Record<string, string>, username: string, passwordFile: string): Promise<void> {
  const child = startNode(
    ["bin/islet.js", "setup", "--username", username, "--email", `${username}@example.com`, "--password-file", passwordFile],
    env,
  );
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`islet setup failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);
}

export async function prepareTarget(database: Target["database"], adminUrl: string): Promise<Target> {
  const root = mkdtempSync(join(tmpdir(), "islet-bench-"));
  const dataDir = join(root, "data");
  const passwordFile = join(root, "password");
  const port = await freePort();
  // The inbox and fan-out rows fetch from and deliver to loopback stand-ins.
  const env: Record<string, string> = { DATA_DIR: dataDir, PORT: String(port), BIND: "127.0.0.1", ALLOW_PRIVATE_ADDRESS: "true" };
  let dropDatabase = async () => {};
  const target: Target = {
    database,
    env,
    port,
    url: `http://127.0.0.1:${port}`,
    host: `localhost:${port}`,
    username: "bench",
    tempDir: root,
    async dispose() {
      openTargets.delete(target);
      try {
        await dropDatabase();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  // Registered before anything is created, so an interrupted run cleans up.
  openTargets.add(target);
  try {
    writeFileSync(passwordFile, `${randomBytes(18).toString("base64url")}\n`, { mode: 0o600 });
    if (database === "PostgreSQL") {
      const name = `islet_bench_${randomBytes(6).toString("hex")}`;
      const admin = () => postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
      dropDatabase = async () => {
        const sql = admin();
        try {
          await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await sql.end({ timeout: 2 });
        }
      };
      const sql = admin();
      try {
        await sql.unsafe(`CREATE DATABASE ${name}`);
      } finally {
        await sql.end({ timeout: 2 });
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      env.DATABASE_URL = url.toString();
    }
    await runSetup(env, target.username, passwordFile);
  } catch (error) {
    await target.dispose();
    throw error;
  }
  return target;
}
