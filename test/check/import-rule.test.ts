/**
 * The import rule (.dependency-cruiser.cjs) catches what it is meant to: run
 * the way `npm run check` runs it, on a small tree of modules laid out like
 * src/ where each break is one import, and on the project itself, which
 * keeps to it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface Violation {
  rule: string;
  from: string;
  to: string;
}

function run(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error == null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

/** The command `npm run check:imports` runs, with the project's rule file, on `paths` under `cwd`. */
function cruiseArgs(paths: string[], outputType: "err" | "json"): string[] {
  return [
    "--import", join(ROOT, "scripts/import-rule/register.js"),
    join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruiser.mjs"),
    "--config", join(ROOT, ".dependency-cruiser.cjs"),
    "--output-type", outputType,
    ...paths,
  ];
}

/** The violations found in `paths` under `cwd`, and the local modules read. */
async function cruise(cwd: string, paths: string[]): Promise<{ errors: number; violations: Violation[]; modules: string[] }> {
  const { stdout, stderr } = await run(cwd, cruiseArgs(paths, "json"));
  let result: {
    modules: { source: string }[];
    summary: { error: number; violations: { rule: { name: string }; from: string; to: string }[] };
  };
  try {
    result = JSON.parse(stdout);
  } catch {
    throw new Error(`dependency-cruiser gave no result: ${stderr}`);
  }
  return {
    errors: result.summary.error,
    modules: result.modules.map((m) => m.source).filter((source) => !source.includes("node_modules")),
    violations: result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to })),
  };
}

/** Writes files (path -> source) under a fresh directory. */
function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "import-rule-fixture-"));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  // Packages resolve as in the project (drizzle-orm for the query-builder rule).
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  return dir;
}

/** A tree that keeps to the rule: the allowed directions, type-only row imports included. */
const GOOD: Record<string, string> = {
  "src/config.ts": `export interface Config { origin: string }\n`,
  "src/text/escape-html.ts": `export function escapeHtml(s: string): string { return s; }\n`,
  "src/db/schema.ts": `export const statuses = { name: "statuses" };\nexport const accounts = { name: "accounts" };\n`,
  "src/db/errors.ts": `export function isDatabaseUnavailable(error: unknown): boolean { return error == null; }\n`,
  "src/db/connect.ts": `import * as schema from "./schema.ts";\nimport type { Config } from "../config.ts";\nexport const db = { schema, origin: null as Config | null };\n`,
  "src/core/statuses.ts":
    `import { statuses } from "../db/schema.ts";\nimport { db } from "../db/connect.ts";\nimport { escapeHtml } from "../text/escape-html.ts";\n` +
    `export function listStatuses() { return [db, statuses, escapeHtml("")]; }\n`,
  "src/api/statuses.ts":
    `import type { statuses } from "../db/schema.ts";\nimport type { SQL } from "drizzle-orm";\nimport { isDatabaseUnavailable } from "../db/errors.ts";\n` +
    `import { listStatuses } from "../core/statuses.ts";\n` +
    `export type Row = typeof statuses;\nexport type Where = SQL;\nexport function route() { return [listStatuses(), isDatabaseUnavailable(null)]; }\n`,
  "src/federation/inbox.ts": `import { listStatuses } from "../core/statuses.ts";\nexport function inbox() { return listStatuses(); }\n`,
  "src/server.ts": `import { route } from "./api/statuses.ts";\nimport { inbox } from "./federation/inbox.ts";\nexport const app = [route, inbox];\n`,
};

