/**
 * Every child process the benchmark starts goes through here, so that all of
 * them can be killed on the way out, whatever failed.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BENCH_DIR = join(ROOT, "bench");

const live = new Set<ChildProcess>();

/** Variables that configure Islet: a child gets only what we set. */
const ISLET_VARIABLES = /^(LOCAL_DOMAIN|WEB_DOMAIN|PORT|BIND|DATA_DIR|DATABASE_URL|DATABASE_URL_FILE|SECRET_KEY_BASE|SECRET_KEY_BASE_FILE|STREAMING_PORT|STREAMING_API_BASE_URL|CREDENTIALS_DIRECTORY|LOG_LEVEL|ISLET_FROM_SOURCE|ALLOW_PRIVATE_ADDRESS|AUTHORIZED_FETCH|TRUSTED_PROXY_IP|NODE_TEST_CONTEXT|NODE_OPTIONS)$/;

export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!ISLET_VARIABLES.test(name)) base[name] = value;
  }
  return { ...base, ...env };
}

export interface Child {
  process: ChildProcess;
  pid: number;
  /** The last 64 KiB of stdout and stderr together. */
  output(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const TAIL = 64 * 1024;

/** Starts `node <args>` with the Node running this script. */
export function startNode(args: string[], env: Record<string, string>, options: SpawnOptions = {}): Child {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
    ...options,
  });
  if (child.pid == null) throw new Error(`could not start node ${args.join(" ")}`);
  live.add(child);
  let output = "";
  let stdout = "";
  const keep = (text: string) => {
    output += text;
    if (output.length > TAIL * 2) output = output.slice(-TAIL);
  };
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => {
    keep(d);
    if (stdout.length < 16 * 1024 * 1024) stdout += d;
  });
  child.stderr!.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.on("error", () => {
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const alive = () => child.exitCode == null && child.signalCode == null && live.has(child);
  return {
    process: child,
    pid: child.pid,
    output: () => output.slice(-TAIL),
    stdout: () => stdout,
    exited,
    alive,
    async stop(graceMs = 10_000) {
      if (alive()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => {
          if (alive()) child.kill("SIGKILL");
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      return await exited;
    },
  };
}

/** Kills whatever is still running, at once. Safe to call from an exit handler. */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
}
