/**
 * The import rule (see "Layout" in README.md): arrows point down only.
 *
 *   src/main.ts, src/cli/, src/server.ts, src/islet.ts      start and wire everything
 *   src/api/, src/web/, src/federation/, src/streaming/     the doors: translate into core calls
 *   src/mail/, src/push/                                    reactions to core events
 *   src/core/                                               the rules; emits events
 *   src/media/, src/db/                                     files and rows
 *   src/config.ts, src/log.ts, src/version.ts,
 *   src/text/, src/net/                                     leaves, importable by all
 *
 * Checked by `npm run check` (scripts/import-rule/register.js lets
 * dependency-cruiser read TypeScript 7.0; see there). A rule names the
 * dependency types it forbids only where type-only imports are allowed.
 */

/** The start-up and wiring modules at the top of the tree. */
const TOP = "^src/(cli/|main\\.ts$|server\\.ts$|islet\\.ts$|slow-requests\\.ts$|unix-socket\\.ts$)";
const DOORS = "^src/(api|web|federation|streaming)/";
const REACTIONS = "^src/(mail|push)/";
const LEAVES = "^src/(text/|net/|config\\.ts$|log\\.ts$|version\\.ts$)";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import circles, type-only imports included: a circle means two modules are one, or one is in the wrong place.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-imports-down",
      comment:
        "src/core holds the rules and imports nothing above it: not the doors, not the reactions (they subscribe to core " +
        "events; no core function calls them), not cli/server. What core needs from federation it gets through " +
        "CoreContext (core.remote), which federation fills when it starts.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: [DOORS, REACTIONS, TOP] },
    },
    {
      name: "api-web-no-db-modules",
      comment:
        "src/api and src/web run no queries (queries live in src/core): from src/db they may import row types from " +
        "schema.ts (see the next rule) and the driver-error classifier errors.ts (no table, no connection), nothing else.",
      severity: "error",
      from: { path: "^src/(api|web)/" },
      to: { path: "^src/db/", pathNot: "^src/db/(schema|errors)\\.ts$" },
    },
    {
      name: "api-web-row-types-only",
      comment: "src/api and src/web take row types from src/db/schema.ts with `import type`; a value import is a table, hence a query.",
      severity: "error",
      from: { path: "^src/(api|web)/" },
      to: { path: "^src/db/schema\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "api-web-no-query-builder",
      comment: "src/api and src/web build no queries: drizzle-orm only for types.",
      severity: "error",
      from: { path: "^src/(api|web)/" },
      to: { path: "(^|/)node_modules/drizzle-orm/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "api-web-not-federation",
      comment:
        "src/api and src/web reach other servers through a core function or core.remote (look-ups, fetching replies), " +
        "never by importing src/federation.",
      severity: "error",
      from: { path: "^src/(api|web)/" },
      to: { path: "^src/federation/" },
    },
    {
      name: "federation-not-other-doors",
      comment: "src/federation translates activities into core calls; it imports no other door (api, web, streaming) and nothing at the top.",
      severity: "error",
      from: { path: "^src/federation/" },
      to: { path: ["^src/(api|web|streaming)/", TOP] },
    },
    {
      name: "streaming-not-federation-or-web",
      comment:
        "src/streaming sends the Mastodon API's entities (so it may import src/api's serialisers and token check), " +
        "but not federation, the web pages or the top.",
      severity: "error",
      from: { path: "^src/streaming/" },
      to: { path: ["^src/(federation|web)/", TOP] },
    },
    {
      name: "reactions-below-doors",
      comment:
        "src/mail and src/push react to core events with core, db and media; the doors call into them (push " +
        "subscriptions), never the other way round.",
      severity: "error",
      from: { path: REACTIONS },
      to: { path: [DOORS, TOP] },
    },
    {
      name: "media-below-doors",
      comment:
        "src/media stores and processes files for core (core -> media), and its remote cache and proxy use core's " +
        "rules; it imports no door, no reaction and nothing at the top.",
      severity: "error",
      from: { path: "^src/media/" },
      to: { path: [DOORS, REACTIONS, TOP] },
    },
    {
      name: "db-at-the-bottom",
      comment: "src/db imports nothing above it: only the leaves (config, log, version, text, net).",
      severity: "error",
      from: { path: "^src/db/" },
      to: { path: "^src/", pathNot: ["^src/db/", LEAVES] },
    },
    {
      name: "leaves-import-leaves",
      comment: "config, log, version, text (escaping, sanitising) and net (the guarded fetcher) are importable by all, so they import only each other.",
      severity: "error",
      from: { path: LEAVES },
      to: { path: "^src/", pathNot: LEAVES },
    },
    {
      name: "src-not-tooling",
      comment: "The product does not import the benchmark, the tests or the build scripts.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(bench|test|scripts)/" },
    },
  ],
  options: {
    doNotFollow: { path: "(^|/)node_modules/" },
    // Type-only imports are kept and marked "type-only", so the rules above can tell them apart.
    tsPreCompilationDeps: true,
    moduleSystems: ["es6", "cjs"],
    enhancedResolveOptions: {
      extensions: [".ts", ".js", ".cjs", ".mjs", ".json"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
