/**
 * The push message's content: title and body as Mastodon writes them, the
 * id as a number with every digit, the VAPID contact, and the sealed access
 * token that only this server's SECRET_KEY_BASE opens.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openAccessToken, sealAccessToken } from "../../src/push/access-tokens.ts";
import { buildPushPayload, MAX_BODY_LENGTH, pushBody, pushTitle, serializePushPayload } from "../../src/push/payload.ts";
import { vapidSubject } from "../../src/push/vapid.ts";

const from = { displayName: "Alice <3", username: "alice", note: "<p>I write &amp; draw.</p>", avatarUrl: null };

describe("push payload", () => {
  test("titles name the sender and what they did", () => {
    assert.equal(pushTitle("mention", "Alice"), "Alice mentioned you");
    assert.equal(pushTitle("follow", "Alice"), "Alice is now following you");
    assert.equal(pushTitle("follow_request", "Alice"), "Alice asked to follow you");
    assert.equal(pushTitle("reblog", "Alice"), "Alice boosted your post");
    assert.equal(pushTitle("favourite", "Alice"), "Alice favourited your post");
    assert.equal(pushTitle("poll", "Alice"), "A poll by Alice has ended");
    assert.equal(pushTitle("something_new", "Alice"), "New notification from Alice");
  });

  test("the body: content warning first, else the post's text, else the sender's bio; plain, at most 140 characters", () => {
    assert.equal(pushBody(from, { spoilerText: "politics <3 & more", content: "<p>long rant</p>" }), "politics <3 & more");
    assert.equal(pushBody(from, { spoilerText: "", content: "<p>Hello <b>world</b> &lt;3</p><p>again</p>" }), "Hello world <3\n\nagain");
    assert.equal(pushBody(from, null), "I write & draw.");
    const long = pushBody(from, { spoilerText: "", content: `<p>${"é".repeat(300)}</p>` });
    assert.equal([...long].length, MAX_BODY_LENGTH);
    assert.ok(long.endsWith("…"));
  });

  test("notification_id is a JSON number with all its digits, even past 2^53", () => {
    const id = 115_678_901_234_567_891n;
    const payload = buildPushPayload({
      notification: { id, type: "mention" },
      from,
      status: { spoilerText: "", content: "<p>hi</p>" },
      accessToken: "secret-token",
      locale: "de",
      origin: "https://islet.example",
    });
    const text = serializePushPayload(payload);
    assert.match(text, /"notification_id":115678901234567891[,}]/);
    const parsed = JSON.parse(text);
    assert.equal(parsed.access_token, "secret-token");
    assert.equal(parsed.preferred_locale, "de");
    assert.equal(parsed.notification_type, "mention");
    assert.equal(parsed.title, "Alice <3 mentioned you");
    assert.equal(parsed.body, "hi");
    assert.equal(parsed.icon, "https://islet.example/avatars/original/missing.png");

    // A body quoting the key cannot be mistaken for it.
    const tricky = serializePushPayload({ ...payload, body: `"notification_id":"${id}"` });
    assert.equal(JSON.parse(tricky).body, `"notification_id":"${id}"`);
    assert.match(tricky, /"notification_id":115678901234567891,/);

    const anonymous = buildPushPayload({ notification: { id, type: "follow" }, from: { ...from, displayName: " " }, status: null, accessToken: null, locale: "", origin: "https://islet.example" });
    assert.equal(anonymous.title, "alice is now following you");
    assert.equal("access_token" in anonymous, false);
    assert.equal(anonymous.preferred_locale, "en");
  });

  test("the VAPID contact: the owner's address, else an https origin, else the mail sender", () => {
    const config = (origin: string, fromAddress = "Islet <notifications@islet.example>") => ({ origin, smtp: { fromAddress } }) as never;
    assert.equal(vapidSubject(config("http://localhost:3000"), "owner@example.com"), "mailto:owner@example.com");
    assert.equal(vapidSubject(config("https://islet.example"), null), "https://islet.example");
    assert.equal(vapidSubject(config("http://localhost:3000"), null), "mailto:notifications@islet.example");
    assert.equal(vapidSubject(config("http://localhost:3000", "notifications@localhost"), null), "mailto:notifications@localhost");
  });

  test("the access token is sealed: opened with the same SECRET_KEY_BASE only", () => {
    const secret = "a".repeat(64);
    const sealed = sealAccessToken(secret, "the-token");
    assert.ok(!sealed.includes("the-token"));
    assert.notEqual(sealAccessToken(secret, "the-token"), sealed, "a fresh nonce each time");
    assert.equal(openAccessToken(secret, sealed), "the-token");
    assert.equal(openAccessToken("b".repeat(64), sealed), null);
    assert.equal(openAccessToken(secret, sealed.replace(/^./, (c) => (c === "A" ? "B" : "A"))), null);
    assert.equal(openAccessToken(secret, "garbage"), null);
  });
});
