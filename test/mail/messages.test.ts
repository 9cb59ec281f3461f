/** The message templates: same words in text and HTML, escaped, links right. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  appAuthorizedMessage,
  followMessage,
  htmlToText,
  mentionMessage,
  passwordResetMessage,
  passwordResetUrl,
  testMessage,
} from "../../src/mail/messages.ts";

const config = { origin: "https://islet.example", localDomain: "islet.example" };

describe("mail messages", () => {
  test("password reset carries the link with the token, in text and HTML", () => {
    const token = "abc+/=?&<x>";
    const mail = passwordResetMessage(config, { to: "owner@example.com", username: "owner", token });
    const link = "https://islet.example/auth/password/edit?reset_password_token=abc%2B%2F%3D%3F%26%3Cx%3E";
    assert.equal(passwordResetUrl(config.origin, token), link);
    assert.equal(mail.to, "owner@example.com");
    assert.equal(mail.subject, "Reset your Islet password");
    assert.ok(mail.text.includes(`Choose a new password: ${link}`), mail.text);
    assert.ok(mail.html.includes(`href="${link.replace(/&/g, "&amp;")}"`), mail.html);
    assert.match(mail.text, /@owner@islet\.example/);
    assert.match(mail.text, /for 1 hour\b/);
    assert.match(passwordResetMessage(config, { to: "o@example.com", username: "o", token: "t", validForMinutes: 120 }).text, /for 2 hours/);
    assert.match(passwordResetMessage(config, { to: "o@example.com", username: "o", token: "t", validForMinutes: 30 }).text, /for 30 minutes/);
  });

  test("a new app authorized: name, scopes, and what to do if it was not you", () => {
    const mail = appAuthorizedMessage(config, {
      to: "owner@example.com",
      appName: "Ivory <script>",
      website: "https://tapbots.com/ivory/",
      scopes: "read write follow",
      at: new Date("2026-01-02T03:04:05.678Z"),
    });
    assert.equal(mail.subject, "A new application was authorized on your account: Ivory <script>");
    assert.match(mail.text, /Ivory <script> was given access to your account on 2026-01-02 03:04:05 UTC\./);
    assert.match(mail.text, /Permissions: read, write, follow/);
    assert.match(mail.text, /The app's website: https:\/\/tapbots\.com\/ivory\//);
    assert.match(mail.text, /If this was not you/);
    assert.ok(!mail.html.includes("<script>"), "the app's name is not escaped");
    assert.match(mail.html, /Ivory &lt;script&gt;/);
    assert.doesNotMatch(mail.text, /Authorized from/, "no address line without an address");
    const withIp = appAuthorizedMessage(config, { to: "owner@example.com", appName: "Elk", scopes: ["read"], ip: "2001:db8::7" });
    assert.match(withIp.text, /Permissions: read\nAuthorized from the address 2001:db8::7/);
  });

  test("a mention quotes the post as text, with its content warning", () => {
    const mail = mentionMessage(config, {
      to: "owner@example.com",
      author: { username: "alice", domain: "remote.example", displayName: "Alice\r\nBcc: x" },
      status: {
        url: null,
        uri: "https://remote.example/notes/1",
        content: "<p>Hi <a href=\"https://islet.example/@owner\">@owner</a>,<br>see &lt;this&gt; &#x1F600;</p><script>alert(1)</script>",
        spoilerText: "food",
        visibility: "direct",
      },
    });
    assert.equal(mail.subject, "Private mention from @alice@remote.example");
    assert.match(mail.text, /^Alice Bcc: x \(@alice@remote\.example\) sent you a private mention:/);
    assert.match(mail.text, /Content warning: food/);
    assert.match(mail.text, /> Hi @owner,\n> see <this> 😀/);
    assert.match(mail.text, /See the post: https:\/\/remote\.example\/notes\/1/);
    assert.ok(!mail.html.includes("<script>"), mail.html);
    assert.match(mail.html, /see &lt;this&gt;/);
  });

  test("htmlToText keeps paragraphs and drops tags", () => {
    assert.equal(htmlToText("<p>One</p><p>Two<br/>Three</p>"), "One\n\nTwo\nThree");
    assert.equal(htmlToText("a &amp;amp; b &nbsp;c &#65;"), "a &amp; b  c A");
  });

  test("every message has both parts and a single-line subject", () => {
    for (const mail of [
      testMessage(config, "a@example.com"),
      followMessage(config, { to: "a@example.com", follower: { username: "bob", domain: "remote.example", displayName: "Bob\nSmith", url: "https://remote.example/@bob" } }),
    ]) {
      assert.ok(!/[\r\n]/.test(mail.subject), mail.subject);
      assert.match(mail.text, /https:\/\/islet\.example\n$/);
      assert.match(mail.html, /^<!DOCTYPE html>/);
      assert.match(mail.html, /<a href="https:\/\/islet\.example"/);
    }
  });
});
