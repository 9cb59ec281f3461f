/**
 * Skips that say so: a test skipped because something outside the project
 * is missing prints one line in the run's output (besides the runner's
 * `# reason` on the test itself), so that a green run with checks left out
 * does not pass for a complete one. Under CI (CI set in the environment)
 * what CI provides must be there: `requiredUnderCi` fails instead.
 */

const announced = new Set<string>();

/** Prints `SKIPPED: reason` once per test file, and returns the reason for `{ skip }`. */
export function announceSkip(reason: string): string {
  if (!announced.has(reason)) {
    announced.add(reason);
    process.stderr.write(`SKIPPED: ${reason}\n`);
  }
  return reason;
}

/** True when running under CI, where the checks that can be provided must run. */
export function underCi(): boolean {
  const ci = process.env.CI;
  return ci != null && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

/**
 * The skip reason for something CI provides: announced where it may be
 * missing, an error under CI, where a missing one would let the run pass
 * without the checks.
 */
export function requiredUnderCi(reason: string): string {
  if (underCi()) throw new Error(`${reason}; CI must provide it, so this fails instead of skipping`);
  return announceSkip(reason);
}
