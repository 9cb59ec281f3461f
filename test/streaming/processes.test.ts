/**
 * Streaming across processes on PostgreSQL: `islet serve --role web`,
 * `--role worker` and `--role streaming` share one database, and an event
 * raised in one process reaches the streaming clients of another through
 * LISTEN/NOTIFY: an inbox delivery processed by the worker reaches a
 * WebSocket on the web process and one on the streaming process; a post
 * made through the web process reaches the streaming process. Each client
 * gets each event once. And one `all` process with STREAMING_PORT streams
 * on both of its ports.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { hashToken } from "../../src/core/token-hash.ts";
import { loadConfig } from "../../src/config.ts";
import { createOwner } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { oauthApplications, oauthTokens } from "../../src/db/schema.ts";
import { openCore } from "../../src/islet.ts";
import { runIslet, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { freePort } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";
import { refusedUpgrade, SseClient, streamingUrl, WsClient } from "./helpers.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

/** Creates the owner in the database `env` names, and returns a token of theirs. */
async function prepareOwner(env: Record<string, string>): Promise<string> {
  const opened = await openCore(loadConfig(env));
  try {
    const owner = await createOwner(opened.core, { username: "owner", email: "owner@example.com", password: "a long test password" });
    const applicationId = newId();
    await opened.core.db.insert(oauthApplications).values({
      id: applicationId, name: "Streaming test", website: null, redirectUris: ["urn:ietf:wg:oauth:2.0:oob"], scopes: "read write",
      clientId: randomBytes(16).toString("hex"), clientSecret: randomBytes(16).toString("hex"),
    });
    const token = randomBytes(32).toString("base64url");
    await opened.core.db.insert(oauthTokens).values({ id: newId(), tokenHash: hashToken(token), applicationId, accountId: owner.account.id, scopes: "read write" });
    return token;
  } finally {
    await opened.close();
  }
}

async function postStatus(base: string, token: string, status: string): Promise<any> {
  const response = await fetch(`${base}/api/v1/statuses`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ status }),
  });
  assert.equal(response.status, 200);
  return await response.json();
}

