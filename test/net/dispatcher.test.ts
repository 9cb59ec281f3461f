/**
 * Fedify's own global-fetch requests (WebFinger, deliveries) go through the
 * federation's address rule: here one that allows 127.0.0.1 only, with a
 * listener on 127.0.0.2 counting what reaches it. Requests that are not the
 * federation's are left alone.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { generateCryptoKeyPair, signRequest } from "@fedify/fedify";
import { lookupWebFinger } from "@fedify/webfinger";
import { guardFederationFetches } from "../../src/net/dispatcher.ts";
import { closeHttpServer } from "../helpers/http-server.ts";

async function listen(host: string, paths: string[]): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((request, response) => {
    paths.push(request.url ?? "");
    if ((request.url ?? "").startsWith("/.well-known/webfinger")) {
      response.writeHead(200, { "Content-Type": "application/jrd+json" });
      response.end(JSON.stringify({ subject: "acct:someone@example.com", links: [] }));
      return;
    }
    response.writeHead(202).end();
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address != null ? address.port : 0, connections: () => connections };
}

describe("federation fetches through the global dispatcher", () => {
  const origin = "https://islet.test";
  const userAgent = "Islet/test (+https://islet.test/)";
  const refusedPaths: string[] = [];
  const allowedPaths: string[] = [];
  let refused: Awaited<ReturnType<typeof listen>>;
  let allowed: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    [refused, allowed] = await Promise.all([listen("127.0.0.2", refusedPaths), listen("127.0.0.1", allowedPaths)]);
    guardFederationFetches(origin, userAgent, {
      allowAddress: (address) => address === "127.0.0.1",
      resolve: async (hostname) => {
        if (hostname === "good.test") return [{ address: "127.0.0.1", family: 4 }];
        if (hostname === "bad.test") return [{ address: "127.0.0.2", family: 4 }];
        throw Object.assign(new Error(`${hostname} is unknown`), { code: "ENOTFOUND" });
      },
    });
  });
  after(async () => {
    await Promise.all([closeHttpServer(refused.server), closeHttpServer(allowed.server)]);
  });

  test("a WebFinger lookup never connects to a refused address, by name or by literal", async () => {
    // Fedify's own check is off here, so that only the dispatcher's rule stands.
    const options = { userAgent, allowPrivateAddress: true };
    assert.equal(await lookupWebFinger(`acct:someone@bad.test:${refused.port}`, options), null);
    assert.equal(await lookupWebFinger(`acct:someone@127.0.0.2:${refused.port}`, options), null);
    assert.equal(refused.connections(), 0, "no connection reached 127.0.0.2");
    // An allowed name is connected to (Fedify asks over https, the listener
    // speaks http: the lookup fails after the connection).
    await lookupWebFinger(`acct:someone@good.test:${allowed.port}`, options);
    assert.equal(allowed.connections(), 1);
  });

  test("a delivery signed by the federation's key is refused a refused address, by literal or by name", async () => {
    const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
    const sign = (url: string) =>
      signRequest(new Request(url, { method: "POST", body: "{}", headers: { "Content-Type": "application/activity+json" } }), keys.privateKey, new URL(`${origin}/users/owner#main-key`), {
        spec: "draft-cavage-http-signatures-12",
      });
    for (const url of [`http://127.0.0.2:${refused.port}/inbox`, `http://bad.test:${refused.port}/inbox`]) {
      await assert.rejects(fetch(await sign(url)), (error: unknown) => error instanceof TypeError, url);
    }
    const delivered = await fetch(await sign(`http://good.test:${allowed.port}/inbox`));
    assert.equal(delivered.status, 202);
    assert.deepEqual(allowedPaths, ["/inbox"]);
    // Requests that are not the federation's are left alone: this one reaches 127.0.0.2.
    const other = await fetch(`http://127.0.0.2:${refused.port}/sentinel`, { method: "POST" });
    assert.equal(other.status, 202);
    assert.deepEqual(refusedPaths, ["/sentinel"], "nothing but the sentinel reached 127.0.0.2");
    assert.equal(refused.connections(), 1);
  });
});
