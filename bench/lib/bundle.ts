/**
 * The esbuild bundle the server runs from. bin/islet.js falls back to the
 * TypeScript sources when any file under src/ is newer than dist/islet.js,
 * which would make a very different server; since others may edit src/ while
 * the benchmark runs, check before each start and rebuild when stale.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startNode } from "./children.ts";

const BUNDLE = join(ROOT, "dist", "islet.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

/** True when bin/islet.js would run the bundle (the same test it makes). */
export function bundleIsFresh(): boolean {
  return existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= newestMtime(join(ROOT, "src"));
}

/** Runs scripts/build.js (esbuild) in a child; resolves in milliseconds taken. */
export async function buildBundle(): Promise<number> {
  const begin = performance.now();
  const child = startNode(["scripts/build.js"], {});
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`scripts/build.js failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);
  if (!bundleIsFresh()) throw new Error("scripts/build.js ran, but dist/islet.js is still older than src/");
  return performance.now() - begin;
}

/** Rebuilds if src/ changed since the last build; says why, or null if fresh. */
export async function ensureFreshBundle(): Promise<string | null> {
  if (bundleIsFresh()) return null;
  await buildBundle();
  return "src/ changed during the run, so the bundle was rebuilt";
}
