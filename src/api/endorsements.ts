/**
 * Mastodon API: featured profiles (endorsements). The owner features
 * accounts it follows (POST /api/v1/accounts/:id/endorse, unendorse; the
 * older /pin and /unpin); anyone may list an account's
 * (GET /api/v1/accounts/:id/endorsements), the owner its own
 * (GET /api/v1/endorsements).
 */
import { Hono } from "hono";
import { endorse, listEndorsements, unendorse } from "../core/endorsements.ts";
import { getRelationships } from "../core/relationships.ts";
import { optionalUser, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccounts } from "./entities/account.ts";
import { serializeRelationship } from "./entities/relationship.ts";
import { requireAccount } from "./lookups.ts";
import { readPage, setLinkHeader } from "./pagination.ts";
import { pathId } from "./params.ts";

const ID = ":id{[0-9]+}";

export function endorsementsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const origin = core.config.origin;
  const app = new Hono<ApiEnv>();

  for (const [path, action] of [["endorse", "add"], ["pin", "add"], ["unendorse", "remove"], ["unpin", "remove"]] as const) {
    app.post(`/api/v1/accounts/${ID}/${path}`, async (c) => {
      const ownerId = requireUser(c, "write:accounts");
      const target = await requireAccount(core, pathId(c));
      if (action === "add") await endorse(core, ownerId, target);
      else await unendorse(core, ownerId, target.id);
      return c.json(serializeRelationship((await getRelationships(core, ownerId, [target]))[0]));
    });
  }

  app.get("/api/v1/endorsements", async (c) => {
    const ownerId = requireUser(c, "read:accounts");
    const rows = await listEndorsements(core, ownerId, readPage(c, 40, 80));
    setLinkHeader(c, origin, rows.map((row) => row.endorsementId));
    return c.json(await serializeAccounts(core, rows.map((row) => row.account)));
  });

  app.get(`/api/v1/accounts/${ID}/endorsements`, async (c) => {
    optionalUser(c, "read:accounts");
    const account = await requireAccount(core, pathId(c));
    const rows = await listEndorsements(core, account.id, readPage(c, 40, 80));
    setLinkHeader(c, origin, rows.map((row) => row.endorsementId));
    return c.json(await serializeAccounts(core, rows.map((row) => row.account)));
  });

  return app;
}
