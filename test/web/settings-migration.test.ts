/**
 * The import and export page and the account migration page over HTTP: a
 * following CSV naming accounts on a stand-in server is uploaded, listed,
 * worked to the end, and its report names the row that failed; a form
 * without this session's CSRF token changes nothing; an export downloads
 * as Mastodon's file with the follows, and the archive as a .tar.gz;
 * aliases are added by their actor address and removed; the owner moves to an account listing it as an alias, and
 * undoes it. Both pages are screenshotted in chromium and checked with axe.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser as Chromium } from "playwright-core";
import { getOwner } from "../../src/core/accounts.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer } from "../helpers/federation.ts";
import { chromiumSkip, launchChromium, screenshot, seriousAccessibilityViolations } from "../helpers/chromium.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { Browser, formFields, signIn, unescapeHtml, type Page } from "./browser.ts";

const PASSWORD = "a long test password";
const skip = chromiumSkip();

/** Posts a form with a file as a browser sends it (multipart), with the session's cookies. */
async function upload(browser: Browser, action: string, fields: Record<string, string>, file: { name: string; text: string }): Promise<Page> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append("data", new Blob([file.text], { type: "text/csv" }), file.name);
  const response = await fetch(`${browser.base}${action}`, { method: "POST", headers: { Cookie: browser.jar.header(), Accept: "text/html" }, body: form, redirect: "manual" });
  browser.jar.absorb(response);
  return { response, text: await response.text() };
}

