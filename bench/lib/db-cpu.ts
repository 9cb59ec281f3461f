/**
 * CPU time of the PostgreSQL backends serving the bench database. On
 * PostgreSQL the server process's CPU leaves out the database's work, which
 * runs in separate backend processes; when PostgreSQL runs on this machine
 * (a loopback DATABASE_URL) their CPU can be read from /proc like the
 * server's. On PGlite the engine runs inside the server process and is
 * already counted.
 */
import postgres from "postgres";
import { processCpuMs } from "./server.ts";
import type { Target } from "./targets.ts";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** CPU milliseconds used so far by each backend connected to the target's database (this query's own excepted). */
export type BackendCpu = Map<number, number>;

/** A snapshot, or null on PGlite, for a remote server, or when /proc cannot be read. */
export async function backendCpu(target: Target): Promise<BackendCpu | null> {
  const url = target.env.DATABASE_URL;
  if (url == null || !LOOPBACK.has(new URL(url).hostname)) return null;
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const rows = await sql<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
    const snapshot: BackendCpu = new Map();
    for (const { pid } of rows) {
      try {
        snapshot.set(pid, processCpuMs(pid));
      } catch {
        // Not readable (another container or user): leave it out.
      }
    }
    return snapshot.size > 0 ? snapshot : null;
  } catch {
    return null;
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
}

/**
 * CPU the backends used between two snapshots. A backend that appeared in
 * between counts from its start; one that exited in between is lost (the
 * server keeps its pool open, so that is rare).
 */
export function backendCpuBetween(before: BackendCpu | null, after: BackendCpu | null): number | null {
  if (before == null || after == null) return null;
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}
