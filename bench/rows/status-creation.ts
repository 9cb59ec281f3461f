/**
 * Posting as the owner through the API, `POST /api/v1/statuses` with a
 * JSON body and the owner's token:
 *
 * - text only, at 10 connections for the usual timed window (every request
 *   makes a new public status with the same text);
 * - text with one image: PNG files are uploaded first (`POST /api/v2/media`,
 *   multipart, not timed in the figures), then each post attaches one
 *   unused media id, as a counted run of bench/load.ts (10 warm-up posts,
 *   then 100 measured).
 *
 * One post of each kind is checked first. The owner has no followers on
 * the bench instance (the seeded accounts are followees), so no deliveries
 * are queued.
 */
import sharp from "sharp";
import { ownerHeaders } from "../lib/fixtures.ts";
import { measureLoad } from "../lib/http-load.ts";
import type { ServerBench, ServerContext } from "../lib/types.ts";

const CONNECTIONS = 10;
const IMAGE_POSTS = 100;
const IMAGE_WARMUP = 10;
/** Uploads in flight at once while preparing the images. */
const UPLOAD_CONCURRENCY = 2;
const IMAGE = { width: 128, height: 96 };
const TEXT = "Benchmark post: the quick brown fox jumps over the lazy dog. #islet";

interface StatusJson {
  id?: unknown;
  content?: unknown;
  visibility?: unknown;
  media_attachments?: { id?: unknown }[];
}

/** POSTs `body` as JSON to `path` as the owner; the parsed answer, which must be a 200. */
async function postJson(context: ServerContext, path: string, body: unknown): Promise<StatusJson> {
  const response = await fetch(`${context.server.url}${path}`, {
    method: "POST",
    headers: ownerHeaders(context.target, { "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as StatusJson;
}

/** A small noisy PNG (noise, so that it does not compress to nothing). */
async function makePng(): Promise<Buffer> {
  return await sharp({
    create: { ...IMAGE, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } },
  }).png().toBuffer();
}

/** Uploads `count` copies of `png`; their media ids, and each upload's time in ms. */
async function uploadImages(context: ServerContext, png: Buffer, count: number): Promise<{ ids: string[]; times: number[] }> {
  const ids: string[] = [];
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), `bench-${i}.png`);
      form.append("description", `Benchmark image ${i}`);
      const begin = performance.now();
      const response = await fetch(`${context.server.url}/api/v2/media`, { method: "POST", headers: ownerHeaders(context.target), body: form });
      const text = await response.text();
      times.push(performance.now() - begin);
      if (response.status !== 200 && response.status !== 202) throw new Error(`POST /api/v2/media answered ${response.status}: ${text.slice(0, 300)}`);
      const media = JSON.parse(text) as { id?: unknown; type?: unknown };
      if (media.type !== "image" || typeof media.id !== "string") throw new Error(`POST /api/v2/media: unexpected answer ${text.slice(0, 300)}`);
      ids[i] = media.id;
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker));
  return { ids, times };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const statusCreation: ServerBench = {
  kind: "server",
  name: "status creation",
  async run(context) {
    const headers = ownerHeaders(context.target, { "content-type": "application/json", accept: "application/json" });

    const textBody = { status: TEXT, visibility: "public" };
    const first = await postJson(context, "/api/v1/statuses", textBody);
    if (typeof first.id !== "string" || first.visibility !== "public" || !String(first.content).includes("quick brown fox")) {
      throw new Error(`POST /api/v1/statuses: unexpected answer ${JSON.stringify(first).slice(0, 300)}`);
    }
    await measureLoad(context, {
      id: `post.text.c${CONNECTIONS}`,
      name: `Post status (text), ${CONNECTIONS} conns`,
      path: "/api/v1/statuses",
      method: "POST",
      headers,
      body: JSON.stringify(textBody),
      connections: CONNECTIONS,
    });

    const png = await makePng();
    const uploadBegin = performance.now();
    const { ids, times } = await uploadImages(context, png, 1 + IMAGE_WARMUP + IMAGE_POSTS);
    const uploadSeconds = (performance.now() - uploadBegin) / 1000;
    const [checkId, ...rest] = ids;
    const withImage = await postJson(context, "/api/v1/statuses", { status: `${TEXT} (with an image)`, media_ids: [checkId] });
    if (withImage.media_attachments?.length !== 1 || withImage.media_attachments[0].id !== checkId) {
      throw new Error(`POST /api/v1/statuses with media ${checkId}: unexpected attachments ${JSON.stringify(withImage.media_attachments).slice(0, 300)}`);
    }
    const report = await measureLoad(context, {
      id: `post.image.c${CONNECTIONS}`,
      name: `Post status with 1 image, ${CONNECTIONS} conns`,
      path: "/api/v1/statuses",
      method: "POST",
      headers,
      bodies: rest.map((id, i) => JSON.stringify({ status: `${TEXT} (image ${i})`, media_ids: [id] })),
      warmupRequests: IMAGE_WARMUP,
      durationSeconds: 60,
      connections: CONNECTIONS,
    });
    context.note(
      `Post status with 1 image on ${context.target.database}: ${ids.length} PNGs (${IMAGE.width}×${IMAGE.height}, ${(png.length / 1024).toFixed(0)} KiB) ` +
        `were uploaded first through POST /api/v2/media, ${UPLOAD_CONCURRENCY} at a time, in ${uploadSeconds.toFixed(1)} s ` +
        `(median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms per upload); not part of the figures`,
    );
    context.progress(`  uploads: ${ids.length} in ${uploadSeconds.toFixed(1)} s (median ${median(times).toFixed(0)} ms); image posts: ${report.count} counted`);
  },
};
