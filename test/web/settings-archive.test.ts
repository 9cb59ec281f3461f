/**
 * Uploading a Mastodon account archive on the import page: a .zip built
 * here (outbox.json with a post, a reply to it and a boost of a post that
 * is gone; actor.json) is streamed in, worked by the archive imports
 * worker, and listed as finished with its counts and the skipped boost;
 * the posts are on the profile (API and page) and were never delivered (a
 * later post's delivery is the sentinel); the uploaded file is deleted.
 * A file that is not an archive is refused on the page; an archive without
 * outbox.json is listed as failed, saying so; a forged form and a declared
 * length past the limit are refused. Then the page in chromium.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import type { Browser as Chromium } from "playwright-core";
import { findAccountById } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { archiveImports, follows } from "../../src/db/schema.ts";
import { MAX_ARCHIVE_BYTES } from "../../src/web/settings/imports.ts";
import { api } from "../helpers/api.ts";
import { writeZip } from "../helpers/archives.ts";
import { chromiumSkip, launchChromium, screenshot, seriousAccessibilityViolations } from "../helpers/chromium.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer, type RemoteActorHandle } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { Browser, formFields, signIn, unescapeHtml, type Page } from "./browser.ts";

const PASSWORD = "a long test password";
const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const OLD = "https://old.example/users/me";
const skip = chromiumSkip();

/** Posts the archive form as a browser sends it (multipart), with the session's cookies. */
async function uploadArchive(browser: Browser, fields: Record<string, string>, file: { name: string; bytes: Uint8Array<ArrayBuffer>; type?: string }): Promise<Page> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append("archive", new Blob([file.bytes], { type: file.type ?? "application/zip" }), file.name);
  const response = await fetch(`${browser.base}/settings/import/archive`, { method: "POST", headers: { Cookie: browser.jar.header(), Accept: "text/html" }, body: form, redirect: "manual" });
  browser.jar.absorb(response);
  return { response, text: await response.text() };
}

/** The archive imports listed on the page, as the page shows them. */
function listedArchives(html: string): string[] {
  return [...html.matchAll(/<li class="archive-import"[\s\S]*?<\/li>/g)].map((match) => match[0]);
}

