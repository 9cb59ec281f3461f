// dependency-cruiser reads TypeScript through one small facade
// (dependency-cruiser/src/utl/typescript-facade.mjs) that knows the classic
// compiler (< 7) and the native one from 7.1 on. TypeScript 7.0, which this
// project type-checks with, has its program API only under
// `typescript/unstable/*` and cannot parse a lone source text, so
// dependency-cruiser finds no compiler and skips every .ts file. This module
// is the same facade for 7.0: it opens programs over the directories being
// cruised (JavaScript included) and hands dependency-cruiser the native
// compiler's syntax tree of each file, which has the shape its extractor
// reads (import clauses with `isTypeOnly`, module specifiers, ...).
// `register.js` puts it in place of dependency-cruiser's own. Once TypeScript
// is 7.1 or newer, delete both and run `depcruise` directly in package.json.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { API, ModuleKind } from "typescript/unstable/sync";
import { NodeFlags, ScriptTarget, SyntaxKind } from "typescript/unstable/ast";

const require = createRequire(import.meta.url);
const { version } = require("typescript/package.json");

const api = new API({ cwd: process.cwd() });
const configDirectory = mkdtempSync(join(tmpdir(), "import-rule-"));
process.on("exit", () => rmSync(configDirectory, { recursive: true, force: true }));

/** @type {Array<{ getSourceFile(name: string): any }>} */
const programs = [];
let projects = 0;

/** Opens a program over `include` (absolute globs or files), JavaScript too. */
function openProgram(include) {
  const configFile = join(configDirectory, `tsconfig.${projects++}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      compilerOptions: {
        allowJs: true,
        checkJs: false,
        noEmit: true,
        allowImportingTsExtensions: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2024",
        types: [],
        noResolve: true,
      },
      include,
      exclude: [join(process.cwd(), "node_modules")],
    }),
  );
  const snapshot = api.updateSnapshot({ openProjects: [configFile] });
  const program = snapshot.getProject(configFile)?.program;
  if (program) programs.push(program);
}

function sourceFile(fileName) {
  const absolute = resolve(fileName);
  for (const program of programs) {
    const found = program.getSourceFile(absolute);
    if (found) return found;
  }
  return undefined;
}

/**
 * The syntax tree of `fileName` (its text on disk, which is what
 * dependency-cruiser passes). The first file asked for from a top-level
 * directory opens a program over that whole directory, so a cruise of
 * `src bench bin scripts` parses in four programs; a file elsewhere is
 * parsed alone.
 */
function createSourceFile(fileName) {
  const absolute = resolve(fileName);
  let found = sourceFile(absolute);
  if (!found) {
    const [top, ...rest] = relative(process.cwd(), absolute).split(sep);
    const inTopDirectory = rest.length > 0 && top !== ".." && top !== "node_modules" && !isAbsolute(top);
    openProgram([inTopDirectory ? join(process.cwd(), top, "**", "*") : absolute]);
    found = sourceFile(absolute);
  }
  if (!found) {
    openProgram([absolute]);
    found = sourceFile(absolute);
  }
  if (!found) throw new Error(`TypeScript did not parse ${fileName}`);
  return found;
}

function unsupported(name) {
  return () => {
    throw new Error(`${name} is not available with TypeScript ${version}; cruise with tsPreCompilationDeps and without tsConfig`);
  };
}

export default {
  isNative: true,
  version,
  SyntaxKind,
  ScriptTarget,
  ModuleKind,
  JsxEmit: { None: 0, Preserve: 1, React: 2, ReactNative: 3, ReactJSX: 4, ReactJSXDev: 5 },
  forEachChild: (node, callback) => {
    node.forEachChild?.(callback);
  },
  // eslint-disable-next-line no-bitwise
  isReparsed: (node) => ((node.flags ?? 0) & NodeFlags.Reparsed) !== 0,
  createSourceFile,
  transpileModule: unsupported("transpileModule"),
  readConfigFile: unsupported("readConfigFile"),
  parseJsonConfigFileContent: unsupported("parseJsonConfigFileContent"),
  formatDiagnostics: unsupported("formatDiagnostics"),
};
