/**
 * What the seeding step (bench/rows/seed.ts) leaves for the server benches
 * of the same target: the owner's id and a bearer token. PGlite lets only one
 * process open a data dir, so the token has to be made before the server
 * starts, together with the seeded rows.
 */
import type { SeedReport } from "./seed-db.ts";
import type { Target } from "./targets.ts";

const fixtures = new WeakMap<Target, SeedReport>();

export function setFixture(target: Target, report: SeedReport): void {
  fixtures.set(target, report);
}

/** The seeded data and token of this target; throws when seeding failed or did not run. */
export function fixture(target: Target): SeedReport {
  const found = fixtures.get(target);
  if (found == null) throw new Error("no seeded database and token for this target (the seeding step failed or did not run)");
  return found;
}

/** Headers for an API request as the owner. */
export function ownerHeaders(target: Target, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${fixture(target).token}`, ...extra };
}
