/**
 * The benches, in the order they run and print. To add rows (home timeline,
 * status creation, inbox ingest, delivery fan-out, streaming), write a module
 * in bench/rows/ exporting a ServerBench, ProcessBench or MachineBench and
 * list it here. Server benches share one server per database, started after
 * the process benches: keep idle memory first and peak memory last.
 */
import type { MachineBench, ProcessBench, ServerBench } from "../lib/types.ts";
import { archiveImport } from "./archive-import.ts";
import { coldStart } from "./cold-start.ts";
import { deliveryFanout } from "./delivery-fanout.ts";
import { endlessUpload } from "./endless-upload.ts";
import { firstStart } from "./first-start.ts";
import { federationReads } from "./federation-reads.ts";
import { homeTimeline } from "./home-timeline.ts";
import { idleMemory } from "./idle-memory.ts";
import { inboxIngest } from "./inbox-ingest.ts";
import { loopbackBaseline } from "./loopback-baseline.ts";
import { mastodonTakeover } from "./mastodon-takeover.ts";
import { peakMemory } from "./peak-memory.ts";
import { publicPages } from "./public-pages.ts";
import { rsa } from "./rsa.ts";
import { seedTimeline } from "./seed.ts";
import { statusCreation } from "./status-creation.ts";
import { streamingFanOut } from "./streaming.ts";
import { videoProcessing } from "./video-processing.ts";

/**
 * Cold start runs on the bare instance; seeding comes last, because the
 * long-running server starts right after the process benches and the home
 * timeline rows need the seeded rows and token. The delivery fan-out needs
 * that token too, and removes the followers it adds before the server rows.
 */
// Archive import and the takeover make instances of their own, so their 10,000 posts stay out of the other rows.
export const processBenches: ProcessBench[] = [firstStart, coldStart, seedTimeline, deliveryFanout, mastodonTakeover, archiveImport];

/** The home timeline runs before status creation, which adds the owner's own posts to it. */
// Streaming right after start: its memory per connection is read off RSS,
// which after the heavier loads has room to spare and would not grow.
export const serverBenches: ServerBench[] = [idleMemory, streamingFanOut, federationReads, homeTimeline, statusCreation, publicPages, inboxIngest, endlessUpload, videoProcessing, peakMemory];

/** Run last, once every server has stopped. */
export const machineBenches: MachineBench[] = [loopbackBaseline, rsa];
