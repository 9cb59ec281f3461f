/**
 * Mastodon API: filters. The v2 API (filters with keywords and statuses)
 * and, for old clients, the v1 API, where every keyword is a filter of one
 * phrase.
 */
import { Hono } from "hono";
import {
  addFilterStatus,
  addKeyword,
  createFilter,
  createV1Filter,
  deleteFilter,
  deleteFilterStatus,
  deleteKeyword,
  deleteV1Filter,
  getFilter,
  getFilterStatus,
  getKeyword,
  listFilters,
  listFilterStatuses,
  listKeywords,
  listV1Filters,
  updateFilter,
  updateKeyword,
  updateV1Filter,
  type FilterInput,
  type FilterWithRules,
  type KeywordAttributes,
} from "../core/filters.ts";
import { parseId } from "../core/ids.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeFilter, serializeFilterKeyword, serializeFilterStatus, serializeV1Filter } from "./entities/filter.ts";
import { notFound, unprocessable } from "./errors.ts";
import { bodyParams, pathId, read, type Params } from "./params.ts";

/** Filters expire at most this far ahead (a hundred years), so dates stay valid. */
const MAX_EXPIRES_IN = 100 * 365 * 24 * 3600;

function filterJson(result: FilterWithRules) {
  return serializeFilter(result.filter, result);
}

/** `expires_in`: undefined when absent, null when blank or null (never), seconds otherwise. */
function readExpiresIn(params: Params): number | null | undefined {
  if (!("expires_in" in params)) return undefined;
  const value = params.expires_in;
  if (value == null || value === "") return null;
  return read.integer(params, "expires_in", { min: 0, max: MAX_EXPIRES_IN }) ?? null;
}

