/**
 * What CSV imports need of federation: an account by `user@host` address
 * (WebFinger, then its actor) and a status by IRI, each taken as stored
 * when Islet knows it already.
 */
import type { Federation } from "@fedify/fedify";
import { and, eq, sql } from "drizzle-orm";
import type { Account } from "../core/accounts.ts";
import { CoreError, type CoreContext } from "../core/context.ts";
import type { ImportResolvers } from "../core/imports/bulk-imports.ts";
import { findStatusByUri } from "../core/remote-statuses.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { accounts } from "../db/schema.ts";
import { guardedFetch, networkPolicy } from "../net/fetcher.ts";
import { fetchOptions } from "./domain-policy.ts";
import { isPostObject } from "./inbound-objects.ts";
import { accountOf, storePost } from "./inbox-statuses.ts";
import { resolveAccount } from "./lookup.ts";

async function storedAccount(core: CoreContext, username: string, domain: string): Promise<Account | null> {
  const rows = await core.db
    .select()
    .from(accounts)
    .where(and(sql`lower(${accounts.username}) = lower(${username})`, eq(accounts.domain, domain)))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * WebFinger over plain http, for development instances (ALLOW_PRIVATE_ADDRESS)
 * that federate over http on loopback: the actor URL of the address, or null.
 */
async function plainWebFinger(core: CoreContext, username: string, domain: string): Promise<string | null> {
  const resource = `acct:${username}@${domain}`;
  const url = `http://${domain}/.well-known/webfinger?resource=${encodeURIComponent(resource)}`;
  const response = await guardedFetch(url, {
    policy: networkPolicy(true),
    timeoutMs: 10_000,
    maxBytes: 256 * 1024,
    headers: { Accept: "application/jrd+json, application/json" },
  }).catch(() => null);
  if (response == null || response.status !== 200) return null;
  try {
    const jrd = JSON.parse(new TextDecoder().decode(response.body)) as { links?: { rel?: string; type?: string; href?: string }[] };
    const self = jrd.links?.find((link) => link.rel === "self" && /activity\+json|ld\+json/.test(link.type ?? "") && typeof link.href === "string");
    return self?.href ?? null;
  } catch {
    return null;
  }
}

export function createImportResolvers(federation: Federation<void>, core: CoreContext): ImportResolvers {
  return {
    async account(acct) {
      const at = acct.lastIndexOf("@");
      const username = acct.slice(0, at);
      const domain = acct.slice(at + 1).toLowerCase();
      const known = await storedAccount(core, username, domain);
      if (known != null) return known;
      try {
        return await resolveAccount(federation, core, `@${username}@${domain}`);
      } catch (error) {
        if (!core.config.allowPrivateAddress) throw error;
        const actor = await plainWebFinger(core, username, domain);
        if (actor == null) throw error;
        return await resolveAccount(federation, core, actor);
      }
    },
    async status(uri) {
      const known = await findStatusByUri(core, uri);
      if (known != null) return known;
      if (await isUrlSuspended(core, uri)) throw new CoreError("not_found", `no status found at ${uri}`);
      const ctx = federation.createContext(new URL(core.config.origin), undefined);
      const object = await ctx.lookupObject(uri, fetchOptions(core, ctx)).catch(() => null);
      if (!isPostObject(object) || object.id == null || object.attributionId == null || object.id.origin !== object.attributionId.origin) {
        throw new CoreError("not_found", `no status found at ${uri}`);
      }
      const author = await accountOf(ctx, core, object.attributionId);
      if (author == null) throw new CoreError("not_found", `no author found for ${uri}`);
      const stored = await storePost(ctx, core, author, object, 0, true);
      if (stored == null) throw new CoreError("not_found", `no status found at ${uri}`);
      return stored;
    },
  };
}
