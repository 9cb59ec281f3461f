/**
 * oEmbed for the owner's posts, `GET /api/oembed?url=…`, in Mastodon's
 * shape: a "rich" answer whose `html` frames the post's embeddable page
 * (`/@owner/:id/embed`).
 */
import type { Context } from "hono";
import type { CoreContext } from "../core/context.ts";
import { parseId } from "../core/ids.ts";
import { findPublicThread } from "../core/public-statuses.ts";
import { escapeHtml } from "../text/escape-html.ts";
import { nameOf, pageUrlOf } from "./status-html.ts";

/** Mastodon's default width of an embedded post. */
const DEFAULT_WIDTH = 400;

/** The username and id a post URL of this server names, or null. */
export function localStatusPath(origin: string, url: string): { username: string; id: bigint } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.origin !== new URL(origin).origin) return null;
  const match = /^\/(?:@([^/]+)|users\/([^/]+)\/statuses)\/(\d+)\/?$/.exec(parsed.pathname);
  if (match == null) return null;
  const id = parseId(match[3]);
  return id == null ? null : { username: decodeURIComponent(match[1] ?? match[2]), id };
}

function positive(value: string | undefined): number | null {
  if (value == null || !/^\d{1,5}$/.test(value)) return null;
  const n = Number(value);
  return n > 0 ? n : null;
}

export async function oembed(ctx: CoreContext, c: Context): Promise<Response> {
  const url = c.req.query("url");
  if (url == null || url === "") return c.json({ error: "param is missing or the value is empty: url" }, 400);
  const format = c.req.query("format");
  if (format != null && format !== "json") return c.json({ error: "Only the json format is supported" }, 501);
  const path = localStatusPath(ctx.config.origin, url);
  const thread = path == null ? null : await findPublicThread(ctx, path.username, path.id);
  if (thread == null) return c.json({ error: "Record not found" }, 404);
  const { author, status } = thread.status;
  const width = Math.min(positive(c.req.query("maxwidth")) ?? DEFAULT_WIDTH, DEFAULT_WIDTH);
  const height = positive(c.req.query("maxheight"));
  const embed = `${ctx.config.origin}/@${author.username}/${status.id}/embed`;
  const html = `<iframe src="${escapeHtml(embed)}" class="mastodon-embed" style="max-width: 100%; border: 0" width="${width}"${height == null ? "" : ` height="${height}"`} allowfullscreen="allowfullscreen" title="${escapeHtml(`Post by ${nameOf(author)}`)}"></iframe>`;
  const body = {
    type: "rich",
    version: "1.0",
    title: `New status by ${author.username}`,
    author_name: nameOf(author),
    author_url: author.url ?? `${ctx.config.origin}/@${author.username}`,
    provider_name: ctx.config.localDomain,
    provider_url: `${ctx.config.origin}/`,
    cache_age: 86_400,
    html,
    width,
    height,
    url: pageUrlOf(thread.status),
  };
  c.header("Cache-Control", "public, max-age=300");
  return c.json(body);
}
