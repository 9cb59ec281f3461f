/**
 * Mail as a reaction to events: the owner is mailed for the kinds switched
 * on, and not for the others; each mention, follow or report is mailed once.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getOwner } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { receiveFlag } from "../../src/core/reports.ts";
import { newId } from "../../src/core/ids.ts";
import { accounts, blocks, follows, mentions, reports, statuses } from "../../src/db/schema.ts";
import { createLogger } from "../../src/log.ts";
import { createMailer, createMailQueue, type MailMessage, type Mailer } from "../../src/mail/mailer.ts";
import {
  DEFAULT_MAIL_PREFERENCES,
  getMailPreferences,
  registerMailNotifications,
  setMailPreferences,
} from "../../src/mail/notifications.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startSmtpServer } from "./smtp.ts";

/** A mailer that keeps what it is given. */
function recordingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return {
    enabled: true,
    sent,
    async send(message) {
      sent.push(message);
    },
    async start() {},
    async verify() {},
  };
}

async function remoteAccount(core: CoreContext, username: string, domain = "remote.example") {
  const rows = await core.db.insert(accounts).values({
    id: newId(),
    username,
    domain,
    displayName: `${username} <b>Remote</b>`,
    uri: `https://${domain}/users/${username}`,
    url: `https://${domain}/@${username}`,
    inboxUrl: `https://${domain}/users/${username}/inbox`,
  }).returning();
  return rows[0];
}

/** A status by `authorId`, mentioning `mentionedIds`. */
async function statusMentioning(core: CoreContext, authorId: bigint, mentionedIds: bigint[], content: string) {
  const id = newId();
  await core.db.insert(statuses).values({
    id,
    accountId: authorId,
    uri: `https://remote.example/statuses/${id}`,
    url: `https://remote.example/@someone/${id}`,
    content,
    visibility: "public",
  });
  for (const accountId of mentionedIds) await core.db.insert(mentions).values({ id: newId(), statusId: id, accountId });
  return id;
}

