/**
 * Uploads that must not cost the server memory: a body larger than any
 * upload, sent without a Content-Length (so that it cannot be refused from
 * the header) is read as a stream and refused, with the server's resident
 * memory growing by far less than the body. The content checks themselves
 * (not an image, decompression bombs, the size limits) are in
 * test/api/media.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { after, describe, test } from "node:test";
import { startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";

const MiB = 1024 * 1024;
/** Sent in total: more than the largest upload (99 MiB of video plus a thumbnail). */
const BODY_BYTES = 160 * MiB;
/**
 * The most the server's memory may grow while it reads that. The server
 * reads about 116 MiB before it refuses (the largest upload body), so a
 * server that buffered the body would grow by more than that; streaming
 * to disk showed about 50 MiB of transient growth (buffers not yet
 * collected) on PGlite.
 */
const MAX_GROWTH = 80 * MiB;

function rss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match == null ? 0 : Number(match[1]) * 1024;
}

for (const kind of databaseKinds()) {
  describe(`an endless upload (${kind})`, () => {
    let instance: PreparedInstance | undefined;
    let server: ServerProcess | undefined;

    after(async () => {
      await server?.kill("SIGKILL");
      await instance?.database.drop();
    });

    test("a chunked body past every limit is refused, with memory bounded", async () => {
      instance = await prepareInstance(kind);
      server = await startServerProcess(instance.env);
      const pid = server.child.pid!;
      const url = new URL(instance.url);
      // Let the start-up settle (PGlite's memory spikes right after it opens).
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const before = rss(pid);
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rss(pid));
      }, 20);

      const boundary = "endlessboundary";
      const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
      // An MP4 header, then noise: sniffed as video, so the 99 MiB limit applies.
      const ftyp = Buffer.from("000000186674797069736f6d0000020069736f6d69736f32", "hex");
      const chunk = Buffer.alloc(MiB, 0x5a);
      let sent = 0;
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({
          host: url.hostname,
          port: url.port,
          path: "/api/v2/media",
          method: "POST",
          headers: { authorization: `Bearer ${instance!.token}`, "content-type": `multipart/form-data; boundary=${boundary}`, "transfer-encoding": "chunked" },
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
      clearInterval(sampler);
      // The answer (or the closed connection) came before the whole body was read.
      assert.ok(status === 0 || (status >= 400 && status < 500), `answered ${status}`);
      const growth = peak - before;
      assert.ok(growth < MAX_GROWTH, `resident memory grew by ${(growth / MiB).toFixed(0)} MiB while reading ${(sent / MiB).toFixed(0)} MiB`);
      const health = await fetch(`${instance.url}/health`);
      assert.equal(health.status, 200);
      await server.kill();
    });
  });
}
