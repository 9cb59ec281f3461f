/** Mastodon API: domains the owner hides (user-level domain blocks). */
import { Hono } from "hono";
import { blockDomain, getBlockedDomains, unblockDomain } from "../core/domain-blocks.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { readPage, setLinkHeader } from "./pagination.ts";
import { bodyParams, read } from "./params.ts";

export function domainBlocksRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  // `follow` grants read:blocks and write:blocks (see scopes.ts).
  app.get("/api/v1/domain_blocks", async (c) => {
    const accountId = requireUser(c, "read:blocks");
    const rows = await getBlockedDomains(core, accountId, readPage(c, 100, 200));
    setLinkHeader(c, core.config.origin, rows.map((row) => row.cursor));
    return c.json(rows.map((row) => row.domain));
  });

  app.post("/api/v1/domain_blocks", async (c) => {
    const accountId = requireUser(c, "write:blocks");
    const domain = read.string(await bodyParams(c), "domain", { required: true, max: 253 })!;
    await blockDomain(core, accountId, domain);
    return c.json({});
  });

  app.delete("/api/v1/domain_blocks", async (c) => {
    const accountId = requireUser(c, "write:blocks");
    const domain = read.string(await bodyParams(c), "domain", { required: true, max: 253 })!;
    await unblockDomain(core, accountId, domain);
    return c.json({});
  });

  return app;
}
