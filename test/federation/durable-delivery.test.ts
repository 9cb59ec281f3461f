/**
 * A delivery that is under way when the server is killed (kill -9) is sent
 * after the server starts again: the queue hands it out once its lease runs
 * out, and nothing is lost.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { databaseKinds, createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { runIslet, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { eventually, freePort } from "../helpers/instance.ts";
import { followActivity, startRemote, type RemoteServer } from "../helpers/remote.ts";

for (const kind of databaseKinds()) {
  describe(`durable delivery (${kind})`, () => {
    let database: TestDatabase;
    let remote: RemoteServer;
    let server: ServerProcess | undefined;

    after(async () => {
      await server?.kill("SIGKILL");
      await remote?.close();
      await database?.drop();
    });

    test("an Accept in flight when the process is killed arrives after restart", async () => {
      database = await createTestDatabase(kind);
      remote = await startRemote("patient");
      const port = await freePort();
      const env = {
        DATA_DIR: database.dataDir,
        DATABASE_URL: database.databaseUrl ?? undefined,
        PORT: String(port),
        ALLOW_PRIVATE_ADDRESS: "true",
        QUEUE_VISIBILITY_TIMEOUT: "2",
      };
      const passwordFile = join(database.dataDir, "password");
      writeFileSync(passwordFile, "a long test password\n");
      const setup = await runIslet(["setup", "--username", "owner", "--email", "owner@example.com", "--password-file", passwordFile], { env });
      assert.equal(setup.code, 0, setup.stderr);

      server = await startServerProcess(env);
      remote.behaviour = "hang";
      const follow = followActivity(remote, `http://localhost:${port}/users/owner`);
      const response = await remote.post(`http://localhost:${port}/users/owner/inbox`, follow);
      assert.equal(response.status, 202);

      // The Accept is on its way: the remote holds the request open.
      await eventually(async () => remote.attempts > 0, "the delivery attempt");
      assert.equal(remote.received.length, 0);
      await server.kill("SIGKILL");

      remote.behaviour = "accept";
      server = await startServerProcess(env);
      const accept = await eventually(
        async () => remote.received.find((r) => r.body.type === "Accept"),
        "the Accept after restart",
        30_000,
      );
      assert.equal((accept.body.object as { id: string }).id, follow.id);
      assert.ok(await remote.verify(accept), "the redelivered Accept is signed");
      await server.kill();
    });
  });
}
