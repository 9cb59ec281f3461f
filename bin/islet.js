#!/usr/bin/env node
// The `islet` command. Runs the esbuild bundle when it is up to date with the
// sources (faster start, less memory), and the TypeScript sources otherwise.
import "../scripts/require-node.js";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundle = join(root, "dist", "islet.js");

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

const useBundle = existsSync(bundle) && process.env.ISLET_FROM_SOURCE !== "1" &&
  statSync(bundle).mtimeMs >= newestSource(join(root, "src"));
const entry = useBundle ? bundle : join(root, "src", "main.ts");
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv.slice(2));
