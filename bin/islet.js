#!/usr/bin/env node
// The `islet` command. Runs the esbuild bundle when it is up to date with the
// sources (faster start, less memory), and the TypeScript sources otherwise.
import "../scripts/require-node.js";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleIsFresh, bundlePath, root } from "../scripts/bundle-state.js";

const useBundle = process.env.ISLET_FROM_SOURCE !== "1" && bundleIsFresh();
const entry = useBundle ? bundlePath : join(root, "src", "main.ts");
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv.slice(2));
