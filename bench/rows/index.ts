/**
 * The benches, in the order they run and print. To add rows (home timeline,
 * status creation, inbox ingest, delivery fan-out, streaming), write a module
 * in bench/rows/ exporting a ServerBench, ProcessBench or MachineBench and
 * list it here. Server benches share one server per database, started after
 * the process benches: keep idle memory first and peak memory last.
 */
import type { MachineBench, ProcessBench, ServerBench } from "../lib/types.ts";
import { coldStart } from "./cold-start.ts";
import { federationReads } from "./federation-reads.ts";
import { idleMemory } from "./idle-memory.ts";
import { loopbackBaseline } from "./loopback-baseline.ts";
import { peakMemory } from "./peak-memory.ts";
import { rsa } from "./rsa.ts";

export const processBenches: ProcessBench[] = [coldStart];

export const serverBenches: ServerBench[] = [idleMemory, federationReads, peakMemory];

/** Run last, once every server has stopped. */
export const machineBenches: MachineBench[] = [loopbackBaseline, rsa];
