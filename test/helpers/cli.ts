/** Runs the real `islet` command in child processes. */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "bin", "islet.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment a child gets: none of this process's Islet settings. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(LOCAL_DOMAIN|WEB_DOMAIN|PORT|BIND|DATA_DIR|DATABASE_URL|SECRET_KEY_BASE|STREAMING_PORT|CREDENTIALS_DIRECTORY|LOG_LEVEL|NODE_TEST_CONTEXT|ISLET_ADMIN_COMMAND)$/.test(name)) {
      base[name] = value;
    }
  }
  return { ...base, ISLET_FROM_SOURCE: "1", ...env };
}

export async function runIslet(args: string[], options: { env?: Record<string, string | undefined>; input?: string; fromSource?: boolean } = {}): Promise<CliResult> {
  const env = childEnv(options.env ?? {});
  if (options.fromSource === false) delete env.ISLET_FROM_SOURCE;
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(options.input ?? "");
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `islet serve`; resolves once it says it is running. */
export async function startServerProcess(env: Record<string, string | undefined>, args: string[] = [], fromSource = true): Promise<ServerProcess> {
  const childEnvironment = childEnv(env);
  if (!fromSource) delete childEnvironment.ISLET_FROM_SOURCE;
  const child = spawn(process.execPath, [BIN, "serve", ...args], { env: childEnvironment, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`islet serve did not start in time:\n${output}`)), 60_000);
    const check = () => {
      if (/running/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`islet serve exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    exited,
    async kill(signal = "SIGTERM") {
      if (child.exitCode == null && child.signalCode == null) {
        child.kill(signal);
        await exited;
      }
    },
  };
}