for (const kind of databaseKinds()) {
  describe(`import, export and migration settings (${kind})`, () => {
    let instance: TestInstance;
    let remote: DocumentServer;
    let host: string;
    let browser: Browser;

    before(async () => {
      [instance, remote] = await Promise.all([startInstance(kind), startDocumentServer()]);
      for (const name of ["alice", "bob", "old"]) await remote.addActor(name);
      host = new URL(remote.origin).host;
      browser = new Browser(instance.url);
      const signedIn = await signIn(browser, "owner", PASSWORD, "/settings/import");
      assert.equal(signedIn.response.status, 303, signedIn.text.slice(0, 500));
    });
    after(async () => {
      await Promise.all([instance?.close(), remote?.close()]);
    });

    test("a following CSV is uploaded, listed, worked to the end, and its failed row reported", async () => {
      const page = await browser.get("/settings/import");
      assert.equal(page.response.status, 200);
      assert.match(page.text, /<a href="\/settings\/import" aria-current="page">Import and export<\/a>/);
      const csv = ["Account address,Show boosts,Notify on new posts,Languages", `alice@${host},true,false,`, `bob@${host},false,true,`, `nobody@${host},true,false,`, ""].join("\n");
      const answer = await upload(browser, "/settings/import", { ...formFields(page.text, "/settings/import"), type: "following", mode: "merge" }, { name: "following_accounts.csv", text: csv });
      assert.equal(answer.response.status, 303, answer.text.slice(0, 500));
      assert.equal(answer.response.headers.get("Location"), "/settings/import?notice=import_started");

      let listed = "";
      await eventually(async () => {
        listed = (await browser.get("/settings/import")).text;
        return /<span class="state">Finished<\/span>/.test(listed);
      }, "the import to be listed as finished", 30_000);
      assert.match(listed, /following_accounts\.csv/);
      assert.match(listed, /2 of 3 imported, 1 failed/);
      const report = /<a href="(\/settings\/imports\/\d+)">Report<\/a>/.exec(listed);
      assert.ok(report != null);
      const reportPage = await browser.get(report[1]);
      assert.equal(reportPage.response.status, 200);
      const failedRows = /<table id="failed_rows">([\s\S]*?)<\/table>/.exec(reportPage.text);
      assert.ok(failedRows != null, reportPage.text.slice(0, 2000));
      assert.match(unescapeHtml(failedRows[1]), new RegExp(`<td>4</td><td>nobody@${host.replace(/\./g, "\\.")}</td><td>[^<]*no account found`));
      assert.doesNotMatch(failedRows[1], /alice/);

      assert.equal((await browser.get("/settings/imports/1")).response.status, 404);
    });

    test("an upload without the session's CSRF token, or too large, is refused and starts nothing", async () => {
      const before = (await browser.get("/settings/import")).text.match(/class="import"/g)?.length ?? 0;
      const answer = await upload(browser, "/settings/import", { authenticity_token: "forged", type: "blocking", mode: "merge" }, { name: "blocked_accounts.csv", text: `alice@${host}\n` });
      assert.equal(answer.response.status, 403);
      const other = new Browser(instance.url);
      const page = await browser.get("/settings/migration");
      const foreign = await other.post("/settings/aliases", { ...formFields(page.text, "/settings/aliases"), acct: `old@${host}` });
      assert.equal(foreign.response.status, 303);
      assert.match(foreign.response.headers.get("Location") ?? "", /^\/auth\/sign_in/);
      const tooLarge = await upload(browser, "/settings/import", { ...formFields((await browser.get("/settings/import")).text, "/settings/import"), type: "blocking", mode: "merge" }, { name: "huge.csv", text: `alice@${host}\n`.repeat(600_000) });
      assert.equal(tooLarge.response.status, 413);
      const after = (await browser.get("/settings/import")).text.match(/class="import"/g)?.length ?? 0;
      assert.equal(after, before);
      assert.deepEqual((await getOwner(instance.islet.core))!.account.alsoKnownAs, []);
    });

    test("an export downloads as Mastodon's CSV file with the follows", async () => {
      const page = await browser.get("/settings/import");
      assert.match(page.text, /href="\/settings\/export\/following_accounts\.csv"/);
      const download = await browser.get("/settings/export/following_accounts.csv");
      assert.equal(download.response.status, 200);
      assert.match(download.response.headers.get("Content-Type") ?? "", /^text\/csv/);
      assert.equal(download.response.headers.get("Content-Disposition"), `attachment; filename="following_accounts.csv"`);
      const lines = download.text.split("\n").filter((line) => line !== "");
      assert.equal(lines[0], "Account address,Show boosts,Notify on new posts,Languages");
      assert.deepEqual(lines.slice(1).map((line) => line.split(",")[0]).sort(), [`alice@${host}`, `bob@${host}`]);
      assert.equal((await browser.get("/settings/export/secrets.csv")).response.status, 404);
      assert.equal((await new Browser(instance.url).get("/settings/export/following_accounts.csv")).response.status, 303);
    });

    test("the account archive downloads as a .tar.gz, leaving no file behind", async () => {
      const response = await fetch(`${instance.url}/settings/export/archive.tar.gz`, { headers: { Cookie: browser.jar.header() }, redirect: "manual" });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("Content-Type"), "application/gzip");
      assert.equal(response.headers.get("Content-Disposition"), `attachment; filename="archive.tar.gz"`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);
      const left = readdirSync(join(instance.islet.core.config.dataDir, "tmp")).filter((name) => name.startsWith("archive-"));
      assert.deepEqual(left, []);
      assert.equal((await new Browser(instance.url).get("/settings/export/archive.tar.gz")).response.status, 303);
    });

    test("an alias is added by its actor address and removed", async () => {
      let page = await browser.get("/settings/migration");
      assert.equal(page.response.status, 200);
      const added = await browser.post("/settings/aliases", { ...formFields(page.text, "/settings/aliases"), acct: `${remote.origin}/users/old` });
      assert.equal(added.response.status, 303, /role="alert">([^<]*)/.exec(added.text)?.[1]);
      assert.deepEqual((await getOwner(instance.islet.core))!.account.alsoKnownAs, [`${remote.origin}/users/old`]);
      page = await browser.get("/settings/migration?notice=alias_added");
      assert.match(page.text, /The alias is added/);
      assert.match(page.text, new RegExp(`<code>${remote.origin}/users/old</code>`));
      const unknown = await browser.post("/settings/aliases", { ...formFields(page.text, "/settings/aliases"), acct: `${remote.origin}/users/nobody` });
      assert.equal(unknown.response.status, 422);
      assert.match(unknown.text, /No account found/);
      const removed = await browser.post("/settings/aliases/remove", { ...formFields(page.text, "/settings/aliases/remove"), uri: `${remote.origin}/users/old` });
      assert.equal(removed.response.status, 303);
      assert.deepEqual((await getOwner(instance.islet.core))!.account.alsoKnownAs, []);
      assert.match((await browser.get("/settings/migration")).text, /No aliases\./);
    });

    test("moving needs the password and the new account's alias; it shows, and is undone", async () => {
      const owner = (await getOwner(instance.islet.core))!.account;
      const page = await browser.get("/settings/migration");
      const fields = formFields(page.text, "/settings/migration");
      const wrong = await browser.post("/settings/migration", { ...fields, acct: `alice@${host}`, current_password: "not it" });
      assert.equal(wrong.response.status, 422);
      assert.match(wrong.text, /current password is not right/);
      const notAlias = await browser.post("/settings/migration", { ...fields, acct: `${remote.origin}/users/alice`, current_password: PASSWORD });
      assert.equal(notAlias.response.status, 422);
      assert.match(notAlias.text, /among its aliases/);
      await remote.addActor("newhome", { alsoKnownAs: [owner.uri] });
      const moved = await browser.post("/settings/migration", { ...fields, acct: `${remote.origin}/users/newhome`, current_password: PASSWORD });
      assert.equal(moved.response.status, 303, /role="alert">([^<]*)/.exec(moved.text)?.[1]);
      const shown = await browser.get("/settings/migration?notice=moved");
      assert.match(shown.text, new RegExp(`id="moved">This account has moved to <a [^>]*>@newhome@${host.replace(/\./g, "\\.")}</a>`));
      assert.notEqual((await getOwner(instance.islet.core))!.account.movedToAccountId, null);
      const undone = await browser.post("/settings/migration/undo", formFields(shown.text, "/settings/migration/undo"));
      assert.equal(undone.response.status, 303);
      assert.equal((await getOwner(instance.islet.core))!.account.movedToAccountId, null);
      assert.match((await browser.get("/settings/migration")).text, /Move to this account/);
    });

    test("both pages in chromium: screenshots, and no serious accessibility violation", { skip }, async () => {
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
        for (const [path, name] of [["/settings/import", "settings-import"], ["/settings/migration", "settings-migration"]] as const) {
          await page.goto(`${instance.origin}${path}`);
          await screenshot(page, `${name}-${kind}`);
          const checker = await chromium.newContext({ bypassCSP: true });
          try {
            const probe = await checker.newPage();
            await probe.setContent(await page.content());
            assert.deepEqual(await seriousAccessibilityViolations(probe), [], `${name}: accessibility`);
          } finally {
            await checker.close();
          }
        }
      } finally {
        await chromium?.close();
      }
    });
  });
}
