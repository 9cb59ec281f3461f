/**
 * Fedify, set up for Islet: the durable queue and KV store over our own
 * database, the canonical origin, and every dispatcher and listener.
 */
import { SendActivityError, createExponentialBackoffPolicy, createFederation, type Federation, type MessageQueue, type KvStore } from "@fedify/fedify";
import { getUserAgent } from "@fedify/vocab-runtime";
import type { CoreContext } from "../core/context.ts";
import { instanceStats } from "../core/instance.ts";
import { ISLET_VERSION } from "../version.ts";
import { registerActor } from "./actors.ts";
import { fetchRepliesWithin, registerBackfill } from "./backfill.ts";
import { registerCollections } from "./collections.ts";
import { registerDelivery } from "./delivery.ts";
import { recordDeliveryFailure } from "./domain-policy.ts";
import { registerInbox } from "./inbox.ts";
import { registerInboxVerification } from "./inbox-verify.ts";
import { createLoaders } from "./loaders.ts";
import { resolveAccount, resolveUrl } from "./lookup.ts";
import { writeAccountArchive } from "./account-archive.ts";
import { guardFederationFetches } from "../net/dispatcher.ts";
import { networkPolicy, type NetworkPolicy } from "../net/fetcher.ts";
import { registerStatusDelivery } from "./status-delivery.ts";
import { registerQuoteAuthorizations, registerQuoteDelivery } from "./quotes.ts";
import { registerMoveDelivery } from "./moves.ts";
import { registerReportDelivery } from "./reports.ts";

export interface FederationSetup {
  kv: KvStore;
  queue: MessageQueue;
  /** Which addresses federation may connect to (default: public only, unless ALLOW_PRIVATE_ADDRESS). */
  policy?: NetworkPolicy;
}

export function createIsletFederation(core: CoreContext, setup: FederationSetup): Federation<void> {
  const { config } = core;
  const userAgent = getUserAgent({ software: `Islet/${ISLET_VERSION}`, url: new URL(config.origin) });
  const policy = setup.policy ?? networkPolicy(config.allowPrivateAddress);
  const { keyLoader, ...loaders } = createLoaders({ policy, userAgent, kv: setup.kv });
  // Deliveries and WebFinger lookups, which Fedify sends with the global fetch.
  guardFederationFetches(config.origin, userAgent, policy);
  const federation = createFederation<void>({
    kv: setup.kv,
    queue: setup.queue,
    manuallyStartQueue: true,
    origin: { handleHost: config.localDomain, webOrigin: config.origin },
    // Documents, contexts and signed fetches go through the guarded fetcher.
    ...loaders,
    trailingSlashInsensitive: true,
    // About two days of retries, as Mastodon: 30 s doubling up to 12 h apart.
    outboxRetryPolicy: createExponentialBackoffPolicy({ initialDelay: { seconds: 30 }, maxDelay: { hours: 12 }, maxAttempts: 14 }),
    // An inbox answering 5xx counts towards its domain being unreachable.
    onOutboxError: async (error) => {
      if (!(error instanceof SendActivityError) || error.statusCode < 500) return;
      await recordDeliveryFailure(core, error.inbox.host).catch((failure) => core.log.warn("could not record a failed delivery", failure));
    },
  });
  // Fedify refuses these options beside custom loaders, but its WebFinger
  // lookups still read them: the user agent to send, and whether a private
  // address may be asked (it checks the address before connecting).
  Object.assign(federation, { userAgent, allowPrivateAddress: config.allowPrivateAddress });
  registerInboxVerification(federation, setup.kv, keyLoader);
  registerActor(federation, core);
  registerCollections(federation, core);
  // The look-ups the core asks for on a request's behalf (search, threads).
  core.remote.connect({
    resolveAccount: (query, options) => resolveAccount(federation, core, query, options),
    fetchRepliesWithin: (uri, waitMs) => fetchRepliesWithin(federation, core, uri, waitMs),
    resolveUrl: (url) => resolveUrl(federation, core, url),
  });
  core.archives.connect((file) => writeAccountArchive(federation, core, file));
  registerInbox(federation, core);
  registerDelivery(federation, core);
  registerStatusDelivery(federation, core);
  registerQuoteAuthorizations(federation, core);
  registerQuoteDelivery(federation, core);
  registerReportDelivery(federation, core);
  registerMoveDelivery(federation, core);
  registerBackfill(federation, core);
  federation.setNodeInfoDispatcher("/nodeinfo/2.1", async () => {
    const stats = await instanceStats(core);
    return {
      software: { name: "islet", version: ISLET_VERSION },
      protocols: ["activitypub"],
      services: { inbound: [], outbound: [] },
      openRegistrations: false,
      usage: {
        users: { total: stats.userCount, activeMonth: stats.userCount, activeHalfyear: stats.userCount },
        localPosts: stats.statusCount,
        localComments: 0,
      },
      metadata: { nodeName: config.localDomain, singleUser: true },
    };
  });
  return federation;
}

