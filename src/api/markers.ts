/**
 * Mastodon API: markers, the read positions in the home timeline and the
 * notifications that the owner's clients share.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { getMarkers, MARKER_TIMELINES, saveMarkers, type Marker, type MarkerTimeline } from "../core/markers.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { unprocessable } from "./errors.ts";
import { bodyParams, queryParams, read, type Params } from "./params.ts";

export interface MastodonMarker {
  last_read_id: string;
  version: number;
  updated_at: string;
}

function serializeMarkers(rows: readonly Marker[]): Record<string, MastodonMarker> {
  const result: Record<string, MastodonMarker> = {};
  for (const row of rows) {
    result[row.timeline] = { last_read_id: row.lastReadId, version: row.version, updated_at: row.updatedAt.toISOString() };
  }
  return result;
}

/** `home[last_read_id]` (form, JSON object) or a bare `home` id as some clients send. */
function readPosition(params: Params, timeline: MarkerTimeline): string | undefined {
  const value = params[timeline];
  if (value == null || value === "") return undefined;
  const id = typeof value === "object" && !Array.isArray(value) ? (value as Params).last_read_id : value;
  if (id == null || id === "") throw unprocessable(`${timeline}[last_read_id] is missing`);
  if (typeof id !== "string" && typeof id !== "number") throw unprocessable(`${timeline}[last_read_id] must be a string`);
  return String(id);
}

export function markersRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/markers", async (c: Context<ApiEnv>) => {
    const accountId = requireUser(c, "read:statuses");
    const timelines = read.strings(queryParams(c), "timeline", { max: 10 }) ?? [];
    return c.json(serializeMarkers(await getMarkers(core, accountId, timelines)));
  });

  app.post("/api/v1/markers", async (c: Context<ApiEnv>) => {
    const accountId = requireUser(c, "write:statuses");
    const params = await bodyParams(c);
    const positions: Partial<Record<MarkerTimeline, string>> = {};
    for (const timeline of MARKER_TIMELINES) {
      const position = readPosition(params, timeline);
      if (position != null) positions[timeline] = position;
    }
    return c.json(serializeMarkers(await saveMarkers(core, accountId, positions)));
  });

  return app;
}
