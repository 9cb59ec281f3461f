/**
 * First start on PGlite: spawn `node bin/islet.js serve` (the bundle) on a
 * DATA_DIR that does not exist yet, as `npm start` does in a fresh clone,
 * and time until /health first answers 200. This includes creating
 * DATA_DIR, the secrets, unpacking the prepared database the build made
 * (src/db/pglite-template.ts; initdb when there is none) and applying the
 * migrations. Also gives the process's VmRSS and VmHWM at that moment.
 * One run (each is a new database); PostgreSQL has no such step here (its
 * database is made by whoever runs it).
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TEMPLATE_FILE } from "../../src/db/pglite-template.ts";
import { ROOT } from "../lib/children.ts";
import { startServer } from "../lib/server.ts";
import { freePort } from "../lib/targets.ts";
import type { ProcessBench } from "../lib/types.ts";

export const firstStart: ProcessBench = {
  kind: "process",
  name: "first start",
  async run(context) {
    const { target } = context;
    if (target.database !== "PGlite") return;
    const dataDir = join(target.tempDir, "first-start");
    const port = await freePort();
    const fresh = { ...target, env: { ...target.env, DATA_DIR: dataDir, PORT: String(port) }, port, url: `http://127.0.0.1:${port}` };
    try {
      const server = await startServer(fresh, { pollMs: 10, timeoutMs: 300_000, onRebuild: (why) => context.note(`first start: ${why}`) });
      const rss = server.rss();
      const peak = server.peakRss();
      await server.stop();
      context.record({
        id: "first-start",
        row: "First start (new DATA_DIR): spawn to first 200 /health",
        value: server.startMs,
        unit: "ms",
        how: `one run; creates DATA_DIR and the embedded database (${existsSync(join(ROOT, "dist", TEMPLATE_FILE)) ? "from the build's prepared one" : "initdb: the build made no prepared one"}); bundle; VmRSS ${rss.toFixed(0)} MiB, VmHWM ${peak.toFixed(0)} MiB at the first 200`,
      });
      context.progress(`  first start: ${server.startMs.toFixed(0)} ms`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
