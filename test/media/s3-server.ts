/**
 * A real S3-protocol server for tests: s3rver on a free loopback port,
 * keeping its objects in a temporary folder, with one bucket.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { freePort } from "../helpers/instance.ts";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The variables that point Islet at this bucket. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startS3(bucket = "islet-media"): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), "islet-s3-"));
  const port = await freePort();
  const server = new S3rver({ address: "127.0.0.1", port, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      S3_ENABLED: "true",
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: "us-east-1",
      S3_PROTOCOL: "http",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
