/**
 * Remote interaction: the owner of Islet (instance "home") meets an
 * account and a post on another server (instance "there", a second Islet
 * on loopback), follows the link that server's interaction dialog builds
 * from home's WebFinger template, signs in if needed, and follows,
 * favourites, boosts or replies in one click; the activities reach the
 * other server.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { findFollow } from "../../src/core/follows.ts";
import { findReblog } from "../../src/core/interactions.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { favourites, statuses } from "../../src/db/schema.ts";
import { chromiumSkip, launchChromium, screenshot, seriousAccessibilityViolations } from "../helpers/chromium.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { Browser, formFields, signIn, unescapeHtml } from "./browser.ts";

const PASSWORD = "a long test password";

/** The template's variables filled in as a remote server does: known ones encoded, others empty. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ""));
}

for (const kind of databaseKinds()) {
  describe(`remote interaction (${kind})`, () => {
    let home: TestInstance;
    let there: TestInstance;
    let templates: Map<string, string>;
    let browser: Browser;

    before(async () => {
      [home, there] = await Promise.all([
        startInstance(kind, { username: "owner" }),
        startInstance(kind, { username: "remote" }),
      ]);
      browser = new Browser(home.url);
    });
    after(async () => {
      await Promise.all([home?.close(), there?.close()]);
    });

    /** The path of `url` on home, reached at its loopback address. */
    const local = (url: string) => url.replace(home.origin, "");

    test("WebFinger names the interaction page in OStatus' and FEP-3b86's links", async () => {
      const host = new URL(home.origin).host;
      const response = await fetch(`${home.url}/.well-known/webfinger?resource=${encodeURIComponent(`acct:owner@${host}`)}`);
      assert.equal(response.status, 200);
      const jrd = await response.json() as { links: { rel: string; template?: string }[] };
      templates = new Map(jrd.links.filter((link) => link.template != null).map((link) => [link.rel, link.template!]));
      assert.equal(templates.get("http://ostatus.org/schema/1.0/subscribe"), `${home.origin}/authorize_interaction?uri={uri}`);
      for (const intent of ["Follow", "Like", "Announce", "Create"]) {
        assert.match(templates.get(`https://w3id.org/fep/3b86/${intent}`) ?? "", new RegExp(`^${home.origin}/authorize_interaction\\?`), intent);
      }
      assert.match(templates.get("https://w3id.org/fep/3b86/Follow")!, /\{object\}/);
      assert.match(templates.get("https://w3id.org/fep/3b86/Create")!, /\{inReplyTo\}/);
    });

    test("a visitor without a session is sent to sign in and brought back", async () => {
      const target = local(fill(templates.get("https://w3id.org/fep/3b86/Follow")!, { object: `${there.origin}/@remote` }));
      const first = await browser.get(target);
      assert.equal(first.response.status, 302);
      const location = first.response.headers.get("Location")!;
      assert.ok(location.startsWith("/auth/sign_in?return_to="), location);
      const returnTo = new URL(location, home.url).searchParams.get("return_to")!;
      // The same page with the same question (empty parameters dropped).
      const asked = new URL(target, home.url);
      const back = new URL(returnTo, home.url);
      assert.equal(back.pathname, "/authorize_interaction");
      assert.equal(back.searchParams.get("uri"), asked.searchParams.get("uri"));
      assert.equal(back.searchParams.get("intent"), "follow");
      const signedIn = await signIn(browser, "owner", PASSWORD, returnTo);
      assert.equal(signedIn.response.status, 303);
      assert.equal(signedIn.response.headers.get("Location"), returnTo);
    });

    test("follow: the account a profile link names is shown and followed in one click", async () => {
      const target = local(fill(templates.get("https://w3id.org/fep/3b86/Follow")!, { object: `${there.origin}/@remote` }));
      const page = await browser.get(target);
      assert.equal(page.response.status, 200, page.text.slice(0, 500));
      const thereHost = new URL(there.origin).host;
      assert.match(page.text, new RegExp(`<h1>Follow @remote@${thereHost.replace(/\./g, "\\.")}\\?</h1>`));
      assert.match(page.text, /<button type="submit" name="action" value="follow" class="primary">Follow<\/button>/);
      const done = await browser.post("/authorize_interaction", { ...formFields(page.text, "/authorize_interaction"), action: "follow" });
      assert.equal(done.response.status, 200, done.text.slice(0, 800));
      assert.match(done.text, /You (now follow|have asked to follow) @remote@/);

      const remoteAtHome = (await findAccountByUri(home.islet.core, `${there.origin}/users/remote`))!;
      await eventually(async () => (await findFollow(home.islet.core, home.owner!.account.id, remoteAtHome.id))?.state === "accepted", "the follow accepted");
      const ownerAtThere = (await findAccountByUri(there.islet.core, `${home.origin}/users/owner`))!;
      assert.equal((await findFollow(there.islet.core, ownerAtThere.id, there.owner!.account.id))?.state, "accepted");
      // Opened again, the page says so instead of offering the button.
      const again = await browser.get(target);
      assert.match(again.text, /You follow this account\./);
      assert.doesNotMatch(again.text, /value="follow"/);
    });

    test("favourite and boost: a post's link opens it with the intent's button first; both reach its server", async () => {
      const post = await createStatus(there.islet.core, there.owner!.account, { text: "favourite me from afar" });
      const target = local(fill(templates.get("https://w3id.org/fep/3b86/Like")!, { object: post.url!, "on-success": "https://there.example/back" }));
      const page = await browser.get(target);
      assert.equal(page.response.status, 200, page.text.slice(0, 500));
      assert.match(page.text, /favourite me from afar/);
      assert.match(page.text, /value="favourite" class="primary">Favourite</);
      const fields = formFields(page.text, "/authorize_interaction");
      assert.equal(fields["on-success"], "https://there.example/back");

      const favourited = await browser.post("/authorize_interaction", { ...fields, action: "favourite" });
      assert.equal(favourited.response.status, 200, favourited.text.slice(0, 800));
      assert.match(favourited.text, /You favourited the post\./);
      // The way back is offered as a link with its address shown, never followed by itself.
      assert.match(favourited.text, /<a href="https:\/\/there\.example\/back" rel="noopener noreferrer">there\.example<\/a>/);
      await eventually(async () => {
        const rows = await there.islet.core.db.select().from(favourites).where(eq(favourites.statusId, post.id));
        return rows.length === 1;
      }, "the Like at the post's server");

      const boosted = await browser.post("/authorize_interaction", { ...fields, action: "boost" });
      assert.match(boosted.text, /You boosted the post\./);
      const copy = (await findStatusByUri(home.islet.core, post.uri))!;
      assert.ok(await findReblog(home.islet.core, home.owner!.account.id, copy.id));
      await eventually(async () => (await there.islet.core.db.select().from(statuses).where(eq(statuses.reblogOfId, post.id))).length === 1, "the Announce at the post's server");

      // Opened again: both done.
      const again = await browser.get(target);
      assert.match(again.text, /<span class="state">Favourited<\/span>/);
      assert.match(again.text, /<span class="state">Boosted<\/span>/);
    });

    test("reply: the form posts a reply that reaches the post's server; a forged form does nothing", async () => {
      const post = await createStatus(there.islet.core, there.owner!.account, { text: "reply to me" });
      const target = local(fill(templates.get("https://w3id.org/fep/3b86/Create")!, { inReplyTo: post.url! }));
      const page = await browser.get(target);
      assert.equal(page.response.status, 200, page.text.slice(0, 500));
      assert.match(page.text, /value="reply" class="primary">Reply</);
      const thereHost = new URL(there.origin).host;
      assert.match(unescapeHtml(page.text), new RegExp(`<textarea id="text" name="text" required>@remote@${thereHost} </textarea>`));
      const fields = formFields(page.text, "/authorize_interaction");

      const forged = await browser.post("/authorize_interaction", { ...fields, authenticity_token: "x".repeat(43), action: "reply", text: "forged reply" });
      assert.equal(forged.response.status, 403);
      // From another site, even with this browser's cookies and token.
      for (const headers of [{ "Sec-Fetch-Site": "cross-site" }, { Origin: "https://elsewhere.example" }] as Record<string, string>[]) {
        const response = await fetch(`${home.url}/authorize_interaction`, {
          method: "POST",
          headers: { Cookie: browser.jar.header(), ...headers },
          body: new URLSearchParams({ ...fields, action: "reply", text: "cross-site reply" }),
          redirect: "manual",
        });
        assert.equal(response.status, 403, JSON.stringify(headers));
        await response.body?.cancel();
      }

      const replied = await browser.post("/authorize_interaction", { ...fields, action: "reply", text: `@remote@${thereHost} from my own server` });
      assert.equal(replied.response.status, 200, replied.text.slice(0, 800));
      assert.match(replied.text, /Your reply is posted\./);
      const copy = (await findStatusByUri(home.islet.core, post.uri))!;
      const replies = await home.islet.core.db.select().from(statuses).where(and(eq(statuses.inReplyToId, copy.id), eq(statuses.accountId, home.owner!.account.id)));
      assert.equal(replies.length, 1);
      assert.match(replies[0].content, /from my own server/);
      await eventually(() => findStatusByUri(there.islet.core, replies[0].uri), "the reply at the post's server");
      // The refused forms left nothing behind.
      const all = await home.islet.core.db.select().from(statuses).where(eq(statuses.accountId, home.owner!.account.id));
      assert.ok(!all.some((status) => /forged reply|cross-site reply/.test(status.content)));
    });

    test("the Create intent without a post opens an empty post form", async () => {
      const target = local(fill(templates.get("https://w3id.org/fep/3b86/Create")!, { content: "Shared from elsewhere" }));
      const page = await browser.get(target);
      assert.equal(page.response.status, 200, page.text.slice(0, 500));
      assert.match(page.text, /<h1>New post<\/h1>/);
      assert.match(page.text, /<textarea id="text" name="text" required>Shared from elsewhere<\/textarea>/);
      const posted = await browser.post("/authorize_interaction", { ...formFields(page.text, "/authorize_interaction"), action: "post", text: "Shared from elsewhere", visibility: "unlisted" });
      assert.match(posted.text, /Your post is published\./);
      const rows = await home.islet.core.db.select().from(statuses).where(eq(statuses.accountId, home.owner!.account.id));
      const made = rows.find((row) => /Shared from elsewhere/.test(row.content));
      assert.equal(made?.visibility, "unlisted");
    });

    test("an address that names nothing is a 404 page; no address is a 400", async () => {
      const missing = await browser.get(`/authorize_interaction?uri=${encodeURIComponent(`${there.origin}/@remote/1`)}`);
      assert.equal(missing.response.status, 404);
      assert.match(missing.text, /No account or post could be found/);
      const none = await browser.get("/authorize_interaction");
      assert.equal(none.response.status, 400);
      const legacy = await browser.get(`/authorize_follow?acct=${encodeURIComponent(`remote@${new URL(there.origin).host}`)}`);
      assert.equal(legacy.response.status, 301);
      assert.equal(legacy.response.headers.get("Location"), `/authorize_interaction?uri=${encodeURIComponent(`remote@${new URL(there.origin).host}`)}&intent=follow`);
      // A handle it already knows (the OStatus link's {uri} is one).
      const known = await browser.get(`/authorize_interaction?uri=${encodeURIComponent(`acct:remote@${new URL(there.origin).host}`)}`);
      assert.equal(known.response.status, 200);
      assert.match(known.text, /You follow this account\./);
      const handle = await browser.get(`/authorize_interaction?uri=${encodeURIComponent("acct:owner@" + new URL(home.origin).host)}`);
      assert.equal(handle.response.status, 200);
      assert.match(handle.text, /This is your own account\./);
    });

    test("in chromium: sign in, open a post's interaction page, favourite it", { skip: chromiumSkip() }, async () => {
      const post = await createStatus(there.islet.core, there.owner!.account, {
        text: "A post on another server, long enough to wrap onto a second line on a phone screen.",
      });
      const chromium = await launchChromium();
      try {
        const context = await chromium.newContext({ viewport: { width: 420, height: 900 }, bypassCSP: true });
        const page = await context.newPage();
        const target = local(fill(templates.get("https://w3id.org/fep/3b86/Like")!, { object: post.url! }));
        await page.goto(`${home.url}${target}`);
        assert.match(await page.title(), /Sign in/);
        await page.fill("#login", "owner");
        await page.fill("#password", PASSWORD);
        await Promise.all([page.waitForURL(/authorize_interaction/), page.click("button[type=submit].primary")]);
        await page.getByText("A post on another server").waitFor();
        await screenshot(page, "authorize-interaction-post");
        assert.deepEqual(await seriousAccessibilityViolations(page), []);
        await Promise.all([page.waitForLoadState(), page.getByRole("button", { name: "Favourite" }).click()]);
        await page.getByText("You favourited the post.").waitFor();
        await screenshot(page, "authorize-interaction-done");
        await eventually(async () => (await there.islet.core.db.select().from(favourites).where(eq(favourites.statusId, post.id))).length === 1, "the Like at the post's server");
      } finally {
        await chromium.close();
      }
    });
  });
}