describe("streaming across processes (postgres)", { skip: !databaseKinds().includes("postgres") && "needs TEST_DATABASE_URL" }, () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let webPort: number;
  let streamingPort: number;
  let web: ServerProcess;
  let worker: ServerProcess;
  let streaming: ServerProcess;
  let remote: RemoteServer;
  let token: string;
  const origin = () => `http://localhost:${webPort}`;

  before(async () => {
    database = await createTestDatabase("postgres");
    [webPort, streamingPort] = [await freePort(), await freePort()];
    env = {
      DATABASE_URL: database.databaseUrl!,
      DATA_DIR: database.dataDir,
      PORT: String(webPort),
      STREAMING_PORT: String(streamingPort),
      ALLOW_PRIVATE_ADDRESS: "true",
      LOG_LEVEL: "error",
    };
    token = await prepareOwner(env);
    [web, worker, streaming, remote] = await Promise.all([
      startServerProcess(env, ["--role", "web"]),
      startServerProcess(env, ["--role", "worker"]),
      startServerProcess(env, ["--role", "streaming"]),
      startRemote("crossprocess"),
    ]);
  });
  after(async () => {
    await Promise.all([web?.kill(), worker?.kill(), streaming?.kill(), remote?.close()]);
    await database?.drop();
  });

  test("the instance points clients at STREAMING_PORT, where only streaming is served", async () => {
    const instance = await (await fetch(`http://127.0.0.1:${webPort}/api/v2/instance`)).json();
    assert.equal(instance.configuration.urls.streaming, `ws://localhost:${streamingPort}`);
    const v1 = await (await fetch(`http://127.0.0.1:${webPort}/api/v1/instance`)).json();
    assert.equal(v1.urls.streaming_api, `ws://localhost:${streamingPort}`);
    const health = await fetch(`http://127.0.0.1:${streamingPort}/api/v1/streaming/health`);
    assert.equal(await health.text(), "OK");
    const other = await fetch(`http://127.0.0.1:${streamingPort}/api/v1/timelines/home`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(other.status, 404);
    await other.arrayBuffer();
    assert.equal((await refusedUpgrade(streamingUrl(`http://127.0.0.1:${streamingPort}`))).status, 401);
  });

  test("an inbox reply processed by the worker, and a post made on the web process, reach clients of the other processes once", async () => {
    const onWeb = await WsClient.open(streamingUrl(`http://127.0.0.1:${webPort}`), { protocols: [token] });
    const onStreaming = await WsClient.open(streamingUrl(`http://127.0.0.1:${streamingPort}`), { protocols: [token] });
    const sse = await SseClient.open(`http://127.0.0.1:${streamingPort}/api/v1/streaming/user`, token);
    try {
      await onWeb.subscribe("user");
      await onStreaming.subscribe("user");

      const status = await postStatus(`http://127.0.0.1:${webPort}`, token, "Across processes");
      for (const client of [onWeb, onStreaming]) {
        const frame = await client.event((f) => f.event === "update", "the post");
        assert.equal(JSON.parse(frame.payload).id, status.id);
      }
      assert.equal(JSON.parse((await sse.next((e) => e.event === "update", "the post over SSE")).data).id, status.id);

      const owner = `${origin()}/users/owner`;
      const id = `${remote.origin}/notes/${crypto.randomUUID()}`;
      const note = {
        id, type: "Note", attributedTo: remote.actorId, inReplyTo: status.uri,
        content: `<p><a href="${owner}" class="u-url mention">@owner</a> from elsewhere</p>`,
        published: new Date().toISOString(), to: [PUBLIC], cc: [owner],
        tag: [{ type: "Mention", href: owner, name: `@owner@localhost:${webPort}` }],
      };
      const delivered = await remote.post(`${origin()}/inbox`, {
        "@context": "https://www.w3.org/ns/activitystreams", id: `${id}/activity`, type: "Create", actor: remote.actorId, object: note, to: note.to, cc: note.cc,
      });
      assert.equal(delivered.status, 202);
      for (const client of [onWeb, onStreaming]) {
        const update = await client.event((f) => f.event === "update", "the reply");
        assert.equal(JSON.parse(update.payload).uri, id);
        const notification = await client.event((f) => f.event === "notification", "the mention");
        assert.equal(JSON.parse(notification.payload).type, "mention");
      }
      // Once each: a last post comes next on both sockets.
      const lastStatus = await postStatus(`http://127.0.0.1:${webPort}`, token, "The last one");
      for (const client of [onWeb, onStreaming]) {
        const next = await client.event(() => true, "the last post");
        assert.equal(JSON.parse(next.payload).id, lastStatus.id);
        assert.equal(client.inbox.items.filter((f) => f.event === "notification").length, 1);
        assert.equal(client.inbox.items.filter((f) => f.event === "update").length, 3);
      }
    } finally {
      sse.close();
      await Promise.all([onWeb.close(), onStreaming.close()]);
    }
  });

  test("--role streaming without PostgreSQL is refused in one line", async () => {
    const result = await runIslet(["serve", "--role", "streaming"], { env: { DATA_DIR: database.dataDir, PORT: String(await freePort()) } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--role streaming needs PostgreSQL/);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  });
});

for (const kind of databaseKinds()) {
  describe(`one process listening on PORT and STREAMING_PORT (${kind})`, () => {
    let database: TestDatabase;
    let server: ServerProcess;
    let token: string;
    let ports: number[];

    before(async () => {
      database = await createTestDatabase(kind);
      ports = [await freePort(), await freePort()];
      const env: Record<string, string> = {
        DATA_DIR: database.dataDir,
        PORT: String(ports[0]),
        STREAMING_PORT: String(ports[1]),
        LOG_LEVEL: "error",
        ...(database.databaseUrl == null ? {} : { DATABASE_URL: database.databaseUrl }),
      };
      token = await prepareOwner(env);
      server = await startServerProcess(env);
    });
    after(async () => {
      await server?.kill();
      await database?.drop();
    });

    test("WebSockets on both ports get each post once", async () => {
      const clients = await Promise.all(ports.map((port) => WsClient.open(streamingUrl(`http://127.0.0.1:${port}`), { protocols: [token] })));
      try {
        for (const client of clients) await client.subscribe("user");
        const first = await postStatus(`http://127.0.0.1:${ports[0]}`, token, "On both ports");
        const second = await postStatus(`http://127.0.0.1:${ports[0]}`, token, "And again");
        for (const client of clients) {
          const received = [await client.event(() => true, "the first post"), await client.event(() => true, "the second post")];
          assert.deepEqual(received.map((frame) => JSON.parse(frame.payload).id), [first.id, second.id]);
        }
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    });
  });
}
