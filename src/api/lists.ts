/**
 * Mastodon API: lists and their members, and which lists an account is in
 * (`/api/v1/accounts/:id/lists`). The list timeline is the timelines router's.
 */
import { Hono } from "hono";
import {
  addListAccounts,
  createList,
  deleteList,
  getListAccounts,
  getLists,
  listsContaining,
  REPLIES_POLICIES,
  removeListAccounts,
  requireList,
  updateList,
  type List,
  type ListInput,
} from "../core/lists.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccount } from "./entities/account.ts";
import { unprocessable } from "./errors.ts";
import { requireAccount } from "./lookups.ts";
import { readPage, setLinkHeader } from "./pagination.ts";
import { bodyParams, pathId, read, type Params } from "./params.ts";

export interface MastodonList {
  id: string;
  title: string;
  replies_policy: List["repliesPolicy"];
  exclusive: boolean;
}

export function serializeList(list: List): MastodonList {
  return { id: list.id.toString(), title: list.title, replies_policy: list.repliesPolicy, exclusive: list.exclusive };
}

function listInput(params: Params): ListInput {
  return {
    title: read.string(params, "title"),
    repliesPolicy: read.oneOf(params, "replies_policy", REPLIES_POLICIES),
    exclusive: read.boolean(params, "exclusive"),
  };
}

function accountIds(params: Params): bigint[] {
  const ids = read.ids(params, "account_ids", { max: 250 });
  if (ids == null || ids.length === 0) throw unprocessable("account_ids can't be blank");
  return ids;
}

export function listsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/lists", async (c) => {
    const ownerId = requireUser(c, "read:lists");
    return c.json((await getLists(core, ownerId)).map(serializeList));
  });

  app.post("/api/v1/lists", async (c) => {
    const ownerId = requireUser(c, "write:lists");
    const input = listInput(await bodyParams(c));
    return c.json(serializeList(await createList(core, ownerId, input)));
  });

  app.get("/api/v1/lists/:id", async (c) => {
    const ownerId = requireUser(c, "read:lists");
    return c.json(serializeList(await requireList(core, ownerId, pathId(c))));
  });

  app.put("/api/v1/lists/:id", async (c) => {
    const ownerId = requireUser(c, "write:lists");
    const listId = pathId(c);
    const input = listInput(await bodyParams(c));
    return c.json(serializeList(await updateList(core, ownerId, listId, input)));
  });

  app.delete("/api/v1/lists/:id", async (c) => {
    const ownerId = requireUser(c, "write:lists");
    await deleteList(core, ownerId, pathId(c));
    return c.json({});
  });

  app.get("/api/v1/lists/:id/accounts", async (c) => {
    const ownerId = requireUser(c, "read:lists");
    const listId = pathId(c);
    // `limit=0` asks for every member, unpaginated.
    const all = c.req.query("limit")?.trim() === "0";
    const page = all ? { limit: null } : readPage(c, 40, 80);
    const members = await getListAccounts(core, ownerId, listId, page);
    if (!all) setLinkHeader(c, core.config.origin, members.map((account) => account.id));
    return c.json(await Promise.all(members.map((account) => serializeAccount(core, account))));
  });

  app.post("/api/v1/lists/:id/accounts", async (c) => {
    const ownerId = requireUser(c, "write:lists");
    const listId = pathId(c);
    const ids = accountIds(await bodyParams(c));
    await addListAccounts(core, ownerId, listId, ids);
    return c.json({});
  });

  app.delete("/api/v1/lists/:id/accounts", async (c) => {
    const ownerId = requireUser(c, "write:lists");
    const listId = pathId(c);
    const ids = accountIds(await bodyParams(c));
    await removeListAccounts(core, ownerId, listId, ids);
    return c.json({});
  });

  app.get("/api/v1/accounts/:id/lists", async (c) => {
    const ownerId = requireUser(c, "read:lists");
    const account = await requireAccount(core, pathId(c));
    return c.json((await listsContaining(core, ownerId, account.id)).map(serializeList));
  });

  return app;
}
