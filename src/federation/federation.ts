/**
 * Fedify, set up for Islet: the durable queue and KV store over our own
 * database, the canonical origin, and every dispatcher and listener.
 */
import { createFederation, type Federation, type MessageQueue, type KvStore } from "@fedify/fedify";
import type { CoreContext } from "../core/context.ts";
import { instanceStats } from "../core/instance.ts";
import { ISLET_VERSION } from "../version.ts";
import { registerActor } from "./actors.ts";
import { registerCollections } from "./collections.ts";
import { registerDelivery } from "./delivery.ts";
import { registerInbox } from "./inbox.ts";
import { registerStatusDelivery } from "./status-delivery.ts";

export interface FederationSetup {
  kv: KvStore;
  queue: MessageQueue;
}

export function createIsletFederation(core: CoreContext, setup: FederationSetup): Federation<void> {
  const { config } = core;
  const federation = createFederation<void>({
    kv: setup.kv,
    queue: setup.queue,
    manuallyStartQueue: true,
    origin: { handleHost: config.localDomain, webOrigin: config.origin },
    allowPrivateAddress: config.allowPrivateAddress,
    userAgent: { software: `Islet/${ISLET_VERSION}`, url: new URL(config.origin) },
    trailingSlashInsensitive: true,
  });
  registerActor(federation, core);
  registerCollections(federation, core);
  registerInbox(federation, core);
  registerDelivery(federation, core);
  registerStatusDelivery(federation, core);
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
