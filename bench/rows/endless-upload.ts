/**
 * Memory while refusing an endless upload: `POST /api/v2/media` with a
 * chunked multipart body of 160 MiB (more than the largest upload, 99 MiB
 * of video plus a thumbnail) and no Content-Length, so the server cannot
 * refuse it from the header and has to read it as a stream. The figure is
 * how far the server's VmRSS rose above its reading just before the upload,
 * sampled every 20 ms until the answer (or the closed connection). A server
 * that buffered the body would grow by more than the ~116 MiB it reads
 * before refusing. Run before peak memory, whose VmHWM it raises.
 */
import { request } from "node:http";
import { ownerHeaders } from "../lib/fixtures.ts";
import type { ServerBench } from "../lib/types.ts";

const MiB = 1024 * 1024;
const BODY_BYTES = 160 * MiB;

export const endlessUpload: ServerBench = {
  kind: "server",
  name: "endless upload",
  async run(context) {
    const { server } = context;
    const url = new URL(server.url);
    const before = server.rss();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, server.rss());
    }, 20);
    const boundary = "endlessboundary";
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
    // An MP4 header, then noise: sniffed as video, so the 99 MiB limit applies.
    const ftyp = Buffer.from("000000186674797069736f6d0000020069736f6d69736f32", "hex");
    const chunk = Buffer.alloc(MiB, 0x5a);
    let sent = 0;
    let status = 0;
    try {
      status = await new Promise<number>((resolve, reject) => {
        const req = request({
          host: url.hostname,
          port: url.port,
          path: "/api/v2/media",
          method: "POST",
          headers: ownerHeaders(context.target, { "content-type": `multipart/form-data; boundary=${boundary}`, "transfer-encoding": "chunked" }),
        }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", (error) => (sent >= 64 * MiB ? resolve(0) : reject(error)));
        req.write(head);
        req.write(ftyp);
        const pump = () => {
          while (sent < BODY_BYTES) {
            sent += chunk.length;
            if (!req.write(chunk)) {
              req.once("drain", pump);
              return;
            }
          }
          req.end(Buffer.from(`\r\n--${boundary}--\r\n`));
        };
        pump();
      });
    } finally {
      clearInterval(sampler);
    }
    context.record({
      id: "upload.endless.rss-growth",
      row: "Endless upload (160 MiB chunked): RSS growth",
      value: peak - before,
      unit: "MiB",
      how: `VmRSS peak minus the reading before, sampled every 20 ms; answered ${status === 0 ? "by closing the connection" : status} after ${(sent / MiB).toFixed(0)} MiB sent`,
    });
  },
};
