/**
 * Node 24 has no global Temporal; Fedify's types name the global one while
 * its runtime uses @js-temporal/polyfill. These convert at that seam.
 */
import { Temporal as Polyfill } from "@js-temporal/polyfill";

/** A Date as the Temporal.Instant Fedify's vocabulary takes. */
export function toInstant(date: Date): Temporal.Instant {
  return Polyfill.Instant.fromEpochMilliseconds(date.getTime()) as unknown as Temporal.Instant;
}

/** A Date as the Temporal.Instant Fedify's vocabulary takes, or null. */
export function toInstantOrNull(date: Date | null | undefined): Temporal.Instant | null {
  return date == null ? null : toInstant(date);
}

/** A duration for Fedify options. */
export function duration(like: { seconds?: number; milliseconds?: number; days?: number }): Temporal.Duration {
  return Polyfill.Duration.from(like) as unknown as Temporal.Duration;
}
