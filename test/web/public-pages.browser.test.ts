/**
 * The public pages in a real browser (chromium), as a reader on a phone
 * sees them, under the pages' own Content-Security-Policy: the profile, a
 * post with a picture, a poll, a post behind a content warning, a thread,
 * a hashtag page and the RSS feed. Each page is saved as a screenshot
 * (test-output/screenshots/public-*.png) and checked with axe-core.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromiumSkip, launchChromium, screenshot, seriousAccessibilityViolations } from "../helpers/chromium.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { featureRemoteAccount, pathOf, seedPublicContent, type PublicFixture } from "./public-fixture.ts";

const skip = chromiumSkip();
const PHONE = { width: 390, height: 844 };

describe("public pages in a browser", { skip }, () => {
  let instance: TestInstance;
  let f: PublicFixture;
  let browser: Browser;
  let phone: BrowserContext;
  /** For axe only: its script is injected, which the pages' policy (rightly) refuses. */
  let audit: BrowserContext;
  const policyViolations: string[] = [];

  before(async () => {
    instance = await startInstance("pglite", { username: "owner" });
    f = await seedPublicContent(instance);
    await featureRemoteAccount(instance, f.token, "heron", "Heron Harbourmaster of the Northern Isles and Ferries");
    await featureRemoteAccount(instance, f.token, "wren", "Wren");
    browser = await launchChromium();
    phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    audit = await browser.newContext({ viewport: PHONE, bypassCSP: true });
    for (const context of [phone, audit]) context.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await instance?.close();
  });

  /** Opens a page of the instance at its canonical origin, failing on errors or refused resources. */
  async function open(path: string, context = phone): Promise<Page> {
    const page = await context.newPage();
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) policyViolations.push(`${path}: ${message.text()}`);
    });
    const response = await page.goto(`${instance.origin}${path}`, { waitUntil: "load" });
    assert.equal(response?.status(), 200, path);
    return page;
  }

  async function accessible(path: string): Promise<void> {
    const page = await open(path, audit);
    try {
      const violations = await seriousAccessibilityViolations(page);
      assert.deepEqual(violations, [], `${path}: ${JSON.stringify(violations, null, 1)}`);
    } finally {
      await page.close();
    }
  }

  /** Whether every picture on the page loaded (and none is broken), lazy ones brought into view first. */
  async function imagesLoaded(page: Page): Promise<void> {
    for (const image of await page.locator("img").all()) await image.scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    const broken = await page.$$eval("img", (images) =>
      images.filter((img) => !(img as HTMLImageElement).complete || (img as HTMLImageElement).naturalWidth === 0).map((img) => (img as HTMLImageElement).src)
    );
    assert.deepEqual(broken, [], "every picture loads");
  }

  test("the profile: name, handle, verified link, featured hashtag, pinned post first, tabs", async () => {
    const page = await open("/@owner");
    assert.equal(await page.locator("h1").innerText(), "Olive Owner");
    assert.match(await page.locator(".profile .handle").first().innerText(), /^@owner@localhost:\d+$/);
    const website = page.locator("dl.fields div.verified");
    assert.match(await website.innerText(), /Website\s+olive\.example ✓/);
    assert.equal(await website.locator("a").getAttribute("rel"), "nofollow noopener noreferrer me");
    assert.match(await page.locator(".featured").innerText(), /#Gardens 3/);
    const featured = page.locator(".featured-accounts");
    assert.equal(await featured.locator("h2").innerText(), "Featured profiles");
    assert.deepEqual(await featured.locator("a").evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href)), [
      "https://remote.example/@wren",
      "https://remote.example/@heron",
    ]);
    assert.match(await featured.locator("li").first().innerText(), /^Wren\s+@wren@remote\.example$/);
    const first = page.locator("ol.statuses > li").first();
    assert.match(await first.innerText(), /Pinned post[\s\S]*Hello! This is my pinned introduction\./);
    assert.equal(await page.locator('nav.tabs a[aria-current="page"]').innerText(), "Posts");
    const text = await page.locator("main").innerText();
    assert.ok(!text.includes("A quiet unlisted note") && !text.includes("Followers only secret"), "unlisted and private posts are not listed");
    // The content warning stays closed on the profile too.
    assert.equal(await page.getByText("The ending of the novel").isVisible(), false);
    await imagesLoaded(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, "nothing is wider than the phone's screen");
    await screenshot(page, "public-profile-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, "public-profile-desktop");
    await page.getByRole("link", { name: "Media", exact: true }).click();
    assert.equal(await page.locator("ol.statuses > li").count(), 1);
    assert.match(await page.locator("ol.statuses").innerText(), /New beds in the #Gardens today\./);
    await page.close();
    await accessible("/@owner");
  });

  test("a post with a picture: the picture shows, with its description", async () => {
    const path = pathOf(f.picture.url);
    const page = await open(path);
    const image = page.getByRole("img", { name: "A green rectangle standing in for a garden" });
    await image.scrollIntoViewIfNeeded();
    assert.ok(await image.isVisible());
    await imagesLoaded(page);
    assert.equal(await page.locator("figcaption").innerText(), "A green rectangle standing in for a garden");
    assert.match(await page.locator("article.focus .meta").innerText(), /0 replies\s*0 boosts\s*0 favourites/);
    await screenshot(page, "public-post-picture");
    await page.close();
    await accessible(path);
  });

  test("a poll shows its results", async () => {
    const path = pathOf(f.poll.url);
    const page = await open(path);
    const poll = page.locator(".poll");
    assert.match(await poll.innerText(), /75%\s*Tulips[\s\S]*25%\s*Crocuses[\s\S]*0%\s*Daffodils[\s\S]*4 people · Ends/);
    const bar = await page.locator(".poll li.leading .bar").boundingBox();
    const row = await page.locator(".poll li.leading").boundingBox();
    assert.ok(bar != null && row != null && Math.abs(bar.width / row.width - 0.75) < 0.02, "the leading bar fills three quarters");
    await screenshot(page, "public-post-poll");
    await page.close();
    await accessible(path);
  });

  test("a content warning hides the post until the reader opens it", async () => {
    const path = pathOf(f.cw.url);
    const page = await open(path);
    assert.ok(await page.getByText("Book spoilers").isVisible());
    const hidden = page.getByText("The ending of the novel, in detail.");
    assert.equal(await hidden.isVisible(), false);
    await screenshot(page, "public-post-cw-closed");
    await page.locator("details.cw > summary").click();
    assert.ok(await hidden.isVisible());
    await screenshot(page, "public-post-cw-open");
    await page.close();
    await accessible(path);
  });

  test("a thread: the post between what it answers and its replies, a remote reply included", async () => {
    const path = pathOf(f.ownReply.url);
    const page = await open(path);
    const posts = await page.locator("article").allInnerTexts();
    assert.equal(posts.length, 3);
    assert.match(posts[0], /Olive Owner[\s\S]*Starting a thread about the island's ferry timetable\./);
    assert.match(posts[1], /Friendly Remote\s*@friend@remote\.example[\s\S]*The morning ferry leaves at seven/);
    assert.match(posts[2], /Thanks, seven it is\./);
    assert.ok(await page.getByRole("heading", { name: "Earlier in the thread" }).isVisible());
    await imagesLoaded(page);
    await screenshot(page, "public-thread");
    // From the top of the thread, the replies are listed under it.
    await page.getByRole("link", { name: /Dec|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov/ }).first().click();
    assert.equal(new URL(page.url()).pathname, pathOf(f.root.url));
    assert.ok(await page.getByRole("heading", { name: "Replies" }).isVisible());
    await page.close();
    await accessible(path);
    await accessible(pathOf(f.root.url));
  });

  test("a hashtag page lists the tagged public posts", async () => {
    const page = await open("/tags/gardens");
    assert.equal(await page.locator("h1").innerText(), "#Gardens");
    const posts = await page.locator("article").allInnerTexts();
    assert.equal(posts.length, 2);
    assert.match(posts[0], /Seedlings are up\./);
    assert.match(posts[1], /New beds in the #Gardens today\./);
    await imagesLoaded(page);
    await screenshot(page, "public-tag");
    await page.close();
    await accessible("/tags/gardens");
  });

  test("the RSS feed linked from the profile reads as RSS 2.0 in the browser", async () => {
    const page = await open("/@owner");
    const href = await page.locator('link[rel="alternate"][type="application/rss+xml"]').getAttribute("href");
    assert.ok(href != null, "the profile links its feed");
    // The pages themselves may not fetch anything (their policy says so): a reader's
    // feed client fetches it, and the browser's XML parser reads it.
    const response = await phone.request.get(href);
    assert.equal(response.status(), 200);
    const type = response.headers()["content-type"];
    const reader = await phone.newPage();
    const feed = await reader.evaluate((text) => {
      const xml = new DOMParser().parseFromString(text, "application/xml");
      return {
        error: xml.querySelector("parsererror")?.textContent ?? null,
        version: xml.documentElement.getAttribute("version"),
        title: xml.querySelector("channel > title")?.textContent,
        items: [...xml.querySelectorAll("item")].map((item) => ({
          link: item.querySelector("link")?.textContent,
          enclosure: item.querySelector("enclosure")?.getAttribute("url") ?? null,
        })),
      };
    }, await response.text());
    await reader.close();
    assert.equal(feed.error, null);
    assert.match(type ?? "", /^application\/rss\+xml/);
    assert.equal(feed.version, "2.0");
    assert.equal(feed.title, "Olive Owner");
    const pictured = feed.items.find((item) => item.link === f.picture.url);
    assert.ok(pictured?.enclosure != null, "the picture is an enclosure");
    assert.ok(!feed.items.some((item) => item.link === f.unlisted.url || item.link === f.private.url));
    await page.close();
  });

  test("no page broke its Content-Security-Policy", () => {
    assert.deepEqual(policyViolations, []);
  });
});