for (const kind of databaseKinds()) {
  describe(`account archive upload on the import page (${kind})`, () => {
    let instance: TestInstance;
    let remote: DocumentServer;
    let alice: RemoteActorHandle;
    let browser: Browser;
    let work: string;

    before(async () => {
      [instance, remote] = await Promise.all([startInstance(kind), startDocumentServer()]);
      alice = await remote.addActor("alice");
      work = await mkdtemp(join(tmpdir(), "islet-archive-upload-"));
      // alice follows the owner: a delivery of the imported posts would reach her inbox.
      const follow = await alice.post(`${instance.url}/users/owner/inbox`, { "@context": AS, id: `${alice.id}/follows/1`, type: "Follow", actor: alice.id, object: `${instance.origin}/users/owner` });
      assert.equal(follow.status, 202);
      await eventually(async () => (await instance.islet.core.db.select().from(follows).where(eq(follows.state, "accepted"))).length === 1, "alice's follow");
      browser = new Browser(instance.url);
      const signedIn = await signIn(browser, "owner", PASSWORD, "/settings/import");
      assert.equal(signedIn.response.status, 303, signedIn.text.slice(0, 500));
    });
    after(async () => {
      await Promise.all([instance?.close(), remote?.close()]);
      if (work != null) await rm(work, { recursive: true, force: true });
    });

    test("a .zip archive is uploaded, imported in the background, listed with its counts, and its file deleted", async () => {
      const dir = join(work, "good");
      await mkdir(dir, { recursive: true });
      const note = (n: number, object: Record<string, unknown>) => ({
        id: `${OLD}/statuses/${n}/activity`,
        type: "Create",
        actor: OLD,
        published: object.published,
        to: [PUBLIC],
        cc: [`${OLD}/followers`],
        object: { id: `${OLD}/statuses/${n}`, type: "Note", attributedTo: OLD, to: [PUBLIC], cc: [`${OLD}/followers`], ...object },
      });
      await writeFile(join(dir, "outbox.json"), JSON.stringify({
        "@context": AS,
        id: "outbox.json",
        type: "OrderedCollection",
        totalItems: 3,
        orderedItems: [
          note(1, { published: "2021-03-01T09:00:00Z", content: "<p>an old post from the archive</p>" }),
          note(2, { published: "2021-03-02T09:00:00Z", content: "<p>a reply in the old thread</p>", inReplyTo: `${OLD}/statuses/1` }),
          { id: `${OLD}/statuses/3/activity`, type: "Announce", actor: OLD, published: "2021-03-03T09:00:00Z", to: [PUBLIC], object: `${remote.origin}/notes/gone` },
        ],
      }));
      await writeFile(join(dir, "actor.json"), JSON.stringify({ "@context": AS, id: OLD, type: "Person", followers: `${OLD}/followers`, preferredUsername: "me", name: "Archived Me" }));
      const zip = join(work, "archive-20260301.zip");
      await writeZip(dir, zip);

      const page = await browser.get("/settings/import");
      assert.match(page.text, /<form method="post" action="\/settings\/import\/archive" enctype="multipart\/form-data">/);
      const answer = await uploadArchive(browser, formFields(page.text, "/settings/import/archive"), { name: "archive-20260301.zip", bytes: await readFile(zip) });
      assert.equal(answer.response.status, 303, answer.text.slice(0, 500));
      assert.equal(answer.response.headers.get("Location"), "/settings/import?notice=archive_import_started");

      let item = "";
      await eventually(async () => {
        item = listedArchives((await browser.get("/settings/import")).text)[0] ?? "";
        return /<span class="state">Finished<\/span>/.test(item);
      }, "the archive import to be listed as finished", 60_000);
      assert.match(item, /archive-20260301\.zip/);
      assert.doesNotMatch(item, /data-running/);
      assert.match(item, /2 posts, 0 boosts, 0 media files, 0 favourites and 0 bookmarks imported; profile updated; 0 already there, 1 skipped/);
      assert.match(unescapeHtml(item), new RegExp(`<span class="item">${remote.origin}/notes/gone</span>: the boosted post no longer resolves`));

      // The posts are on the profile, with their dates and thread.
      const owner = instance.owner!.account;
      const listed = await api<{ content: string; created_at: string; in_reply_to_id: string | null; id: string }[]>(instance, "GET", `/api/v1/accounts/${owner.id}/statuses`);
      assert.equal(listed.status, 200);
      const first = listed.body.find((status) => /an old post from the archive/.test(status.content));
      const reply = listed.body.find((status) => /a reply in the old thread/.test(status.content));
      assert.ok(first != null && reply != null, JSON.stringify(listed.body));
      assert.equal(first.created_at.slice(0, 10), "2021-03-01");
      assert.equal(reply.in_reply_to_id, first.id);
      const profilePage = await browser.get("/@owner");
      assert.equal(profilePage.response.status, 200);
      assert.match(profilePage.text, /an old post from the archive/);
      assert.equal((await findAccountById(instance.islet.core, owner.id))!.displayName, "Archived Me");

      // The uploaded file is gone, and nothing of it waits in DATA_DIR.
      const stored = await instance.islet.core.db.select().from(archiveImports);
      assert.deepEqual(stored.map((row) => row.filePath), [null]);
      // The progress kept is the end of the last file read.
      const outboxBytes = (await readFile(join(dir, "outbox.json"))).length;
      assert.deepEqual(stored[0]!.progress, { file: "outbox.json", bytesRead: outboxBytes, totalBytes: outboxBytes });
      assert.deepEqual(await readdir(join(instance.islet.core.config.dataDir, "imports")), []);

      // Never delivered: a new post is, after them, and it alone.
      const sentinel = await createStatus(instance.islet.core, owner, { text: "a new post after the upload" });
      await eventually(async () => remote.received.some((entry) => entry.body.type === "Create" && (entry.body.object as { id?: string })?.id === sentinel.uri), "the new post's delivery to alice");
      const delivered = remote.received.filter((entry) => entry.body.type === "Create" || entry.body.type === "Announce");
      assert.deepEqual(delivered.map((entry) => (entry.body.object as { id?: string })?.id ?? entry.body.object), [sentinel.uri]);
    });

    test("an import being read shows how far it got, and the page reloads itself meanwhile", async () => {
      const core = instance.islet.core;
      const [running] = await core.db
        .insert(archiveImports)
        .values({ id: 1n, accountId: instance.owner!.account.id, state: "in_progress", originalFilename: "big.zip", progress: { file: "outbox.json", bytesRead: 512, totalBytes: 2048 } })
        .returning();
      try {
        const item = listedArchives((await browser.get("/settings/import")).text).find((html) => html.includes("big.zip")) ?? "";
        assert.match(item, /data-running/);
        assert.match(item, /<span class="state">In progress<\/span>/);
        assert.match(item, /Reading outbox\.json <progress max="100" value="25">25%<\/progress> 25%/);
        const script = await browser.get("/settings/settings.js");
        assert.match(script.text, /\[data-running\][\s\S]*location\.reload\(\)/);
      } finally {
        await core.db.delete(archiveImports).where(eq(archiveImports.id, running!.id));
      }
    });

    test("a file that is not an archive is refused on the page, and starts nothing", async () => {
      const page = await browser.get("/settings/import");
      const before = listedArchives(page.text).length;
      const answer = await uploadArchive(browser, formFields(page.text, "/settings/import/archive"), { name: "outbox.json", bytes: new TextEncoder().encode('{"orderedItems":[]}'), type: "application/json" });
      assert.equal(answer.response.status, 422);
      assert.match(answer.text, /role="alert">The file is not an account archive: Mastodon gives a \.zip/);
      const empty = await uploadArchive(browser, formFields(page.text, "/settings/import/archive"), { name: "", bytes: new Uint8Array(0) });
      assert.equal(empty.response.status, 422);
      assert.match(empty.text, /role="alert">Choose an archive file\./);
      assert.equal(listedArchives((await browser.get("/settings/import")).text).length, before);
      assert.deepEqual(await readdir(join(instance.islet.core.config.dataDir, "imports")), []);
    });

    test("an archive without outbox.json is listed as failed, saying so, and its file deleted", async () => {
      const dir = join(work, "no-outbox");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "actor.json"), JSON.stringify({ "@context": AS, id: OLD, type: "Person", name: "Nobody" }));
      const zip = join(work, "no-outbox.zip");
      await writeZip(dir, zip);
      const page = await browser.get("/settings/import");
      const answer = await uploadArchive(browser, formFields(page.text, "/settings/import/archive"), { name: "no-outbox.zip", bytes: await readFile(zip) });
      assert.equal(answer.response.status, 303, answer.text.slice(0, 500));
      let item = "";
      await eventually(async () => {
        item = listedArchives((await browser.get("/settings/import")).text)[0] ?? "";
        return /<span class="state">Failed<\/span>/.test(item);
      }, "the archive import to be listed as failed", 60_000);
      assert.match(item, /no-outbox\.zip/);
      assert.match(item, /<span class="state">Failed<\/span>: <span class="failure">The archive has no outbox\.json<\/span>/);
      assert.deepEqual(await readdir(join(instance.islet.core.config.dataDir, "imports")), []);

      // A broken zip says so, naming the uploaded file rather than the server's copy.
      const broken = await uploadArchive(browser, formFields(page.text, "/settings/import/archive"), { name: "broken.zip", bytes: new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]) });
      assert.equal(broken.response.status, 303);
      await eventually(async () => {
        item = listedArchives((await browser.get("/settings/import")).text)[0] ?? "";
        return /<span class="state">Failed<\/span>/.test(item) && /broken\.zip/.test(item);
      }, "the broken archive to be listed as failed", 60_000);
      assert.match(item, /<span class="failure">broken\.zip could not be read as a zip archive/);
      assert.doesNotMatch(item, new RegExp(instance.islet.core.config.dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    });

    test("a forged form, or one declaring a length past the limit, is refused before the file is kept", async () => {
      const before = (await instance.islet.core.db.select().from(archiveImports)).length;
      const forged = await uploadArchive(browser, { authenticity_token: "forged" }, { name: "a.zip", bytes: new Uint8Array([0x50, 0x4b, 0x03, 0x04]) });
      assert.equal(forged.response.status, 403);
      // Only the headers are sent: the answer comes before any of the body is read.
      const url = new URL(`${instance.url}/settings/import/archive`);
      const tooLarge = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(url, {
          method: "POST",
          headers: { Cookie: browser.jar.header(), "Content-Type": "multipart/form-data; boundary=x", "Content-Length": String(MAX_ARCHIVE_BYTES + 1024 * 1024) },
        }, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on("error", reject);
        req.flushHeaders();
      });
      assert.equal(tooLarge.status, 422);
      assert.match(tooLarge.text, /role="alert">The archive is too large: the limit is 8 GB\./);
      assert.equal((await instance.islet.core.db.select().from(archiveImports)).length, before);
    });

    test("the page in chromium, with the form and a finished archive import: screenshot, and no serious accessibility violation", { skip }, async () => {
      let chromium: Chromium | null = null;
      try {
        chromium = await launchChromium();
        const context = await chromium.newContext({ viewport: { width: 1000, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${instance.origin}/settings/import`);
        await page.fill("#login", "owner");
        await page.fill("#password", PASSWORD);
        await page.click("button.primary");
        await page.waitForURL(/\/settings\/import$/);
        assert.equal(await page.locator("#archive_file").getAttribute("type"), "file");
        assert.equal(await page.locator("label[for=archive_file]").textContent(), "Archive");
        // One import being read, beside the finished and failed ones.
        await instance.islet.core.db
          .insert(archiveImports)
          .values({ id: newId(), accountId: instance.owner!.account.id, state: "in_progress", originalFilename: "archive-20260302.zip", progress: { file: "outbox.json", bytesRead: 700, totalBytes: 1000 } });
        await page.reload();
        const finished = page.locator("#archive_imports > li", { hasText: "archive-20260301.zip" });
        assert.match((await finished.textContent()) ?? "", /Finished[\s\S]*2 posts/);
        assert.equal(await page.locator("#archive_imports > li progress").getAttribute("value"), "70");
        await finished.locator("details.skipped summary").click();
        await screenshot(page, `settings-archive-import-${kind}`);
        const checker = await chromium.newContext({ bypassCSP: true });
        try {
          const probe = await checker.newPage();
          await probe.setContent(await page.content());
          assert.deepEqual(await seriousAccessibilityViolations(probe), []);
        } finally {
          await checker.close();
        }
      } finally {
        await chromium?.close();
      }
    });
  });
}
