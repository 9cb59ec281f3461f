/**
 * What the benchmark's pieces share: one measurement, the recorder that
 * collects them, and the three shapes a bench module can take.
 */
import type { ServerHandle } from "./server.ts";
import type { DatabaseLabel, Target } from "./targets.ts";

export type { DatabaseLabel };

export interface Measurement {
  /** Stable key, the same on both databases (e.g. "webfinger.c10.rps"). */
  id: string;
  /** The row's name as printed. */
  row: string;
  database: DatabaseLabel;
  /** null when the row was attempted and produced no figure. */
  value: number | null;
  unit: string;
  /** How it was measured, in a few words (printed in the last column). */
  how: string;
}

export interface Recorder {
  record(measurement: Omit<Measurement, "database">): void;
  /** A line printed under the table (skips, errors, anything surprising). */
  note(text: string): void;
  /** A progress line on stderr; not part of the results. */
  progress(text: string): void;
}

/**
 * Rows measured against the one long-running server of a database target
 * (started once per target, after the process benches). Each module adds
 * its own rows; the server is shared, so a module should leave it as it
 * found it, apart from the data it adds.
 */
export interface ServerBench {
  kind: "server";
  name: string;
  run(context: ServerContext): Promise<void>;
}

/** Rows that start and stop their own server processes (cold start). */
export interface ProcessBench {
  kind: "process";
  name: string;
  run(context: TargetContext): Promise<void>;
}

/** Rows that need no server and no database (crypto throughput). */
export interface MachineBench {
  kind: "machine";
  name: string;
  run(recorder: Recorder): Promise<void>;
}

export type Bench = ServerBench | ProcessBench | MachineBench;

export interface TargetContext extends Recorder {
  target: Target;
}

export interface ServerContext extends TargetContext {
  server: ServerHandle;
}
