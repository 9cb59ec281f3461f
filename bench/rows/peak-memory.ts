/**
 * Peak RSS: VmHWM of the server process, the most resident memory it had at
 * any moment since it started (start-up included), read once every other
 * server bench has run.
 * Must run last among the server benches.
 */
import type { ServerBench } from "../lib/types.ts";

export const peakMemory: ServerBench = {
  kind: "server",
  name: "peak RSS",
  async run(context) {
    const peak = context.server.peakRss();
    context.record({
      id: "rss.peak",
      row: "RSS peak since start (VmHWM)",
      value: peak,
      unit: "MiB",
      how: "server VmHWM read after the last load; includes the start-up",
    });
  },
};
