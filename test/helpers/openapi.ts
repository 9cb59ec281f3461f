/**
 * Contract checks against the community OpenAPI description of the Mastodon
 * API, kept outside the project at `<repo>/../shared/mastodon-openapi`.
 *
 * `openApiSchema()` is null when that file is absent, so a test can skip:
 *
 *     test("…", { skip: !schema && "../shared/mastodon-openapi absent" }, …)
 *
 * It then prints one `SKIPPED:` line saying that the contract checks do not
 * run. Under CI (CI set) the file must be there: `openApiSchema()` throws,
 * so that the run fails rather than passing without the checks.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { announceSkip } from "./skip.ts";

/** The project root: two levels above this file (test/helpers). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the description is looked for. */
export const OPENAPI_SCHEMA_PATH = join(REPO_ROOT, "..", "shared", "mastodon-openapi", "schema.json");

const SCHEMA_ID = "https://islet.test/mastodon-openapi.json";

export interface OpenApiSchema {
  /** Names of the component schemas (`Account`, `Instance`, …). */
  readonly names: readonly string[];
  /** Checks `value` against the named component schema. */
  validate(name: string, value: unknown): ValidationResult;
}

export interface ValidationResult {
  valid: boolean;
  /** One readable line per problem, such as `/contact/email: must match format "email"`. */
  errors: string[];
}

let loaded: OpenApiSchema | null | undefined;
let ajvInstance: InstanceType<typeof Ajv2020> | undefined;

/** The validator holding the whole description (after openApiSchema()). */
function sharedAjv(): InstanceType<typeof Ajv2020> {
  if (ajvInstance == null) throw new Error("openApiSchema() was not loaded");
  return ajvInstance;
}

/** The Mastodon API description, or null when the file is not there. */
export function openApiSchema(): OpenApiSchema | null {
  if (loaded !== undefined) return loaded;
  if (!existsSync(OPENAPI_SCHEMA_PATH)) {
    // The description lives outside the project: its absence is said, not failed.
    announceSkip(`the Mastodon OpenAPI contract checks in this file do not run: ${OPENAPI_SCHEMA_PATH} not found`);
    loaded = null;
    return loaded;
  }
  const document = JSON.parse(readFileSync(OPENAPI_SCHEMA_PATH, "utf8")) as {
    components?: { schemas?: Record<string, unknown> };
  };
  const schemas = document.components?.schemas ?? {};
  // Status.quote is described as oneOf Quote / ShallowQuote / null, but the
  // two differ only in optional properties, so every quote (Mastodon's own
  // too) matches both and oneOf fails: it is read as anyOf.
  const quote = (schemas.Status as { properties?: Record<string, Record<string, unknown>> } | undefined)?.properties?.quote;
  if (quote?.oneOf != null) {
    quote.anyOf = quote.oneOf;
    delete quote.oneOf;
  }

  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
  // ajv-formats' default export is the plugin function (CommonJS); its
  // `default` property is the same function, and what the types describe.
  formats.default(ajv);
  // Formats the description uses beyond JSON Schema's own: accept any string.
  for (const name of ["iso-639-1", "scopes", "binary"]) ajv.addFormat(name, true);
  // OpenAPI's own words, at the top of the document and as annotations
  // inside the schemas, are not JSON Schema keywords: declare them (without
  // validation) so that strict mode accepts them.
  const openApiWords = new Set([...Object.keys(document), "example", "externalDocs", "discriminator", "xml"]);
  for (const keyword of openApiWords) {
    if (!keyword.startsWith("$") && ajv.getKeyword(keyword) === false) ajv.addKeyword(keyword);
  }
  // The components refer to each other as `#/components/schemas/X`, so the
  // whole document goes in under one $id and each check is a $ref into it.
  ajv.addSchema({ ...document, $id: SCHEMA_ID });
  ajvInstance = ajv;

  const compiled = new Map<string, ValidateFunction>();
  loaded = {
    names: Object.keys(schemas),
    validate(name, value) {
      if (!(name in schemas)) throw new Error(`the Mastodon OpenAPI description has no schema ${JSON.stringify(name)}`);
      let check = compiled.get(name);
      if (check == null) {
        check = ajv.compile({ $ref: `${SCHEMA_ID}#/components/schemas/${name}` });
        compiled.set(name, check);
      }
      const valid = check(value);
      return { valid, errors: valid ? [] : describeErrors(check.errors ?? []) };
    },
  };
  return loaded;
}

function describeErrors(errors: readonly ErrorObject[]): string[] {
  return errors.map((error) => {
    const where = error.instancePath === "" ? "(root)" : error.instancePath;
    const extra = error.keyword === "additionalProperties"
      ? ` (${String((error.params as { additionalProperty?: unknown }).additionalProperty)})`
      : error.keyword === "enum"
        ? ` (${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)})`
        : "";
    return `${where}: ${error.message ?? error.keyword}${extra} [${error.schemaPath}]`;
  });
}

/**
 * Fails with every problem listed when `value` does not match the named
 * schema. Call only when {@link openApiSchema} returned a description.
 */
export function assertMatchesSchema(name: string, value: unknown): void {
  const schema = openApiSchema();
  if (schema == null) throw new Error(`${OPENAPI_SCHEMA_PATH} is absent; skip the test instead`);
  const result = schema.validate(name, value);
  if (!result.valid) {
    throw new Error(`the response does not match the Mastodon ${name} schema:\n  ${result.errors.join("\n  ")}`);
  }
}

interface Operation {
  template: RegExp;
  method: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

let operations: Operation[] | undefined;

/**
 * Checks a JSON response against what the description says the operation
 * answers with that status. Returns the problems, or null when the
 * description has no JSON schema for that operation and status.
 */
export function validateResponse(method: string, path: string, status: number, body: unknown): string[] | null {
  if (openApiSchema() == null) throw new Error(`${OPENAPI_SCHEMA_PATH} is absent; skip the test instead`);
  if (operations === undefined) {
    const document = JSON.parse(readFileSync(OPENAPI_SCHEMA_PATH, "utf8")) as { paths: Record<string, Record<string, Operation["responses"] | unknown>> };
    operations = [];
    for (const [template, item] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}/?$`);
      for (const [verb, operation] of Object.entries(item)) {
        const responses = (operation as { responses?: Operation["responses"] }).responses;
        if (responses != null) operations.push({ template: pattern, method: verb.toUpperCase(), responses });
      }
    }
    // Literal paths first, so /api/v1/accounts/relationships beats /api/v1/accounts/{id}.
    operations.sort((a, b) => (a.template.source.match(/\[\^\/\]\+/g)?.length ?? 0) - (b.template.source.match(/\[\^\/\]\+/g)?.length ?? 0));
  }
  const bare = path.split("?")[0];
  const operation = operations.find((op) => op.method === method.toUpperCase() && op.template.test(bare));
  const schema = operation?.responses[String(status)]?.content?.["application/json"]?.schema;
  if (schema == null) return null;
  const check = compileResponseSchema(schema);
  const valid = check(body);
  return valid ? [] : describeErrors(check.errors ?? []);
}

const responseChecks = new Map<string, ValidateFunction>();

function compileResponseSchema(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  let check = responseChecks.get(key);
  if (check == null) {
    // Local refs point into the whole document, registered under SCHEMA_ID.
    const rewritten = JSON.parse(key.replace(/"#\/components\//g, `"${SCHEMA_ID}#/components/`));
    check = sharedAjv().compile(rewritten);
    responseChecks.set(key, check);
  }
  return check;
}