describe("the import rule", () => {
  const dirs: string[] = [];
  const fixture = (extra: Record<string, string>): string => {
    const dir = writeTree({ ...GOOD, ...extra });
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("a tree that keeps to it passes, type-only row imports in the API included", async () => {
    const result = await cruise(fixture({}), ["src"]);
    assert.deepEqual(result.violations, []);
    assert.equal(result.errors, 0);
    assert.deepEqual(result.modules.sort(), Object.keys(GOOD).sort(), "every module of the fixture is read (TypeScript parsed)");
  });

  test("the command exits non-zero on a break and names the rule and the import", async () => {
    const dir = fixture({ "src/core/bad.ts": `import { route } from "../api/statuses.ts";\nexport const x = route;\n` });
    const failed = await run(dir, cruiseArgs(["src"], "err"));
    assert.notEqual(failed.code, 0);
    assert.match(failed.stdout, /error core-imports-down: src\/core\/bad\.ts → src\/api\/statuses\.ts/);
    const passed = await run(fixture({}), cruiseArgs(["src"], "err"));
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  });

  const breaks: { what: string; files: Record<string, string>; rule: string; from: string; to: string }[] = [
    {
      what: "the core importing the API",
      files: { "src/core/imports-api.ts": `import { route } from "../api/statuses.ts";\nexport const x = route;\n` },
      rule: "core-imports-down",
      from: "src/core/imports-api.ts",
      to: "src/api/statuses.ts",
    },
    {
      what: "the core importing only a type from federation",
      files: { "src/core/imports-federation-type.ts": `import type { inbox } from "../federation/inbox.ts";\nexport type X = typeof inbox;\n` },
      rule: "core-imports-down",
      from: "src/core/imports-federation-type.ts",
      to: "src/federation/inbox.ts",
    },
    {
      what: "the API importing a table (a value) from the schema",
      files: { "src/api/imports-table.ts": `import { accounts } from "../db/schema.ts";\nexport const x = accounts;\n` },
      rule: "api-web-row-types-only",
      from: "src/api/imports-table.ts",
      to: "src/db/schema.ts",
    },
    {
      what: "a web page importing the connection",
      files: { "src/web/imports-connection.ts": `import type { db } from "../db/connect.ts";\nexport type X = typeof db;\n` },
      rule: "api-web-no-db-modules",
      from: "src/web/imports-connection.ts",
      to: "src/db/connect.ts",
    },
    {
      what: "the API building a query",
      files: { "src/api/builds-query.ts": `import { eq } from "drizzle-orm";\nexport const x = eq;\n` },
      rule: "api-web-no-query-builder",
      from: "src/api/builds-query.ts",
      to: "node_modules/drizzle-orm/index.cjs",
    },
    {
      what: "the API importing federation",
      files: { "src/api/imports-federation.ts": `import { inbox } from "../federation/inbox.ts";\nexport const x = inbox;\n` },
      rule: "api-web-not-federation",
      from: "src/api/imports-federation.ts",
      to: "src/federation/inbox.ts",
    },
    {
      what: "the database importing the core",
      files: { "src/db/imports-core.ts": `import { listStatuses } from "../core/statuses.ts";\nexport const x = listStatuses;\n` },
      rule: "db-at-the-bottom",
      from: "src/db/imports-core.ts",
      to: "src/core/statuses.ts",
    },
    {
      what: "mail (a reaction) importing the API",
      files: { "src/mail/imports-api.ts": `import { route } from "../api/statuses.ts";\nexport const x = route;\n` },
      rule: "reactions-below-doors",
      from: "src/mail/imports-api.ts",
      to: "src/api/statuses.ts",
    },
    {
      what: "a leaf (text) importing the core",
      files: { "src/text/imports-core.ts": `import { listStatuses } from "../core/statuses.ts";\nexport const x = listStatuses;\n` },
      rule: "leaves-import-leaves",
      from: "src/text/imports-core.ts",
      to: "src/core/statuses.ts",
    },
    {
      what: "a circle of two core modules, one side type-only",
      files: {
        "src/core/a.ts": `import type { B } from "./b.ts";\nexport interface A { b: B }\nexport const a = 1;\n`,
        "src/core/b.ts": `import { a } from "./a.ts";\nexport interface B { n: number }\nexport const b = a;\n`,
      },
      rule: "no-circular",
      from: "src/core/a.ts",
      to: "src/core/b.ts",
    },
  ];

  describe("each break, in one tree", () => {
    let result: Awaited<ReturnType<typeof cruise>>;
    const badFiles = new Set(breaks.flatMap((broken) => Object.keys(broken.files)));
    before(async () => {
      result = await cruise(fixture(Object.assign({}, ...breaks.map((broken) => broken.files))), ["src"]);
    });

    for (const broken of breaks) {
      test(`${broken.what} fails the check`, () => {
        const found = result.violations.find((v) => v.rule === broken.rule && v.from === broken.from);
        assert.ok(found != null, `${broken.rule} names ${broken.from}: ${JSON.stringify(result.violations)}`);
        assert.ok(found.to.endsWith(broken.to), `${found.to} is ${broken.to}`);
      });
    }

    test("nothing else is flagged", () => {
      assert.ok(result.errors > 0);
      assert.deepEqual(result.violations.filter((v) => !badFiles.has(v.from)), []);
    });
  });
});

describe("the project", () => {
  let result: Awaited<ReturnType<typeof cruise>>;
  before(async () => {
    result = await cruise(ROOT, ["src", "bench", "bin", "scripts"]);
  });

  test("keeps to the import rule", () => {
    assert.deepEqual(result.violations, []);
    assert.equal(result.errors, 0);
  });

  test("is read whole: its TypeScript is parsed", () => {
    for (const module of ["src/core/context.ts", "src/api/index.ts", "src/db/schema.ts", "bench/run.ts", "bin/islet.js"]) {
      assert.ok(result.modules.includes(module), module);
    }
  });
});
