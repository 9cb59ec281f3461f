/**
 * Scheduled statuses: made by POST /api/v1/statuses with `scheduled_at`,
 * listed (paged), viewed, moved and cancelled through
 * /api/v1/scheduled_statuses, and published by publishDueScheduledStatuses.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { newId } from "../../src/core/ids.ts";
import { publishDueScheduledStatuses } from "../../src/core/scheduled-statuses.ts";
import { mediaAttachments, scheduledStatuses } from "../../src/db/schema.ts";
import { api, linkUrl, ownerToken, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import type { TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { asDescribed } from "../helpers/string-ids.ts";

const schema = openApiSchema();
const checkSchema = (name: string, value: unknown) => {
  if (schema != null) assertMatchesSchema(name, asDescribed(value));
};

const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

function assertError(response: { status: number; body: any }, status: number, what: string): void {
  assert.equal(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
  assert.equal(typeof response.body?.error, "string", `${what}: error body ${JSON.stringify(response.body)}`);
}

for (const kind of databaseKinds()) {
  describe(`scheduled statuses API (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    withOwnerInstance(kind, (started, ownerAccess) => {
      instance = started;
      token = ownerAccess;
    });

    async function insertMedia(): Promise<string> {
      const id = newId();
      await instance.islet.core.db.insert(mediaAttachments).values({
        id,
        accountId: instance.owner!.account.id,
        type: "image",
        contentType: "image/png",
        fileKey: `media_attachments/${id}.png`,
      });
      return id.toString();
    }

    async function schedule(body: Record<string, unknown>, headers?: Record<string, string>) {
      return await api(instance, "POST", "/api/v1/statuses", { token, body: { scheduled_at: inHours(2), ...body }, headers });
    }

    async function makeDue(id: string): Promise<void> {
      await instance.islet.core.db
        .update(scheduledStatuses)
        .set({ scheduledAt: new Date(Date.now() - 1000) })
        .where(eq(scheduledStatuses.id, BigInt(id)));
    }

    async function clear(): Promise<void> {
      await instance.islet.core.db.delete(scheduledStatuses);
    }

    test("posting with scheduled_at returns a ScheduledStatus instead of a Status", async () => {
      const media = await insertMedia();
      const when = inHours(3);
      const response = await api(instance, "POST", "/api/v1/statuses", {
        token,
        body: { status: "later", scheduled_at: when, media_ids: [media], visibility: "unlisted", spoiler_text: "cw", language: "fr" },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      checkSchema("ScheduledStatus", response.body);
      assert.equal(response.body.scheduled_at, when);
      assert.equal(response.body.params.text, "later");
      assert.equal(response.body.params.visibility, "unlisted");
      assert.equal(response.body.params.spoiler_text, "cw");
      assert.equal(response.body.params.language, "fr");
      assert.deepEqual(response.body.params.media_ids, [media]);
      assert.equal(response.body.params.poll, null);
      assert.deepEqual(response.body.media_attachments.map((m: any) => m.id), [media]);
      // Nothing was published; the media stay free of any status but are held.
      const timeline = await instance.islet.core.db.query.statuses.findMany();
      assert.equal(timeline.filter((s) => s.text === "later").length, 0);
      assertError(await api(instance, "POST", "/api/v1/statuses", { token, body: { status: "steal", media_ids: [media] } }), 422, "held media");
      await clear();
    });

    test("list, view, move and cancel", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await schedule({ status: `post ${i}`, poll: { options: ["a", "b"], expires_in: 600 } })).body.id);
      const list = await api(instance, "GET", "/api/v1/scheduled_statuses?limit=2", { token });
      assert.equal(list.status, 200);
      for (const item of list.body) checkSchema("ScheduledStatus", item);
      assert.deepEqual(list.body.map((s: any) => s.id), [ids[2], ids[1]]);
      assert.deepEqual(list.body[0].params.poll, { options: ["a", "b"], expires_in: 600, multiple: false, hide_totals: false });
      const next = linkUrl(list.headers.get("link"), "next");
      assert.ok(next?.startsWith(`${instance.origin}/api/v1/scheduled_statuses?`), next ?? "no next link");
      const rest = await api(instance, "GET", next!.replace(instance.origin, ""), { token });
      assert.deepEqual(rest.body.map((s: any) => s.id), [ids[0]]);
      const newer = await api(instance, "GET", `/api/v1/scheduled_statuses?min_id=${ids[0]}&limit=1`, { token });
      assert.deepEqual(newer.body.map((s: any) => s.id), [ids[1]]);

      const one = await api(instance, "GET", `/api/v1/scheduled_statuses/${ids[1]}`, { token });
      assert.equal(one.status, 200);
      checkSchema("ScheduledStatus", one.body);
      assert.equal(one.body.params.text, "post 1");

      const when = inHours(30);
      const moved = await api(instance, "PUT", `/api/v1/scheduled_statuses/${ids[1]}`, { token, body: { scheduled_at: when } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      checkSchema("ScheduledStatus", moved.body);
      assert.equal(moved.body.scheduled_at, when);
      const unchanged = await api(instance, "PUT", `/api/v1/scheduled_statuses/${ids[1]}`, { token, body: {} });
      assert.equal(unchanged.body.scheduled_at, when);

      const cancelled = await api(instance, "DELETE", `/api/v1/scheduled_statuses/${ids[1]}`, { token });
      assert.equal(cancelled.status, 200);
      assert.deepEqual(cancelled.body, {});
      assertError(await api(instance, "GET", `/api/v1/scheduled_statuses/${ids[1]}`, { token }), 404, "cancelled");
      assertError(await api(instance, "DELETE", `/api/v1/scheduled_statuses/${ids[1]}`, { token }), 404, "cancelled twice");
      await clear();
    });

    test("refuses bad input, unknown ids and missing scopes", async () => {
      const id = (await schedule({ status: "soon enough" })).body.id;
      const put = (body: unknown, t: string | null = token, target = id) => api(instance, "PUT", `/api/v1/scheduled_statuses/${target}`, { token: t, body });
      assertError(await put({ scheduled_at: "whenever" }), 422, "bad date");
      assertError(await put({ scheduled_at: new Date(Date.now() + 60_000).toISOString() }), 422, "too soon");
      assertError(await put({ scheduled_at: new Date(Date.now() - 3_600_000).toISOString() }), 422, "in the past");
      assertError(await put({ scheduled_at: 12 }), 422, "not a string");
      assertError(await put({ scheduled_at: inHours(5) }, null), 401, "no token");
      assertError(await put({ scheduled_at: inHours(5) }, await ownerToken(instance, "read")), 403, "read token");
      assertError(await put({ scheduled_at: inHours(5) }, token, "424242"), 404, "unknown");
      assertError(await api(instance, "GET", "/api/v1/scheduled_statuses"), 401, "list without a token");
      assertError(await api(instance, "GET", "/api/v1/scheduled_statuses", { token: await ownerToken(instance, "write") }), 403, "list without read");
      assertError(await api(instance, "GET", "/api/v1/scheduled_statuses/123", { token }), 404, "unknown");
      assertError(await api(instance, "GET", "/api/v1/scheduled_statuses/abc", { token }), 404, "malformed");
      assertError(await api(instance, "DELETE", `/api/v1/scheduled_statuses/${id}`, { token: await ownerToken(instance, "read") }), 403, "cancel with read");
      assertError(await schedule({ status: "" }), 422, "blank text");
      assertError(await schedule({ status: "x", poll: { options: ["only"], expires_in: 600 } }), 422, "bad poll");
      assertError(await schedule({ status: "x", in_reply_to_id: "5555" }), 404, "unknown reply");
      assertError(await schedule({ status: "x", scheduled_at: new Date(Date.now() + 120_000).toISOString() }), 422, "within five minutes");
      await clear();
    });

    test("a scheduled time already past posts at once", async () => {
      const response = await schedule({ status: "right away", scheduled_at: new Date(Date.now() - 60_000).toISOString() });
      assert.equal(response.status, 200);
      checkSchema("Status", response.body);
      assert.equal(response.body.content, "<p>right away</p>");
    });

    test("the same Idempotency-Key returns the same scheduled status", async () => {
      const first = await schedule({ status: "once" }, { "Idempotency-Key": "scheduled-once" });
      const second = await schedule({ status: "once" }, { "Idempotency-Key": "scheduled-once" });
      assert.equal(second.body.id, first.body.id);
      assert.equal((await api(instance, "GET", "/api/v1/scheduled_statuses", { token })).body.length, 1);
      await clear();
    });

    test("publishDueScheduledStatuses publishes what is due, once", async () => {
      const media = await insertMedia();
      const parent = (await api(instance, "POST", "/api/v1/statuses", { token, body: { status: "parent" } })).body;
      const due = (await schedule({ status: "published #later", media_ids: [media], in_reply_to_id: parent.id, visibility: "private" })).body;
      const notYet = (await schedule({ status: "not yet" })).body;
      const poll = (await schedule({ status: "with a poll", poll: { options: ["x", "y"], expires_in: 900, multiple: true } })).body;
      await makeDue(due.id);
      await makeDue(poll.id);
      const created: bigint[] = [];
      const off = instance.islet.core.events.on("status.created", ({ statusId }) => {
        created.push(statusId);
      });
      const published = await publishDueScheduledStatuses(instance.islet.core);
      off();
      assert.equal(published.length, 2);
      assert.deepEqual(created.sort(), published.map((s) => s.id).sort());
      const byText = new Map(published.map((s) => [s.text, s]));
      const post = byText.get("published #later")!;
      assert.equal(post.visibility, "private");
      assert.equal(post.inReplyToId?.toString(), parent.id);
      const shown = await api(instance, "GET", `/api/v1/statuses/${post.id}`, { token });
      assert.equal(shown.status, 200);
      assert.deepEqual(shown.body.media_attachments.map((m: any) => m.id), [media]);
      assert.deepEqual(shown.body.tags.map((t: any) => t.name), ["later"]);
      assert.deepEqual(shown.body.application, { name: "Test client", website: null });
      const withPoll = await api(instance, "GET", `/api/v1/statuses/${byText.get("with a poll")!.id}`, { token });
      assert.equal(withPoll.body.poll.multiple, true);
      assert.ok(Date.parse(withPoll.body.poll.expires_at) > Date.now() + 800_000);

      assertError(await api(instance, "GET", `/api/v1/scheduled_statuses/${due.id}`, { token }), 404, "published schedule");
      assert.equal((await api(instance, "GET", `/api/v1/scheduled_statuses/${notYet.id}`, { token })).status, 200);
      assert.deepEqual(await publishDueScheduledStatuses(instance.islet.core), []);
      await clear();
    });

    test("a scheduled reply whose parent is gone is posted as a plain post", async () => {
      const parent = (await api(instance, "POST", "/api/v1/statuses", { token, body: { status: "short-lived" } })).body;
      const due = (await schedule({ status: "orphan", in_reply_to_id: parent.id })).body;
      await api(instance, "DELETE", `/api/v1/statuses/${parent.id}`, { token });
      await makeDue(due.id);
      const [published] = await publishDueScheduledStatuses(instance.islet.core);
      assert.equal(published.text, "orphan");
      assert.equal(published.inReplyToId, null);
    });

    test("a scheduled post that can no longer be made is dropped", async () => {
      const media = await insertMedia();
      const due = (await schedule({ status: "", media_ids: [media] })).body;
      await instance.islet.core.db.delete(mediaAttachments).where(eq(mediaAttachments.id, BigInt(media)));
      await makeDue(due.id);
      assert.deepEqual(await publishDueScheduledStatuses(instance.islet.core), []);
      assertError(await api(instance, "GET", `/api/v1/scheduled_statuses/${due.id}`, { token }), 404, "dropped");
    });
  });
}
