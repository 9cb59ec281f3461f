/**
 * Shared pieces of the admin command tests: the environment a command gets
 * for a throwaway database, an open core on the same data, and the check
 * that a failure is one plain line.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { loadConfig } from "../../src/config.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { openCore } from "../../src/islet.ts";
import { createLogger } from "../../src/log.ts";
import type { TestDatabase } from "../helpers/database.ts";

export type Env = Record<string, string | undefined>;

/** The environment of a command run on `database`. */
export function envFor(database: Pick<TestDatabase, "dataDir" | "databaseUrl">, extra: Env = {}): Env {
  return { DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? undefined, PORT: "3000", LOG_LEVEL: "error", ...extra };
}

/** Opens the core on the data of `env` (no server), runs `fn`, closes it. */
export async function withCore<T>(env: Env, fn: (core: CoreContext) => Promise<T>): Promise<T> {
  const config = loadConfig(Object.fromEntries(Object.entries(env).filter(([, v]) => v != null)) as Record<string, string>);
  const opened = await openCore(config, { log: createLogger("error") });
  try {
    return await fn(opened.core);
  } finally {
    await opened.close();
  }
}

/** A failure is one line on stderr, prefixed `islet:`, and exit status 1. */
export function assertPlainFailure(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(result.code, 1, `expected exit 1, got ${result.code}: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, /^islet: /);
  assert.match(lines[0]!, pattern);
}

/** Every file below `dir` as path → bytes (empty when it does not exist). */
export function filesBelow(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const visit = (path: string) => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) visit(full);
      else files.set(relative(dir, full), readFileSync(full));
    }
  };
  visit(dir);
  return files;
}

/**
 * Runs `islet ARGS` on a real terminal (a pseudo-terminal made by
 * util-linux `script`), typing `answer` once `prompt` appears. Null when
 * `script` is not installed.
 */
export async function runOnTerminal(args: string[], env: Env, prompt: RegExp, answer: string): Promise<{ code: number | null; output: string } | null> {
  const { spawn } = await import("node:child_process");
  const { childEnv, ROOT } = await import("../helpers/cli.ts");
  if (!terminalAvailable()) return null;
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, join(ROOT, "bin", "islet.js"), ...args].map(quote).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], { env: childEnv(env), cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let answered = false;
  const onData = (data: Buffer) => {
    output += String(data);
    if (!answered && prompt.test(output)) {
      answered = true;
      child.stdin.write(`${answer}\r`);
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, output };
}

/** Whether util-linux `script` is there to make a pseudo-terminal. */
export function terminalAvailable(): boolean {
  return spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
}
