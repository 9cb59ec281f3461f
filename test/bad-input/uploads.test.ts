/**
 * Uploads that must not be taken in whole: a body larger than any upload,
 * sent without a Content-Length (so that it cannot be refused from the
 * header), is read as a stream and refused before its end, and leaves
 * nothing behind: no media attachment, no file under DATA_DIR/media. How
 * far the server's memory moves while it reads such a body is a bench row
 * (`npm run bench -- --only upload`), not an assertion here: resident
 * memory is also moved by whatever else the machine runs. The content
 * checks themselves (not an image, decompression bombs, the size limits)
 * are in test/api/media.test.ts.
 */
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { mediaAttachments } from "../../src/db/schema.ts";
import { startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";

const MiB = 1024 * 1024;
/** Sent in total: more than the largest upload (99 MiB of video plus a thumbnail). */
const BODY_BYTES = 160 * MiB;

/** Every file below `dir` (none when it does not exist). */
function filesBelow(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [path];
  });
}

for (const kind of databaseKinds()) {
  describe(`an endless upload (${kind})`, () => {
    let instance: PreparedInstance | undefined;
    let server: ServerProcess | undefined;

    after(async () => {
      await server?.kill("SIGKILL");
      await instance?.database.drop();
    });

    test("a chunked body past every limit is refused before its end, and nothing is kept", async () => {
      instance = await prepareInstance(kind);
      server = await startServerProcess(instance.env);
      const url = new URL(instance.url);

      const boundary = "endlessboundary";
      const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
      // An MP4 header, then noise: sniffed as video, so the 99 MiB limit applies.
      const ftyp = Buffer.from("000000186674797069736f6d0000020069736f6d69736f32", "hex");
      const chunk = Buffer.alloc(MiB, 0x5a);
      let sent = 0;
      let finished = false;
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({
          host: url.hostname,
          port: url.port,
          path: "/api/v2/media",
          method: "POST",
          headers: { authorization: `Bearer ${instance!.token}`, "content-type": `multipart/form-data; boundary=${boundary}`, "transfer-encoding": "chunked" },
        }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (text: string) => (body += text));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        // A server that refuses may close the connection while the body is
        // still being written; that is a refusal too, once past the limits.
        req.on("error", (error) => (sent >= 64 * MiB ? resolve({ status: 0, body: "" }) : reject(error)));
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
          finished = true;
          req.end(Buffer.from(`\r\n--${boundary}--\r\n`));
        };
        pump();
      });
      if (answer.status !== 0) {
        assert.equal(answer.status, 422, answer.body);
        assert.match((JSON.parse(answer.body) as { error: string }).error, /^Validation failed: File file size must be less than 99 MB$/);
      }
      // Refused while the body was still coming: never read to its end.
      assert.equal(finished && answer.status === 0, false, "the connection failed only after the whole body was sent");

      // Still serving, and the owner's media list is as before: empty.
      const health = await fetch(`${instance.url}/health`);
      assert.equal(health.status, 200);
      await server.kill();
      server = undefined;

      const opened = await instance.database.open();
      try {
        assert.deepEqual(await opened.db.select().from(mediaAttachments), []);
      } finally {
        await opened.close();
      }
      assert.deepEqual(filesBelow(join(instance.env.DATA_DIR!, "media")), []);
    });
  });
}
