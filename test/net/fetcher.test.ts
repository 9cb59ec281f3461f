/**
 * The guarded fetcher, under a rule that allows 127.0.0.1 only: another
 * loopback address (127.0.0.2, where a listener counts what reaches it)
 * stands for a private one. Refused addresses are never connected to,
 * whether named literally, through a name, or by a redirect; bodies past
 * the cap and answers past the deadline fail.
 */
import assert from "node:assert/strict";
import type { LookupAddress } from "node:dns";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { guardedFetch, GuardedFetchError, type NetworkPolicy } from "../../src/net/fetcher.ts";
import { closeHttpServer } from "../helpers/http-server.ts";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function listen(host: string, handler: Handler): Promise<{ server: Server; port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? "");
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address != null ? address.port : 0, paths };
}

/** Names a test resolves itself; everything else is unknown. */
function resolver(names: Record<string, string[]>) {
  return async (hostname: string): Promise<LookupAddress[]> => {
    const addresses = names[hostname];
    if (addresses == null) throw Object.assign(new Error(`${hostname} is unknown`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: 4 }));
  };
}

const refusedWith = (reason: string) => (error: unknown) => error instanceof GuardedFetchError && error.reason === reason;

describe("guarded fetcher", () => {
  let allowed: Awaited<ReturnType<typeof listen>>;
  let refused: Awaited<ReturnType<typeof listen>>;
  const held: ServerResponse[] = [];
  let writtenBeforeClose = 0;
  let closed: Promise<void> = Promise.resolve();
  let policy: NetworkPolicy;
  const permissive: NetworkPolicy = { allowAddress: () => true };

  before(async () => {
    refused = await listen("127.0.0.2", (_request, response) => response.end("reached"));
    allowed = await listen("127.0.0.1", (request, response) => {
      const url = new URL(request.url ?? "/", "http://x");
      if (url.pathname === "/to") {
        response.writeHead(302, { Location: url.searchParams.get("location")! }).end();
      } else if (url.pathname === "/hang") {
        held.push(response);
      } else if (url.pathname === "/stall") {
        response.writeHead(200, { "Content-Type": "application/json" });
        response.write("{");
        held.push(response);
      } else if (url.pathname === "/endless") {
        // Streams whitespace until the reader goes away, counting what was written.
        writtenBeforeClose = 0;
        response.writeHead(200, { "Content-Type": "application/json" });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        closed = new Promise((resolve) => {
          const pump = () => {
            while (!response.destroyed && writtenBeforeClose < 50 * 1024 * 1024) {
              writtenBeforeClose += chunk.length;
              if (!response.write(chunk)) return;
            }
            if (!response.destroyed) response.end();
          };
          response.on("drain", pump);
          response.on("close", () => resolve());
          pump();
        });
      } else if (url.pathname === "/declared") {
        response.writeHead(200, { "Content-Length": String(10 * 1024 * 1024) });
        response.write("x");
        held.push(response);
      } else {
        response.writeHead(200, { "Content-Type": "text/plain" }).end("hello");
      }
    });
    policy = {
      allowAddress: (address) => address === "127.0.0.1",
      resolve: resolver({ "good.test": ["127.0.0.1"], "bad.test": ["127.0.0.2"], "mixed.test": ["127.0.0.1", "127.0.0.2"] }),
    };
  });
  after(async () => {
    await Promise.all([closeHttpServer(allowed.server, held), closeHttpServer(refused.server)]);
  });

  const fetchOptions = (overrides: Partial<Parameters<typeof guardedFetch>[1]> = {}) => ({ policy, maxBytes: 1024, timeoutMs: 5000, ...overrides });

  test("an allowed address is fetched, by literal and by name", async () => {
    const byAddress = await guardedFetch(`http://127.0.0.1:${allowed.port}/hello`, fetchOptions());
    assert.equal(byAddress.status, 200);
    assert.equal(new TextDecoder().decode(byAddress.body), "hello");
    const byName = await guardedFetch(`http://good.test:${allowed.port}/hello`, fetchOptions());
    assert.equal(new TextDecoder().decode(byName.body), "hello");
  });

  test("a literal refused address, a name resolving to one, and a redirect to either are never connected to", async () => {
    const target = `http://127.0.0.2:${refused.port}/secret`;
    await assert.rejects(guardedFetch(target, fetchOptions()), refusedWith("refused"));
    await assert.rejects(guardedFetch(`http://bad.test:${refused.port}/secret`, fetchOptions()), refusedWith("refused"));
    // One address of a name refused is enough to refuse it.
    await assert.rejects(guardedFetch(`http://mixed.test:${refused.port}/secret`, fetchOptions()), refusedWith("refused"));
    for (const location of [target, `http://bad.test:${refused.port}/secret`, `http://[::ffff:127.0.0.2]:${refused.port}/secret`]) {
      const start = `http://127.0.0.1:${allowed.port}/to?location=${encodeURIComponent(location)}`;
      await assert.rejects(guardedFetch(start, fetchOptions()), refusedWith("refused"), location);
    }
    assert.ok(allowed.paths.filter((path) => path.startsWith("/to")).length >= 3, "the redirects were asked for");
    // The listener does record what reaches it: a request under a rule that allows it.
    const sentinel = await guardedFetch(`http://127.0.0.2:${refused.port}/sentinel`, fetchOptions({ policy: permissive }));
    assert.equal(new TextDecoder().decode(sentinel.body), "reached");
    assert.deepEqual(refused.paths, ["/sentinel"], "nothing but the sentinel reached 127.0.0.2");
  });

  test("a name is resolved again for each connection, so it cannot be re-pointed after a check", async () => {
    let answers = 0;
    const rebinding: NetworkPolicy = {
      allowAddress: policy.allowAddress,
      // The first answer is allowed; the next one points elsewhere.
      resolve: async () => [{ address: answers++ === 0 ? "127.0.0.1" : "127.0.0.2", family: 4 }],
    };
    const start = `http://rebind.test:${allowed.port}/to?location=${encodeURIComponent(`http://rebind.test:${refused.port}/secret`)}`;
    await assert.rejects(guardedFetch(start, fetchOptions({ policy: rebinding })), refusedWith("refused"));
    assert.equal(answers, 2);
    assert.deepEqual(refused.paths, ["/sentinel"]);
  });

  test("redirects stop after the maximum", async () => {
    const self = (hops: number): string => {
      let url = `http://127.0.0.1:${allowed.port}/hello`;
      for (let i = 0; i < hops; i++) url = `http://127.0.0.1:${allowed.port}/to?location=${encodeURIComponent(url)}`;
      return url;
    };
    const ok = await guardedFetch(self(2), fetchOptions({ maxRedirects: 2 }));
    assert.equal(ok.url, `http://127.0.0.1:${allowed.port}/hello`);
    await assert.rejects(guardedFetch(self(3), fetchOptions({ maxRedirects: 2 })), refusedWith("redirects"));
  });

  test("only http and https, without credentials", async () => {
    for (const url of ["file:///etc/passwd", "ftp://127.0.0.1/", `http://user:pass@127.0.0.1:${allowed.port}/hello`, "not a url"]) {
      await assert.rejects(guardedFetch(url, fetchOptions()), refusedWith("refused"), url);
    }
  });

  test("a body over the cap fails without being read to its end", async () => {
    await assert.rejects(guardedFetch(`http://127.0.0.1:${allowed.port}/declared`, fetchOptions()), refusedWith("too_large"));
    await assert.rejects(guardedFetch(`http://127.0.0.1:${allowed.port}/endless`, fetchOptions({ maxBytes: 256 * 1024 })), refusedWith("too_large"));
    await closed;
    // Of 50 MiB offered, the reader took its cap and the sockets' buffers took a few MiB at most.
    assert.ok(writtenBeforeClose < 16 * 1024 * 1024, `${writtenBeforeClose} bytes written before the connection closed`);
  });

  test("the deadline covers the answer and the body", async () => {
    await assert.rejects(guardedFetch(`http://127.0.0.1:${allowed.port}/hang`, fetchOptions({ timeoutMs: 300 })), refusedWith("timeout"));
    await assert.rejects(guardedFetch(`http://127.0.0.1:${allowed.port}/stall`, fetchOptions({ timeoutMs: 300 })), refusedWith("timeout"));
  });
});
