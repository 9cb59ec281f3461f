/**
 * GET and POST /api/v1/markers: read positions per timeline, saved from JSON
 * or a form, the version counting changes, scopes and bad input.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const skipContract = !openApiSchema() && "../shared/mastodon-openapi absent";

for (const kind of databaseKinds()) {
  describe(`markers API (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance, "read write");
    });
    after(async () => {
      await instance?.close();
    });

    const get = async (query: string) => {
      const response = await api(instance, "GET", `/api/v1/markers${query}`, { token });
      assert.equal(response.status, 200);
      return response.body;
    };

    test("nothing is marked at first; no timeline asked, nothing answered", async () => {
      assert.deepEqual(await get("?timeline[]=home&timeline[]=notifications"), {});
      assert.deepEqual(await get(""), {});
    });

    test("a position saved as JSON is read back, version 0", async () => {
      const before = Date.now();
      const saved = await api(instance, "POST", "/api/v1/markers", { token, body: { home: { last_read_id: "103206604258487607" } } });
      assert.equal(saved.status, 200);
      assert.deepEqual(Object.keys(saved.body), ["home"]);
      assert.equal(saved.body.home.last_read_id, "103206604258487607");
      assert.equal(saved.body.home.version, 0);
      assert.ok(Date.parse(saved.body.home.updated_at) >= before - 1000);
      const read = await get("?timeline[]=home&timeline[]=notifications");
      assert.deepEqual(read, saved.body);
      assert.deepEqual(await get("?timeline[]=notifications"), {});
      assert.deepEqual(await get("?timeline=home"), saved.body, "a single timeline without brackets");
    });

    test("each new position adds one to the version; the same one does not", async () => {
      const first = await api(instance, "POST", "/api/v1/markers", { token, body: { home: { last_read_id: "103206604258487608" } } });
      assert.equal(first.body.home.version, 1);
      const same = await api(instance, "POST", "/api/v1/markers", { token, body: { home: { last_read_id: "103206604258487608" } } });
      assert.equal(same.body.home.version, 1);
      const form = new URLSearchParams({ "home[last_read_id]": "103206604258487609", "notifications[last_read_id]": "42" });
      const both = await api(instance, "POST", "/api/v1/markers", { token, body: form });
      assert.equal(both.status, 200);
      assert.equal(both.body.home.version, 2);
      assert.equal(both.body.home.last_read_id, "103206604258487609");
      assert.equal(both.body.notifications.version, 0);
      assert.equal(both.body.notifications.last_read_id, "42");
      const read = await get("?timeline[]=home&timeline[]=notifications");
      assert.deepEqual(Object.keys(read).sort(), ["home", "notifications"]);
    });

    test("markers match the Marker schema", { skip: skipContract }, async () => {
      const read = await get("?timeline[]=home&timeline[]=notifications");
      assert.ok(Object.keys(read).length > 0);
      for (const marker of Object.values(read)) assertMatchesSchema("Marker", marker);
    });

    test("bad positions are 422", async () => {
      for (const body of [
        { home: { last_read_id: "not-an-id" } },
        { home: { last_read_id: "" } },
        { notifications: { last_read_id: { nested: true } } },
        { home: {} },
      ]) {
        const response = await api(instance, "POST", "/api/v1/markers", { token, body });
        assert.equal(response.status, 422, JSON.stringify(body));
        assert.equal(typeof response.body.error, "string");
      }
      assert.equal((await get("?timeline[]=home")).home.last_read_id, "103206604258487609", "nothing changed");
    });

    test("scopes: read:statuses to read, write:statuses to save", async () => {
      assert.equal((await api(instance, "GET", "/api/v1/markers?timeline[]=home")).status, 401);
      assert.equal((await api(instance, "POST", "/api/v1/markers", { body: { home: { last_read_id: "1" } } })).status, 401);
      const notifications = await ownerToken(instance, "read:notifications write:notifications");
      assert.equal((await api(instance, "GET", "/api/v1/markers?timeline[]=home", { token: notifications })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/markers", { token: notifications, body: { home: { last_read_id: "1" } } })).status, 403);
      const granular = await ownerToken(instance, "read:statuses write:statuses");
      assert.equal((await api(instance, "GET", "/api/v1/markers?timeline[]=home", { token: granular })).status, 200);
    });
  });
}
