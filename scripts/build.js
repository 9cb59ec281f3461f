// Bundles the server into dist/islet.js with esbuild: importing Drizzle and
// Fedify as many small ESM files costs Node far more start-up time and
// memory than one bundle. PGlite stays external (it loads its WASM and data
// files relative to its own package).
import "./require-node.js";
import { build } from "esbuild";
import { patchDependencies } from "./patch-dependencies.js";
import { copyFileSync, cpSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { bundleIsFresh } from "./bundle-state.js";

// `--if-stale` (npm start): nothing to do when the bundle is up to date.
if (process.argv.includes("--if-stale") && bundleIsFresh()) process.exit(0);

// postgres stays external: its fixes must be in node_modules at run time.
patchDependencies();

// Build beside dist/ and swap it in, so a server starting meanwhile never
// sees half a bundle.
const staging = `dist.${process.pid}`;
rmSync(staging, { recursive: true, force: true });
await build({
  entryPoints: ["src/main.ts"],
  outfile: `${staging}/islet.js`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  sourcemap: "linked",
  external: ["@electric-sql/pglite", "postgres"],
  banner: {
    // Some bundled CommonJS dependencies call require().
    js: "import { createRequire as __isletRequire } from 'node:module'; const require = __isletRequire(import.meta.url);",
  },
  logLevel: "warning",
});
cpSync("src/db/migrations", `${staging}/migrations`, { recursive: true });
await buildPgliteTemplate();
rmSync("dist", { recursive: true, force: true });
renameSync(staging, "dist");

/**
 * The migrated embedded database a first start unpacks instead of running
 * initdb (src/db/pglite-template.ts). Made again only when the migrations
 * changed; a failure costs the first start its speed, not the build.
 */
async function buildPgliteTemplate() {
  const { migrationsKey, saveTemplate, TEMPLATE_FILE } = await import("../src/db/pglite-template.ts");
  const key = migrationsKey(`${staging}/migrations`);
  const keyFile = "dist/pglite-template.key";
  if (existsSync(`dist/${TEMPLATE_FILE}`) && existsSync(keyFile) && readFileSync(keyFile, "utf8").trim() === key) {
    copyFileSync(`dist/${TEMPLATE_FILE}`, `${staging}/${TEMPLATE_FILE}`);
    copyFileSync(keyFile, `${staging}/pglite-template.key`);
    return;
  }
  try {
    const { migratedPgliteArchive } = await import("../src/db/connect.ts");
    await saveTemplate(staging, await migratedPgliteArchive("gzip"), `${staging}/migrations`);
  } catch (error) {
    console.warn(`islet build: no prepared embedded database (${error.message}); a first start will initialise one`);
  }
}
