/**
 * An owner with something to show on the public pages, made through the
 * Mastodon API as a client would: a profile with fields, a post with a
 * picture, a poll, a post behind a content warning, a thread with a remote
 * reply in it, a pinned post, a featured hashtag, and posts the public must
 * not see listed (unlisted) or at all (followers-only, direct).
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { newId } from "../../src/core/ids.ts";
import { accounts, follows, polls } from "../../src/db/schema.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import type { TestInstance } from "../helpers/instance.ts";
import { insertTestStatus } from "../helpers/statuses.ts";
import { picture } from "../media/fixtures.ts";

type Json = Record<string, any>;

export interface PublicFixture {
  token: string;
  picture: Json;
  poll: Json;
  cw: Json;
  root: Json;
  /** The remote reply to `root`, stored as if delivered. */
  remoteReplyId: bigint;
  ownReply: Json;
  pinned: Json;
  unlisted: Json;
  private: Json;
  direct: Json;
  tagged: Json;
}

async function post(instance: TestInstance, token: string, body: Json): Promise<Json> {
  const response = await api(instance, "POST", "/api/v1/statuses", { token, body });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

export async function seedPublicContent(instance: TestInstance): Promise<PublicFixture> {
  const token = await ownerToken(instance);
  const core = instance.islet.core;
  const profile = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", {
    token,
    body: {
      display_name: "Olive Owner",
      note: "Writing about #gardens and small islands.",
      fields_attributes: { 0: { name: "Website", value: "https://olive.example" }, 1: { name: "Pronouns", value: "she/her" } },
    },
  });
  assert.equal(profile.status, 200, JSON.stringify(profile.body));
  // Verification is done elsewhere; the page shows what is stored.
  const [stored] = await core.db.select().from(accounts).where(eq(accounts.id, instance.owner!.account.id));
  await core.db.update(accounts).set({
    fields: stored.fields.map((field, i) => (i === 0 ? { ...field, verifiedAt: "2026-11-30T12:00:00.000Z" } : field)),
    indexable: true,
  }).where(eq(accounts.id, stored.id));

  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(await picture("png", 640, 400, "#2a7f62"))], { type: "image/png" }), "garden.png");
  form.append("description", "A green rectangle standing in for a garden");
  const upload = await api(instance, "POST", "/api/v2/media", { token, body: form });
  assert.equal(upload.status, 200, JSON.stringify(upload.body));

  const root = await post(instance, token, { status: "Starting a thread about the island's ferry timetable." });
  const remote = await insertRemoteAccount(core, "friend", { displayName: "Friendly Remote" });
  const remoteReply = await insertTestStatus(core, remote, {
    inReplyTo: (await import("../../src/core/statuses.ts").then((m) => m.findStatus(core, BigInt(root.id))))!,
    content: "<p>The morning ferry leaves at seven, I think.</p>",
    url: (id) => `https://remote.example/@friend/${id}`,
  });
  const ownReply = await post(instance, token, { status: "@friend@remote.example Thanks, seven it is.", in_reply_to_id: remoteReply.id.toString() });
  const pictured = await post(instance, token, { status: "New beds in the #Gardens today.", media_ids: [upload.body.id] });
  const poll = await post(instance, token, { status: "Which bulbs next spring?", poll: { options: ["Tulips", "Crocuses", "Daffodils"], expires_in: 86400 } });
  const [pollRow] = await core.db.select().from(polls).where(eq(polls.statusId, BigInt(poll.id)));
  await core.db.update(polls).set({ votesCounts: [3, 1, 0], votersCount: 4 }).where(eq(polls.id, pollRow.id));
  const cw = await post(instance, token, { status: "The ending of the novel, in detail.", spoiler_text: "Book spoilers" });
  const pinned = await post(instance, token, { status: "Hello! This is my pinned introduction." });
  assert.equal((await api(instance, "POST", `/api/v1/statuses/${pinned.id}/pin`, { token })).status, 200);
  const tagged = await post(instance, token, { status: "Seedlings are up. #gardens" });
  const featured = await api(instance, "POST", "/api/v1/featured_tags", { token, body: { name: "gardens" } });
  assert.equal(featured.status, 200, JSON.stringify(featured.body));
  const unlisted = await post(instance, token, { status: "A quiet unlisted note #gardens", visibility: "unlisted" });
  const priv = await post(instance, token, { status: "Followers only secret #gardens", visibility: "private" });
  const direct = await post(instance, token, { status: "@friend@remote.example a direct word", visibility: "direct" });
  return {
    token,
    picture: pictured,
    poll,
    cw,
    root,
    remoteReplyId: remoteReply.id,
    ownReply,
    pinned,
    unlisted,
    private: priv,
    direct,
    tagged,
  };
}

/**
 * A remote account the owner follows (accepted, as if the other server
 * answered) and features on its profile through the API. Returns the
 * account's API id.
 */
export async function featureRemoteAccount(instance: TestInstance, token: string, username: string, displayName: string): Promise<string> {
  const core = instance.islet.core;
  const account = await insertRemoteAccount(core, username, { displayName });
  await core.db.insert(follows).values({ id: newId(), accountId: instance.owner!.account.id, targetAccountId: account.id, state: "accepted" });
  const endorsed = await api(instance, "POST", `/api/v1/accounts/${account.id}/endorse`, { token });
  assert.equal(endorsed.status, 200, JSON.stringify(endorsed.body));
  return account.id.toString();
}

/** A path on the test server for a URL on the canonical origin. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
