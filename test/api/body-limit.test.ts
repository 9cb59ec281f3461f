/** Request bodies are bounded: an oversized one is a 413 with a JSON error, not a memory spike. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";

for (const kind of databaseKinds()) {
  describe(`request body limits (${kind})`, () => {
    let instance: TestInstance;
    before(async () => {
      instance = await startInstance(kind);
    });
    after(async () => {
      await instance?.close();
    });

    test("a 2 MiB JSON body to an API endpoint is refused with 413", async () => {
      const body = JSON.stringify({ client_name: "x".repeat(2 * 1024 * 1024), redirect_uris: "urn:ietf:wg:oauth:2.0:oob" });
      const response = await fetch(`${instance.url}/api/v1/apps`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      assert.equal(response.status, 413);
      assert.deepEqual(await response.json(), { error: "The request body is too large" });
    });

    test("a normal body still goes through", async () => {
      const response = await fetch(`${instance.url}/api/v1/apps`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ client_name: "Small", redirect_uris: "urn:ietf:wg:oauth:2.0:oob" }),
      });
      assert.equal(response.status, 200);
    });
  });
}