function isPlainObject(value: unknown): value is Params {
  return value != null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Form bodies spell a list of keywords `keywords_attributes[][keyword]=a&
 * keywords_attributes[][whole_word]=false&keywords_attributes[][keyword]=b`,
 * one field at a time; as Rails does, a field already present in the
 * current item starts the next one.
 */
function regroup(items: unknown[]): unknown[] {
  if (!items.every((item) => isPlainObject(item) && Object.keys(item).length === 1)) return items;
  const grouped: Params[] = [];
  let current: Params | null = null;
  for (const item of items as Params[]) {
    const [key] = Object.keys(item);
    if (current == null || key in current) {
      current = {};
      grouped.push(current);
    }
    current[key] = item[key];
  }
  return grouped;
}

/** `keywords_attributes` as a list, an indexed hash (`[0][keyword]`) or JSON. */
function readKeywordAttributes(params: Params): KeywordAttributes[] | undefined {
  const raw = params.keywords_attributes;
  if (raw == null) return undefined;
  let items: unknown[];
  if (Array.isArray(raw)) {
    items = regroup(raw);
  } else if (isPlainObject(raw)) {
    items = Object.entries(raw)
      .sort(([a], [b]) => (/^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a.localeCompare(b)))
      .map(([, value]) => value);
  } else {
    throw unprocessable("keywords_attributes must be a list of keywords");
  }
  return items.map((item) => {
    if (!isPlainObject(item)) throw unprocessable("keywords_attributes must be a list of keywords");
    const attributes: KeywordAttributes = {};
    const id = item.id;
    if (id != null && id !== "") {
      const parsed = parseId(typeof id === "number" ? String(id) : typeof id === "string" ? id : undefined);
      if (parsed == null) throw notFound();
      attributes.id = parsed;
    }
    const keyword = read.string(item, "keyword");
    if (keyword !== undefined) attributes.keyword = keyword;
    const wholeWord = read.boolean(item, "whole_word");
    if (wholeWord !== undefined) attributes.wholeWord = wholeWord;
    if (read.boolean(item, "_destroy")) attributes.destroy = true;
    return attributes;
  });
}

function readFilterInput(params: Params): FilterInput {
  const input: FilterInput = {};
  const title = read.string(params, "title");
  if (title !== undefined) input.title = title;
  const context = read.strings(params, "context");
  if (context !== undefined) input.context = context;
  const action = read.string(params, "filter_action");
  if (action !== undefined && action !== "") input.filterAction = action;
  const expiresIn = readExpiresIn(params);
  if (expiresIn !== undefined) input.expiresIn = expiresIn;
  const keywords = readKeywordAttributes(params);
  if (keywords !== undefined) input.keywords = keywords;
  return input;
}

export function filtersRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  // v2: filters

  app.get("/api/v2/filters", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    return c.json((await listFilters(core, ownerId)).map(filterJson));
  });

  app.post("/api/v2/filters", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    const input = readFilterInput(await bodyParams(c));
    return c.json(filterJson(await createFilter(core, ownerId, input)));
  });

  // Keywords and statuses by their own ids (before `/:id`, which they would not match anyway).

  app.get("/api/v2/filters/keywords/:id", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    const { keyword } = await getKeyword(core, ownerId, pathId(c));
    return c.json(serializeFilterKeyword(keyword));
  });

  app.put("/api/v2/filters/keywords/:id", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    const id = pathId(c);
    const params = await bodyParams(c);
    const keyword = await updateKeyword(core, ownerId, id, { keyword: read.string(params, "keyword"), wholeWord: read.boolean(params, "whole_word") });
    return c.json(serializeFilterKeyword(keyword));
  });

  app.delete("/api/v2/filters/keywords/:id", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    await deleteKeyword(core, ownerId, pathId(c));
    return c.json({});
  });

  app.get("/api/v2/filters/statuses/:id", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    return c.json(serializeFilterStatus(await getFilterStatus(core, ownerId, pathId(c))));
  });

  app.delete("/api/v2/filters/statuses/:id", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    await deleteFilterStatus(core, ownerId, pathId(c));
    return c.json({});
  });

  app.get("/api/v2/filters/:id", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    return c.json(filterJson(await getFilter(core, ownerId, pathId(c))));
  });

  app.put("/api/v2/filters/:id", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    const id = pathId(c);
    const input = readFilterInput(await bodyParams(c));
    return c.json(filterJson(await updateFilter(core, ownerId, id, input)));
  });

  app.delete("/api/v2/filters/:id", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    await deleteFilter(core, ownerId, pathId(c));
    return c.json({});
  });

  app.get("/api/v2/filters/:filter_id/keywords", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    return c.json((await listKeywords(core, ownerId, pathId(c, "filter_id"))).map(serializeFilterKeyword));
  });

  app.post("/api/v2/filters/:filter_id/keywords", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    const filterId = pathId(c, "filter_id");
    const params = await bodyParams(c);
    const keyword = await addKeyword(core, ownerId, filterId, { keyword: read.string(params, "keyword"), wholeWord: read.boolean(params, "whole_word") });
    return c.json(serializeFilterKeyword(keyword));
  });

  app.get("/api/v2/filters/:filter_id/statuses", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    return c.json((await listFilterStatuses(core, ownerId, pathId(c, "filter_id"))).map(serializeFilterStatus));
  });

  app.post("/api/v2/filters/:filter_id/statuses", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    const filterId = pathId(c, "filter_id");
    const params = await bodyParams(c);
    const statusId = read.id(params, "status_id");
    if (statusId == null) throw unprocessable("Status can't be blank");
    return c.json(serializeFilterStatus(await addFilterStatus(core, ownerId, filterId, statusId)));
  });

  // v1: one keyword, one filter.

  function readV1Input(params: Params) {
    return {
      phrase: read.string(params, "phrase"),
      context: read.strings(params, "context"),
      irreversible: read.boolean(params, "irreversible"),
      wholeWord: read.boolean(params, "whole_word"),
      expiresIn: readExpiresIn(params),
    };
  }

  app.get("/api/v1/filters", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    return c.json((await listV1Filters(core, ownerId)).map(({ keyword, filter }) => serializeV1Filter(keyword, filter)));
  });

  app.post("/api/v1/filters", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    const params = await bodyParams(c);
    const input = readV1Input(params);
    if (input.phrase == null || input.phrase.trim() === "") throw unprocessable("Phrase can't be blank");
    const { keyword, filter } = await createV1Filter(core, ownerId, input);
    return c.json(serializeV1Filter(keyword, filter));
  });

  app.get("/api/v1/filters/:id", async (c) => {
    const ownerId = requireUser(c, "read:filters");
    const { keyword, filter } = await getKeyword(core, ownerId, pathId(c));
    return c.json(serializeV1Filter(keyword, filter));
  });

  app.put("/api/v1/filters/:id", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    const id = pathId(c);
    const input = readV1Input(await bodyParams(c));
    if (input.phrase !== undefined && input.phrase.trim() === "") throw unprocessable("Phrase can't be blank");
    const { keyword, filter } = await updateV1Filter(core, ownerId, id, input);
    return c.json(serializeV1Filter(keyword, filter));
  });

  app.delete("/api/v1/filters/:id", async (c) => {
    const ownerId = requireUser(c, "write:filters");
    await deleteV1Filter(core, ownerId, pathId(c));
    return c.json({});
  });

  return app;
}