for (const kind of databaseKinds()) {
  describe(`mail notifications (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let ownerId: bigint;

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      ownerId = instance.owner!.account.id;
    });
    after(async () => {
      await instance?.close();
    });

    test("preferences: follow requests and reports by default; set keeps the other switches", async () => {
      assert.deepEqual(await getMailPreferences(core, ownerId), DEFAULT_MAIL_PREFERENCES);
      assert.deepEqual(await setMailPreferences(core, ownerId, { mention: true }), {
        mention: true, follow: false, follow_request: true, report: true,
      });
      assert.deepEqual(await setMailPreferences(core, ownerId, { report: false }), {
        mention: true, follow: false, follow_request: true, report: false,
      });
      assert.deepEqual(await getMailPreferences(core, ownerId), { mention: true, follow: false, follow_request: true, report: false });
      await assert.rejects(setMailPreferences(core, ownerId, { favourite: true } as never), TypeError);
      await assert.rejects(setMailPreferences(core, ownerId, { mention: "yes" } as never), TypeError);
      // Back to the defaults for the tests below.
      await setMailPreferences(core, ownerId, { ...DEFAULT_MAIL_PREFERENCES });
      assert.deepEqual(await getMailPreferences(core, ownerId), DEFAULT_MAIL_PREFERENCES);
    });

    test("mentions: mailed only when switched on, once, and not for one's own posts or blocked authors", async () => {
      const mailer = recordingMailer();
      const off = registerMailNotifications(core, mailer);
      try {
        const alice = await remoteAccount(core, "alice");
        const first = await statusMentioning(core, alice.id, [ownerId], "<p>Hello <span>@owner</span> &amp; friends</p>");
        await core.events.emit("status.created", { statusId: first, accountId: alice.id });
        assert.equal(mailer.sent.length, 0, "mailed while mentions are off");

        await setMailPreferences(core, ownerId, { mention: true });
        const second = await statusMentioning(core, alice.id, [ownerId], "<p>Are you there, @owner?</p><p>Second line</p>");
        await core.events.emit("status.created", { statusId: second, accountId: alice.id });
        assert.equal(mailer.sent.length, 1);
        const mail = mailer.sent[0];
        assert.equal(mail.to, "owner@example.com");
        assert.equal(mail.subject, "@alice@remote.example mentioned you");
        assert.match(mail.text, /alice <b>Remote<\/b> \(@alice@remote\.example\) mentioned you:/);
        assert.match(mail.text, /> Are you there, @owner\?\n>\n> Second line/);
        assert.match(mail.text, new RegExp(`See the post: https://remote\\.example/@someone/${second}`));
        assert.match(mail.html, /alice &lt;b&gt;Remote&lt;\/b&gt;/, "the display name is escaped in HTML");

        // The same event again: no second mail.
        await core.events.emit("status.created", { statusId: second, accountId: alice.id });
        assert.equal(mailer.sent.length, 1);

        // A post that does not mention the owner.
        const other = await remoteAccount(core, "carol");
        const unrelated = await statusMentioning(core, alice.id, [other.id], "<p>Hi carol</p>");
        await core.events.emit("status.created", { statusId: unrelated, accountId: alice.id });
        // The owner's own post mentioning themself.
        const own = await statusMentioning(core, ownerId, [ownerId], "<p>Note to self</p>");
        await core.events.emit("status.created", { statusId: own, accountId: ownerId });
        // An author the owner blocks.
        const mallory = await remoteAccount(core, "mallory");
        await core.db.insert(blocks).values({ id: newId(), accountId: ownerId, targetAccountId: mallory.id });
        const blocked = await statusMentioning(core, mallory.id, [ownerId], "<p>Hey @owner</p>");
        await core.events.emit("status.created", { statusId: blocked, accountId: mallory.id });
        assert.equal(mailer.sent.length, 1, mailer.sent.map((m) => m.subject).join("\n"));
      } finally {
        off();
        await setMailPreferences(core, ownerId, { mention: false });
      }
    });

    test("follows and follow requests: each kind by its own switch, once per follow", async () => {
      const mailer = recordingMailer();
      const off = registerMailNotifications(core, mailer);
      try {
        const bob = await remoteAccount(core, "bob");
        const follow = (await core.db.insert(follows).values({ id: newId(), accountId: bob.id, targetAccountId: ownerId, state: "accepted" }).returning())[0];
        await core.events.emit("follow.received", { followId: follow.id, accountId: bob.id, targetAccountId: ownerId, pending: false });
        assert.equal(mailer.sent.length, 0, "mailed a follow while follows are off");

        const dave = await remoteAccount(core, "dave");
        const request = (await core.db.insert(follows).values({ id: newId(), accountId: dave.id, targetAccountId: ownerId, state: "pending" }).returning())[0];
        await core.events.emit("follow.received", { followId: request.id, accountId: dave.id, targetAccountId: ownerId, pending: true });
        await core.events.emit("follow.received", { followId: request.id, accountId: dave.id, targetAccountId: ownerId, pending: true });
        assert.deepEqual(mailer.sent.map((m) => m.subject), ["@dave@remote.example asks to follow you"]);
        assert.match(mailer.sent[0].text, /Their profile: https:\/\/remote\.example\/@dave/);

        await setMailPreferences(core, ownerId, { follow: true, follow_request: false });
        const erin = await remoteAccount(core, "erin");
        const followed = (await core.db.insert(follows).values({ id: newId(), accountId: erin.id, targetAccountId: ownerId, state: "accepted" }).returning())[0];
        await core.events.emit("follow.received", { followId: followed.id, accountId: erin.id, targetAccountId: ownerId, pending: false });
        const frank = await remoteAccount(core, "frank");
        const request2 = (await core.db.insert(follows).values({ id: newId(), accountId: frank.id, targetAccountId: ownerId, state: "pending" }).returning())[0];
        await core.events.emit("follow.received", { followId: request2.id, accountId: frank.id, targetAccountId: ownerId, pending: true });
        assert.deepEqual(mailer.sent.map((m) => m.subject), ["@dave@remote.example asks to follow you", "@erin@remote.example followed you"]);
      } finally {
        off();
        await setMailPreferences(core, ownerId, { ...DEFAULT_MAIL_PREFERENCES });
      }
    });

    test("reports received from others are mailed; the owner's own are not; off means off", async () => {
      const mailer = recordingMailer();
      const off = registerMailNotifications(core, mailer);
      try {
        const moderator = await remoteAccount(core, "moderator", "other.example");
        const report = (await core.db.insert(reports).values({
          id: newId(), accountId: moderator.id, targetAccountId: ownerId, comment: "Spam from your account", category: "spam", statusIds: ["1", "2"],
        }).returning())[0];
        await core.events.emit("report.created", { reportId: report.id, accountId: moderator.id, targetAccountId: ownerId });
        assert.equal(mailer.sent.length, 1);
        assert.equal(mailer.sent[0].subject, "New report from other.example");
        assert.match(mailer.sent[0].text, /reported your account/);
        assert.match(mailer.sent[0].text, /Category: spam\nPosts named in the report: 2/);
        assert.match(mailer.sent[0].text, /> Spam from your account/);

        const spammer = await remoteAccount(core, "spammer");
        const own = (await core.db.insert(reports).values({ id: newId(), accountId: ownerId, targetAccountId: spammer.id }).returning())[0];
        await core.events.emit("report.created", { reportId: own.id, accountId: ownerId, targetAccountId: spammer.id });
        assert.equal(mailer.sent.length, 1, "the owner's own report was mailed");

        await setMailPreferences(core, ownerId, { report: false });
        const later = (await core.db.insert(reports).values({ id: newId(), accountId: moderator.id, targetAccountId: ownerId }).returning())[0];
        await core.events.emit("report.created", { reportId: later.id, accountId: moderator.id, targetAccountId: ownerId });
        assert.equal(mailer.sent.length, 1, "mailed while reports are off");
      } finally {
        off();
        await setMailPreferences(core, ownerId, { ...DEFAULT_MAIL_PREFERENCES });
      }
    });

    test("a Flag received from another server is mailed once, through core", async () => {
      const mailer = recordingMailer();
      const off = registerMailNotifications(core, mailer);
      try {
        const reporter = await remoteAccount(core, "admin", "flagging.example");
        const owner = (await getOwner(core))!.account;
        const flag = { uri: "https://flagging.example/reports/1", comment: "Harassment in replies", statusIds: [] };
        await receiveFlag(core, reporter, owner, flag);
        assert.deepEqual(mailer.sent.map((m) => m.subject), ["New report from flagging.example"]);
        assert.match(mailer.sent[0].text, /@admin@flagging\.example\) \(a moderator or user at flagging\.example\) reported your account\./);
        assert.match(mailer.sent[0].text, /> Harassment in replies/);
        // The same Flag delivered again files and mails nothing new.
        await receiveFlag(core, reporter, owner, flag);
        assert.equal(mailer.sent.length, 1);
      } finally {
        off();
      }
    });

    test("end to end: a follow request reaches the SMTP server through the queue", async () => {
      const server = await startSmtpServer({});
      const config = {
        ...core.config,
        smtp: { ...core.config.smtp, server: "127.0.0.1", port: server.port, enableStarttls: "never" as const, authMethod: "none" as const },
      };
      const log = createLogger("error");
      const mailer = createMailer(config, createMailQueue(core.database, { log, pollIntervalMs: 200 }), log);
      const stop = new AbortController();
      const consumer = mailer.start(stop.signal);
      const off = registerMailNotifications(core, mailer);
      try {
        const grace = await remoteAccount(core, "grace");
        const request = (await core.db.insert(follows).values({ id: newId(), accountId: grace.id, targetAccountId: ownerId, state: "pending" }).returning())[0];
        await core.events.emit("follow.received", { followId: request.id, accountId: grace.id, targetAccountId: ownerId, pending: true });
        await eventually(async () => server.received.length > 0, "the mail");
        assert.deepEqual(server.received[0].to, ["owner@example.com"]);
        assert.match(server.received[0].raw, /^Subject: @grace@remote\.example asks to follow you$/m);
      } finally {
        off();
        stop.abort();
        await consumer;
        await server.close();
      }
    });
  });
}
