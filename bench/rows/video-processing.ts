/**
 * A 20 MB video uploaded and converted: an MPEG-4 Part 2 video in Matroska
 * (made here by ffmpeg, 1280×720, about 20 MB), which browsers cannot
 * play, so the server re-encodes it to H.264 MP4 in its background worker.
 * Rows: time from the start of `POST /api/v2/media` to the first 200 of
 * `GET /api/v1/media/:id`, and the peak resident memory while it ran, of
 * the server and of the server together with its ffmpeg child (sampled
 * every 50 ms from /proc). Skipped with a note when ffmpeg is missing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ownerHeaders } from "../lib/fixtures.ts";
import type { ServerBench } from "../lib/types.ts";

const TARGET_BYTES = 20 * 1024 * 1024;
const SECONDS = 20;

function hasFfmpeg(): boolean {
  try {
    execFileSync("ffmpeg", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** VmRSS of a process in MiB, or 0 when it is gone. */
function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match == null ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0;
  }
}

/** The process's children (ffmpeg, ffprobe), from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export const videoProcessing: ServerBench = {
  kind: "server",
  name: "video processing",
  async run(context) {
    if (!hasFfmpeg()) {
      context.note("Video processing rows skipped: ffmpeg is not installed");
      return;
    }
    const work = mkdtempSync(join(tmpdir(), "islet-bench-video-"));
    try {
      const path = join(work, "bench.mkv");
      const bitrate = Math.round((TARGET_BYTES * 8) / SECONDS);
      execFileSync("ffmpeg", [
        "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=1280x720:rate=30`, "-f", "lavfi", "-i", "sine=frequency=330",
        "-t", String(SECONDS), "-c:v", "mpeg4", "-b:v", String(bitrate), "-c:a", "mp2", "-shortest", path,
      ]);
      const video = readFileSync(path);
      context.progress(`${context.target.database}: uploading a ${(video.length / 1048576).toFixed(1)} MiB video for conversion`);
      let serverPeak = 0;
      let totalPeak = 0;
      const sample = () => {
        const server = context.server.rss();
        const total = server + childrenOf(context.server.pid).reduce((sum, pid) => sum + rssOf(pid), 0);
        serverPeak = Math.max(serverPeak, server);
        totalPeak = Math.max(totalPeak, total);
      };
      const sampler = setInterval(sample, 50);
      const begin = performance.now();
      let elapsed: number;
      try {
        const form = new FormData();
        form.append("file", new Blob([new Uint8Array(video)], { type: "video/x-matroska" }), "bench.mkv");
        const response = await fetch(`${context.server.url}/api/v2/media`, { method: "POST", headers: ownerHeaders(context.target), body: form });
        const text = await response.text();
        if (response.status !== 202 && response.status !== 200) throw new Error(`POST /api/v2/media answered ${response.status}: ${text.slice(0, 300)}`);
        const id = (JSON.parse(text) as { id: string }).id;
        for (;;) {
          const current = await fetch(`${context.server.url}/api/v1/media/${id}`, { headers: ownerHeaders(context.target) });
          const body = await current.text();
          if (current.status === 200) break;
          if (current.status !== 206) throw new Error(`GET /api/v1/media/${id} answered ${current.status}: ${body.slice(0, 300)}`);
          if (performance.now() - begin > 15 * 60_000) throw new Error("the video was not processed within 15 minutes");
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        elapsed = performance.now() - begin;
        await fetch(`${context.server.url}/api/v1/media/${id}`, { method: "DELETE", headers: ownerHeaders(context.target) });
      } finally {
        clearInterval(sampler);
      }
      sample();
      const how = `${(video.length / 1048576).toFixed(1)} MiB MPEG-4 1280×720 ${SECONDS} s → H.264 MP4`;
      context.record({ id: "video.20mb.processed.s", row: "Upload of a 20 MB video to processed", value: elapsed / 1000, unit: "s", how: `${how}; POST v2 to GET 200` });
      context.record({ id: "video.rss.server", row: "RSS peak of the server while a video is processed", value: serverPeak, unit: "MiB", how: "server VmRSS sampled every 50 ms" });
      context.record({ id: "video.rss.total", row: "RSS peak of server + ffmpeg while a video is processed", value: totalPeak, unit: "MiB", how: "server and child processes' VmRSS, sampled every 50 ms" });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
