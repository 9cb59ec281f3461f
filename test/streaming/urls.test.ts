/**
 * Where the instance tells clients to connect for streaming
 * (`configuration.urls.streaming`, `urls.streaming_api`).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { streamingBaseUrl } from "../../src/api/instance.ts";
import { loadConfig } from "../../src/config.ts";
import type { CoreContext } from "../../src/core/context.ts";

const dataDir = mkdtempSync(join(tmpdir(), "islet-streaming-urls-"));

function urlFor(env: Record<string, string>): string {
  const config = loadConfig({ DATA_DIR: dataDir, ...env });
  return streamingBaseUrl({ config } as CoreContext);
}

describe("the streaming URL clients are given", () => {
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test("a local instance: its own origin, or STREAMING_PORT on the same host", () => {
    assert.equal(urlFor({ PORT: "3000" }), "ws://localhost:3000");
    assert.equal(urlFor({ PORT: "3000", STREAMING_PORT: "4000" }), "ws://localhost:4000");
  });

  test("behind a proxy: the web origin, whatever port Islet streams on", () => {
    assert.equal(urlFor({ LOCAL_DOMAIN: "example.com" }), "wss://example.com");
    assert.equal(urlFor({ LOCAL_DOMAIN: "example.com", WEB_DOMAIN: "social.example.com", STREAMING_PORT: "4000" }), "wss://social.example.com");
  });

  test("STREAMING_API_BASE_URL wins, as a ws(s) URL without a trailing slash", () => {
    assert.equal(urlFor({ LOCAL_DOMAIN: "example.com", STREAMING_API_BASE_URL: "https://streaming.example.com/" }), "wss://streaming.example.com");
    assert.equal(urlFor({ PORT: "3000", STREAMING_PORT: "4000", STREAMING_API_BASE_URL: "wss://live.example.com" }), "wss://live.example.com");
  });
});
