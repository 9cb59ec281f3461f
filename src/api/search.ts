/**
 * Mastodon API: search (`/api/v2/search`). Accounts by handle or name,
 * statuses by their text among those the viewer may see, hashtags by name.
 * With `resolve=true` a remote handle or actor URL is looked up through
 * federation first, and so is any other URL (a profile or post page, as
 * Mastodon's search resolves a pasted link).
 * Without a token, as on Mastodon: accounts and hashtags only, no resolve,
 * no offset.
 */
import { Hono } from "hono";
import type { Account } from "../core/accounts.ts";
import {
  findAccountByUrl,
  findStatusByUrl,
  isRemoteHandle,
  parseAccountQuery,
  searchAccounts,
  searchTags,
} from "../core/search.ts";
import { searchStatuses } from "../core/status-search.ts";
import { optionalUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccounts } from "./entities/account.ts";
import { serializeStatuses, type StatusRow } from "./entities/status.ts";
import { serializeTags } from "./entities/tag.ts";
import { ApiError } from "./errors.ts";
import { queryParams, read } from "./params.ts";

const TYPES = ["accounts", "statuses", "hashtags"] as const;

export function searchRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v2/search", async (c) => {
    const viewerId = optionalUser(c, "read:search");
    const params = queryParams(c);
    const q = read.string(params, "q", { max: 1000 });
    if (q == null) throw new ApiError(400, "Missing parameter: q");
    const type = read.oneOf(params, "type", TYPES);
    const resolve = read.boolean(params, "resolve") ?? false;
    const following = read.boolean(params, "following") ?? false;
    const accountId = read.id(params, "account_id");
    read.boolean(params, "exclude_unreviewed");
    const limit = Math.min(Math.max(read.integer(params, "limit") ?? 20, 1), 40);
    // Mastodon applies the offset only to a search of one type.
    const offset = type == null ? 0 : (read.integer(params, "offset", { min: 0 }) ?? 0);
    const maxId = read.id(params, "max_id");
    const minId = read.id(params, "min_id");
    if (viewerId == null) {
      if (params.offset != null && params.offset !== "") throw new ApiError(401, "Search queries pagination is not supported without authentication");
      if (resolve) throw new ApiError(401, "Search queries that resolve remote resources are not supported without authentication");
    }

    const query = q.trim();
    const wants = (t: (typeof TYPES)[number]) => type == null || type === t;
    let accounts: Account[] = [];
    let statuses: StatusRow[] = [];
    let tags: Awaited<ReturnType<typeof searchTags>> = [];
    if (query !== "") {
      const url = /^https?:\/\//i.test(query) ? query : null;
      if (url != null) {
        // A URL names one thing: an account or a status, known or resolved.
        let account = wants("accounts") ? await findAccountByUrl(core, url) : null;
        let status = wants("statuses") && viewerId != null ? await findStatusByUrl(core, url, viewerId) : null;
        if (account == null && status == null && resolve && viewerId != null) {
          const found = await core.remote.resolveUrl(url).catch(() => null);
          if (found?.kind === "account") account = found.account;
          else if (found?.kind === "status") status = await findStatusByUrl(core, found.status.uri, viewerId);
        }
        if (offset === 0) {
          if (account != null && wants("accounts")) accounts = [account];
          if (status != null && wants("statuses")) statuses = [status];
        }
      } else {
        if (wants("accounts")) {
          accounts = await searchAccounts(core, { q: query, limit, offset, following, viewerId });
          const handle = parseAccountQuery(query);
          const exact = accounts.some((account) =>
            account.username.toLowerCase() === handle.username.toLowerCase() &&
            (account.domain ?? "").toLowerCase() === (handle.domain ?? ""));
          if (resolve && viewerId != null && offset === 0 && !exact && isRemoteHandle(query, core.config.localDomain)) {
            const found = await core.remote.resolveAccount(query.replace(/^@/, "")).catch(() => null);
            if (found != null) accounts = [found, ...accounts.filter((account) => account.id !== found.id)].slice(0, limit);
          }
        }
        if (wants("statuses") && viewerId != null) {
          statuses = await searchStatuses(core, { q: query, viewerId, accountId, maxId, minId, limit, offset });
        }
        if (wants("hashtags")) tags = await searchTags(core, { q: query, limit, offset });
      }
    }
    const [accountJson, statusJson, tagJson] = await Promise.all([
      serializeAccounts(core, accounts),
      serializeStatuses(core, statuses, viewerId),
      serializeTags(core, tags, viewerId),
    ]);
    return c.json({ accounts: accountJson, statuses: statusJson, hashtags: tagJson });
  });

  return app;
}
