/**
 * Request parameters as Mastodon takes them: query string, form, multipart
 * or JSON, with Rails-style brackets (`media_ids[]`, `poll[options][]`,
 * `fields_attributes[0][name]`) turned into nested values. The readers check
 * types and answer bad input with 422 `{"error": ...}`.
 */
import type { Context } from "hono";
import { parseId } from "../core/ids.ts";
import { ApiError, unprocessable } from "./errors.ts";

export type Params = Record<string, unknown>;

/**
 * Puts `value` at the bracketed `key` path inside `target`, as Rails reads
 * form fields: `a[]` appends; in `a[][b]` a new item starts when the last
 * one already has `b`.
 */
function assign(target: Params, key: string, value: unknown): void {
  const parts = key.replace(/\]/g, "").split("[");
  let node: Record<string, unknown> = target;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (last) {
      const existing = node[part];
      if (Array.isArray(existing)) existing.push(value);
      else node[part] = value;
      return;
    }
    if (parts[i + 1] === "") {
      if (!Array.isArray(node[part])) node[part] = [];
      const list = node[part] as unknown[];
      if (i + 1 === parts.length - 1) {
        list.push(value);
        return;
      }
      // `a[][b]...`: continue in the last item unless it has `b` already.
      const next = parts[i + 2];
      let item = list.at(-1) as Record<string, unknown> | undefined;
      if (item == null || typeof item !== "object" || (i + 2 === parts.length - 1 && next in item)) {
        item = {};
        list.push(item);
      }
      node = item;
      i++;
      continue;
    }
    if (node[part] == null || typeof node[part] !== "object") node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
}

export function nest(entries: Iterable<[string, unknown]>): Params {
  const result: Params = {};
  for (const [key, value] of entries) assign(result, key, value);
  return result;
}

/** The query parameters, nested. */
export function queryParams(c: Context): Params {
  return nest(new URL(c.req.url).searchParams.entries());
}

/** The body (JSON, form or multipart) merged over the query, nested. */
export async function bodyParams(c: Context): Promise<Params> {
  const query = queryParams(c);
  const type = (c.req.header("Content-Type") ?? "").toLowerCase();
  if (type.includes("application/json")) {
    let body: unknown;
    try {
      const text = await c.req.text();
      body = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      throw new ApiError(400, "The request body is not valid JSON");
    }
    if (body == null || typeof body !== "object" || Array.isArray(body)) throw new ApiError(422, "The request body must be a JSON object");
    return { ...query, ...(body as Params) };
  }
  if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    let form: FormData;
    try {
      form = await c.req.formData();
    } catch {
      throw new ApiError(400, "The request body could not be read as a form");
    }
    return { ...query, ...nest(form.entries()) };
  }
  return query;
}

type Reader<T> = (params: Params, name: string) => T;

function present(params: Params, name: string): unknown {
  const value = params[name];
  return value === "" ? undefined : value;
}

export const read = {
  string(params: Params, name: string, options: { max?: number; required?: boolean } = {}): string | undefined {
    const value = params[name];
    if (value == null) {
      if (options.required) throw unprocessable(`${name} is missing`);
      return undefined;
    }
    if (typeof value !== "string") throw unprocessable(`${name} must be a string`);
    if (options.max != null && [...value].length > options.max) throw unprocessable(`${name} is too long (maximum is ${options.max} characters)`);
    if (options.required && value.trim() === "") throw unprocessable(`${name} can't be blank`);
    return value;
  },

  boolean(params: Params, name: string): boolean | undefined {
    const value = present(params, name);
    if (value == null) return undefined;
    if (typeof value === "boolean") return value;
    if (typeof value === "number") return value !== 0;
    if (typeof value === "string") {
      const v = value.toLowerCase();
      if (["true", "1", "on", "t", "yes"].includes(v)) return true;
      if (["false", "0", "off", "f", "no"].includes(v)) return false;
    }
    throw unprocessable(`${name} must be true or false`);
  },

  integer(params: Params, name: string, options: { min?: number; max?: number } = {}): number | undefined {
    const value = present(params, name);
    if (value == null) return undefined;
    const number = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isInteger(number)) throw unprocessable(`${name} must be a whole number`);
    if (options.min != null && number < options.min) throw unprocessable(`${name} must be at least ${options.min}`);
    if (options.max != null && number > options.max) throw unprocessable(`${name} must be at most ${options.max}`);
    return number;
  },

  number(params: Params, name: string): number | undefined {
    const value = present(params, name);
    if (value == null) return undefined;
    const number = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
    if (!Number.isFinite(number)) throw unprocessable(`${name} must be a number`);
    return number;
  },

  /** An ID (a string of digits); a malformed one is "not found", as Mastodon answers. */
  id(params: Params, name: string): bigint | undefined {
    const value = present(params, name);
    if (value == null) return undefined;
    const id = parseId(typeof value === "number" ? String(value) : typeof value === "string" ? value : undefined);
    if (id == null) throw unprocessable(`${name} is not a valid id`);
    return id;
  },

  /** A list of strings (`name[]=a&name[]=b`, a JSON array, or one value). */
  strings(params: Params, name: string, options: { max?: number } = {}): string[] | undefined {
    const value = params[name];
    if (value == null) return undefined;
    const list = Array.isArray(value) ? value : [value];
    if (!list.every((item) => typeof item === "string" || typeof item === "number")) throw unprocessable(`${name} must be a list of strings`);
    if (options.max != null && list.length > options.max) throw unprocessable(`${name} has too many items (maximum is ${options.max})`);
    return list.map(String);
  },

  ids(params: Params, name: string, options: { max?: number } = {}): bigint[] | undefined {
    const list = read.strings(params, name, options);
    if (list == null) return undefined;
    return list.map((item) => {
      const id = parseId(item);
      if (id == null) throw unprocessable(`${name} contains an invalid id`);
      return id;
    });
  },

  object(params: Params, name: string): Params | undefined {
    const value = params[name];
    if (value == null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw unprocessable(`${name} must be an object`);
    return value as Params;
  },

  oneOf<T extends string>(params: Params, name: string, allowed: readonly T[]): T | undefined {
    const value = read.string(params, name);
    if (value == null) return undefined;
    if (!allowed.includes(value as T)) throw unprocessable(`${name} must be one of ${allowed.join(", ")}`);
    return value as T;
  },
} satisfies Record<string, Reader<unknown> | ((params: Params, name: string, options: never) => unknown)>;

/** An ID from the path; anything malformed is a 404, as for an unknown ID. */
export function pathId(c: Context, name = "id"): bigint {
  const id = parseId(c.req.param(name));
  if (id == null) throw new ApiError(404, "Record not found");
  return id;
}
