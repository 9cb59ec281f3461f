/**
 * A hostile peer on loopback: activities naming JSON-LD contexts it hosts,
 * some unknown and small, one huge (50 MiB streamed). Unsigned and badly
 * signed requests get 401 and no context is ever asked for; a signed
 * activity's unknown context is fetched once however many activities name
 * it; a huge one is cut off at the cap.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { generateCryptoKeyPair } from "@fedify/fedify";
import { follow, followAccepted } from "../../src/core/follows.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { MAX_CONTEXT_BYTES } from "../../src/federation/loaders.ts";
import { databaseKinds } from "../helpers/database.ts";
import { createNote } from "../helpers/federation.ts";
import { closeHttpServer } from "../helpers/http-server.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";

const HUGE_BYTES = 50 * 1024 * 1024;

interface ContextHost {
  origin: string;
  /** GET requests per path. */
  asked: Map<string, number>;
  /** Bytes of the huge context written to each connection, and whether it has closed. */
  huge: { written: number; closed: boolean }[];
  server: Server;
}

/** Serves small contexts at any /contexts/*.jsonld path, and 50 MiB of one at /contexts/huge.jsonld. */
async function startContextHost(): Promise<ContextHost> {
  const host: ContextHost = { origin: "", asked: new Map(), huge: [], server: null as unknown as Server };
  host.server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    host.asked.set(path, (host.asked.get(path) ?? 0) + 1);
    if (path === "/contexts/huge.jsonld") {
      // Whitespace-padded JSON, written as the reader takes it, never built in memory.
      response.writeHead(200, { "Content-Type": "application/ld+json" });
      const state = { written: 2, closed: false };
      host.huge.push(state);
      response.write('{"');
      const pad = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!response.destroyed && state.written < HUGE_BYTES) {
          state.written += pad.length;
          if (!response.write(pad)) return;
        }
        if (!response.destroyed) response.end('": 1}');
      };
      response.on("drain", pump);
      response.on("close", () => {
        state.closed = true;
      });
      pump();
      return;
    }
    if (/^\/contexts\/[\w-]+\.jsonld$/.test(path)) {
      response.writeHead(200, { "Content-Type": "application/ld+json" });
      response.end(JSON.stringify({ "@context": { mood: "https://peer.example/ns#mood" } }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => host.server.listen(0, "127.0.0.1", resolve));
  const address = host.server.address();
  host.origin = `http://127.0.0.1:${typeof address === "object" && address != null ? address.port : 0}`;
  return host;
}

for (const kind of databaseKinds()) {
  describe(`hostile peer (${kind})`, () => {
    let islet: TestInstance;
    let peer: RemoteServer;
    let contexts: ContextHost;
    let strangerKeys: CryptoKeyPair;

    /** A Create of a Note by the peer, naming the contexts at `paths` after ActivityStreams. */
    const noteWithContexts = (paths: string[], extra: Record<string, unknown> = {}) => ({
      ...createNote(peer, { content: "<p>context test</p>" }),
      "@context": ["https://www.w3.org/ns/activitystreams", ...paths.map((path) => `${contexts.origin}${path}`)],
      ...extra,
    });

    before(async () => {
      [islet, peer, contexts, strangerKeys] = await Promise.all([
        startInstance(kind),
        startRemote("peer"),
        startContextHost(),
        generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
      ]);
      // The owner follows the peer, so that its posts are kept.
      const core = islet.islet.core;
      const account = await resolveAccount(islet.islet.federation, core, peer.actorId);
      await followAccepted(core, await follow(core, islet.owner!.account, account));
    });
    after(async () => {
      await Promise.all([islet?.close(), peer?.close(), contexts == null ? null : closeHttpServer(contexts.server)]);
    });

    test("unsigned and badly signed activities get 401 and none of their contexts is fetched", async () => {
      const now = new Date().toISOString();
      const keyId = peer.keyId;
      // What a Linked Data Signature or an Object Integrity Proof looks like, forged.
      const forgedLdSignature = { signature: { type: "RsaSignature2017", creator: keyId, created: now, signatureValue: "Zm9yZ2Vk" } };
      const forgedProof = {
        proof: { type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022", verificationMethod: keyId, proofPurpose: "assertionMethod", proofValue: "zForged", created: now },
      };
      let sent = 0;
      for (const path of ["/contexts/unknown.jsonld", "/contexts/huge.jsonld"]) {
        for (const inbox of [`${islet.origin}/users/owner/inbox`, `${islet.origin}/inbox`]) {
          for (const [label, extra] of [["plain", {}], ["forged LD signature", forgedLdSignature], ["forged proof", forgedProof]] as const) {
            const activity = noteWithContexts([path], extra);
            const unsigned = await peer.post(inbox, activity, { unsigned: true });
            assert.equal(unsigned.status, 401, `unsigned, ${label}, ${path}`);
            assert.match((await unsigned.json()).error, /signature/);
            const badlySigned = await peer.post(inbox, activity, { keyPair: strangerKeys });
            assert.equal(badlySigned.status, 401, `signed with another key, ${label}, ${path}`);
            const tampered = await peer.post(inbox, activity, { sendBody: JSON.stringify({ ...activity, id: `${activity.id}-changed` }) });
            assert.equal(tampered.status, 401, `body changed after signing, ${label}, ${path}`);
            sent += 3;
          }
        }
      }
      assert.equal(sent, 36);
      // A signed activity's context is fetched: once that request has been
      // seen, the host has seen any request the refused ones led to.
      const sentinel = noteWithContexts(["/contexts/sentinel.jsonld"]);
      assert.equal((await peer.post(`${islet.origin}/users/owner/inbox`, sentinel)).status, 202);
      await eventually(async () => contexts.asked.has("/contexts/sentinel.jsonld"), "the sentinel context to be fetched");
      await eventually(() => findStatusByUri(islet.islet.core, (sentinel.object as { id: string }).id), "the sentinel post");
      assert.equal(contexts.asked.get("/contexts/unknown.jsonld"), undefined, "the unknown context was never asked for");
      assert.equal(contexts.asked.get("/contexts/huge.jsonld"), undefined, "the huge context was never asked for");
    });

    test("a signed activity's unknown context is fetched once, however many activities name it", async () => {
      const first = noteWithContexts(["/contexts/extension.jsonld"], {});
      const second = noteWithContexts(["/contexts/extension.jsonld"], {});
      const responses = await Promise.all([first, second].map((activity) => peer.post(`${islet.origin}/users/owner/inbox`, activity)));
      assert.deepEqual(responses.map((response) => response.status), [202, 202]);
      for (const activity of [first, second]) {
        await eventually(() => findStatusByUri(islet.islet.core, (activity.object as { id: string }).id), "the post to be stored");
      }
      const third = noteWithContexts(["/contexts/extension.jsonld"], {});
      assert.equal((await peer.post(`${islet.origin}/inbox`, third)).status, 202);
      await eventually(() => findStatusByUri(islet.islet.core, (third.object as { id: string }).id), "the third post to be stored");
      assert.equal(contexts.asked.get("/contexts/extension.jsonld"), 1);
    });

    test("a signed activity with a huge context is refused, its context read no further than the cap", async () => {
      const activity = noteWithContexts(["/contexts/huge.jsonld"]);
      const response = await peer.post(`${islet.origin}/users/owner/inbox`, activity);
      assert.ok(response.status >= 400 && response.status < 500, `refused with ${response.status}`);
      assert.ok(response.headers.get("Content-Type")?.startsWith("application/json"));
      assert.equal(typeof (await response.json()).error, "string");
      // Asked for once, and the connection dropped long before the end.
      assert.equal(contexts.asked.get("/contexts/huge.jsonld"), 1);
      await eventually(async () => contexts.huge[0]?.closed, "the context's connection to close");
      const written = contexts.huge[0].written;
      assert.ok(written > MAX_CONTEXT_BYTES, `the host wrote ${written} bytes`);
      assert.ok(written < 16 * 1024 * 1024, `only ${written} of ${HUGE_BYTES} bytes were written before the reader hung up`);
      // The server goes on: a later activity is taken, the huge one was not stored.
      const later = noteWithContexts(["/contexts/after-huge.jsonld"]);
      assert.equal((await peer.post(`${islet.origin}/users/owner/inbox`, later)).status, 202);
      await eventually(() => findStatusByUri(islet.islet.core, (later.object as { id: string }).id), "the later post");
      assert.equal(await findStatusByUri(islet.islet.core, (activity.object as { id: string }).id), null);
      // A second activity naming it within minutes is refused without a second download.
      const again = await peer.post(`${islet.origin}/users/owner/inbox`, noteWithContexts(["/contexts/huge.jsonld"]));
      assert.ok(again.status >= 400 && again.status < 500);
      assert.equal(contexts.asked.get("/contexts/huge.jsonld"), 1);
    });
  });
}
