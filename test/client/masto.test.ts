/**
 * A real Mastodon client library (masto.js) drives Islet end to end, as a
 * new user's app would: it registers itself, the owner signs in and
 * authorizes it through the browser pages (PKCE S256, CSRF, cookies), and
 * the app then uses its token for the everyday flows: who am I, what
 * server is this, upload an image, post with media and with a poll, reply,
 * favourite, bookmark, read and page the home timeline, edit and read the
 * history, a quote post, notifications (v1 and grouped v2), a list, a filter, a marker,
 * search, deleting for a redraft, and the streaming user timeline.
 *
 * Every call goes through masto's own request and response handling, so a
 * wrong content type, an unparsable body or an error status fails here.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient, type mastodon } from "masto";
import sharp from "sharp";
import type { Account } from "../../src/core/accounts.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { receiveFollow } from "../../src/core/follows.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

const EMAIL = "owner@example.com";
const PASSWORD = "a long test password";
const SCOPES = "read write follow push";
/** A desktop app's loopback redirect (RFC 8252): registered without a port, used with one. */
const REGISTERED_REDIRECT = "http://127.0.0.1/callback";
const REDIRECT = "http://127.0.0.1:43123/callback";

// ---------------------------------------------------------------------------
// The browser side of the sign-in: plain fetch, a cookie jar, form scraping.

/** The cookies one site has set, sent back on every request to it. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = setCookie.split(";").map((part) => part.trim());
      const at = pair.indexOf("=");
      if (at <= 0) continue;
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const gone = value === "" || attributes.some((attribute) => /^max-age=0$/i.test(attribute));
      if (gone) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.#cookies.has(name);
  }

  toString(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

interface Page {
  status: number;
  location: string | null;
  contentType: string | null;
  html: string;
}

/** A browser that does not follow redirects by itself, so each step is seen. */
class Browser {
  readonly jar = new CookieJar();
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  async #send(method: "GET" | "POST", path: string, form?: Record<string, string>): Promise<Page> {
    const headers: Record<string, string> = {
      Accept: "text/html,application/xhtml+xml",
      "User-Agent": "Mozilla/5.0 (islet masto.js test)",
    };
    const cookie = this.jar.toString();
    if (cookie !== "") headers.Cookie = cookie;
    const response = await fetch(new URL(path, this.#base), {
      method,
      headers,
      body: form == null ? undefined : new URLSearchParams(form),
      redirect: "manual",
    });
    this.jar.store(response);
    return {
      status: response.status,
      location: response.headers.get("location"),
      contentType: response.headers.get("content-type"),
      html: await response.text(),
    };
  }

  get(path: string): Promise<Page> {
    return this.#send("GET", path);
  }

  post(path: string, form: Record<string, string>): Promise<Page> {
    return this.#send("POST", path, form);
  }
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (entity, name: string) => {
    const lower = name.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[lower] ?? entity;
  });
}

function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*"([^"]*)"/g)) {
    found[match[1].toLowerCase()] = decodeEntities(match[2]);
  }
  return found;
}

interface HtmlForm {
  method: string;
  /** What a browser would submit: the hidden and prefilled inputs. */
  fields: Record<string, string>;
  /** The names and values of the submit buttons. */
  buttons: Record<string, string>[];
  inputNames: string[];
}

/** The form of a page that posts to `action`. */
function findForm(html: string, action: string): HtmlForm {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const formAttributes = attributes(match[1]);
    if (formAttributes.action !== action) continue;
    const fields: Record<string, string> = {};
    const inputNames: string[] = [];
    for (const input of match[2].matchAll(/<input\b([^>]*)>/gi)) {
      const field = attributes(input[1]);
      if (field.name == null) continue;
      inputNames.push(field.name);
      if (field.value != null) fields[field.name] = field.value;
    }
    const buttons = [...match[2].matchAll(/<button\b([^>]*)>/gi)].map((button) => attributes(button[1]));
    return { method: (formAttributes.method ?? "get").toLowerCase(), fields, buttons, inputNames };
  }
  assert.fail(`no form posting to ${action} on the page:\n${html.slice(0, 1500)}`);
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

// ---------------------------------------------------------------------------
// Test data

async function pngImage(): Promise<Uint8Array<ArrayBuffer>> {
  const buffer = await sharp({
    create: { width: 64, height: 40, channels: 3, background: { r: 40, g: 120, b: 200 } },
  }).png().toBuffer();
  return Uint8Array.from(buffer);
}

async function remoteFollower(instance: TestInstance): Promise<Account> {
  return await insertRemoteAccount(instance.islet.core, "alice", {
    displayName: "Alice",
    note: "<p>Hi</p>",
    // Deliveries to it fail at once: nothing listens on port 9.
    inboxUrl: "http://127.0.0.1:9/inbox",
    followingCount: 1,
    publishedAt: new Date("2024-01-01T00:00:00Z"),
  });
}

/** Collects what a masto paginator yields, page after page. */
async function pages<T>(paginator: AsyncIterable<T[]>, max: number): Promise<T[][]> {
  const result: T[][] = [];
  for await (const page of paginator) {
    result.push(page);
    if (result.length >= max) break;
  }
  return result;
}

// ---------------------------------------------------------------------------

for (const kind of databaseKinds()) {
  describe(`masto.js drives Islet (${kind})`, () => {
    let instance: TestInstance;
    let app: mastodon.v1.Client;
    let verifier: string;
    let state: string;
    let code: string;
    let token: string;
    let client: mastodon.rest.Client;
    let me: mastodon.v1.CredentialAccount;
    let media: mastodon.v1.MediaAttachment;
    let mediaPost: mastodon.v1.Status;
    let pollPost: mastodon.v1.Status;
    let reply: mastodon.v1.Status;
    let follower: Account;

    before(async () => {
      instance = await startInstance(kind);
    });

    after(async () => {
      await instance?.close();
    });

    test("1. registers the app with POST /api/v1/apps", async () => {
      const anonymous = createRestAPIClient({ url: instance.url });
      app = await anonymous.v1.apps.create({
        clientName: "Masto Test App",
        redirectUris: [REGISTERED_REDIRECT, "urn:ietf:wg:oauth:2.0:oob"],
        scopes: SCOPES,
        website: "https://masto.example",
      });
      assert.equal(app.name, "Masto Test App");
      assert.equal(typeof app.clientId, "string");
      assert.ok(app.clientId!.length > 0);
      assert.equal(typeof app.clientSecret, "string");
      assert.ok(app.clientSecret!.length > 0);
      assert.deepEqual(app.scopes, ["read", "write", "follow", "push"]);
      assert.deepEqual(app.redirectUris, [REGISTERED_REDIRECT, "urn:ietf:wg:oauth:2.0:oob"]);
    });

    test("2. the owner signs in and authorizes the app in a browser (PKCE S256)", async () => {
      const pair = pkcePair();
      verifier = pair.verifier;
      state = randomBytes(8).toString("hex");
      const query = new URLSearchParams({
        response_type: "code",
        client_id: app.clientId!,
        redirect_uri: REDIRECT,
        scope: SCOPES,
        state,
        code_challenge: pair.challenge,
        code_challenge_method: "S256",
      });
      const browser = new Browser(instance.url);

      // Not signed in yet: the authorize URL shows the sign-in form.
      const signInPage = await browser.get(`/oauth/authorize?${query}`);
      assert.equal(signInPage.status, 200, signInPage.html.slice(0, 500));
      assert.match(signInPage.contentType ?? "", /^text\/html/);
      assert.match(signInPage.html, /Masto Test App/);
      const signInForm = findForm(signInPage.html, "/auth/sign_in");
      assert.equal(signInForm.method, "post");
      assert.ok(signInForm.inputNames.includes("login") && signInForm.inputNames.includes("password"));
      assert.ok(signInForm.fields.authenticity_token, "the sign-in form carries a CSRF token");
      assert.ok(browser.jar.has("islet_csrf"), "the CSRF cookie is set");

      const signedIn = await browser.post("/auth/sign_in", { ...signInForm.fields, login: EMAIL, password: PASSWORD });
      assert.equal(signedIn.status, 303, signedIn.html.slice(0, 500));
      assert.ok(browser.jar.has("islet_session"), "signing in sets the session cookie");
      assert.ok(signedIn.location?.startsWith("/oauth/authorize?"), `back to the authorization, not ${signedIn.location}`);

      // Signed in: the same URL now asks for consent.
      const consentPage = await browser.get(signedIn.location!);
      assert.equal(consentPage.status, 200, consentPage.html.slice(0, 500));
      assert.match(consentPage.html, /Authorize Masto Test App\?/);
      assert.match(consentPage.html, /@owner@/);
      const consentForm = findForm(consentPage.html, "/oauth/authorize");
      assert.equal(consentForm.method, "post");
      const authorizeButton = consentForm.buttons.find((button) => button.value === "authorize");
      assert.ok(authorizeButton?.name, "an Authorize button");
      assert.equal(consentForm.fields.code_challenge, pair.challenge);

      const decided = await browser.post("/oauth/authorize", { ...consentForm.fields, [authorizeButton.name]: authorizeButton.value });
      assert.equal(decided.status, 302, decided.html.slice(0, 500));
      assert.ok(decided.location != null);
      const callback = new URL(decided.location);
      assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT);
      assert.equal(callback.searchParams.get("state"), state);
      code = callback.searchParams.get("code") ?? "";
      assert.ok(code.length > 0, `a code in ${decided.location}`);
    });

    test("2b. exchanges the code at POST /oauth/token with masto's OAuth client and the code_verifier", async () => {
      const oauth = createOAuthAPIClient({ url: instance.url });
      // masto's types have no code_verifier yet; the field is serialised all the same.
      const params = {
        grantType: "authorization_code" as const,
        clientId: app.clientId!,
        clientSecret: app.clientSecret!,
        redirectUri: REDIRECT,
        code,
        codeVerifier: verifier,
      };
      const issued = await oauth.token.create(params);
      assert.equal(typeof issued.accessToken, "string");
      assert.ok(issued.accessToken.length >= 20);
      assert.equal(issued.tokenType, "Bearer");
      assert.equal(issued.scope, SCOPES);
      assert.equal(typeof issued.createdAt, "number");
      token = issued.accessToken;
      // (Not replayed here: a replayed code revokes the token it gave, RFC 6749 §4.1.2.)
    });

    test("3. verifies the credentials of the account and the app", async () => {
      client = createRestAPIClient({ url: instance.url, accessToken: token, timeout: 30_000 });
      me = await client.v1.accounts.verifyCredentials();
      assert.equal(me.username, "owner");
      assert.equal(me.acct, "owner");
      assert.equal(me.url, `${instance.origin}/@owner`);
      assert.equal(typeof me.id, "string");
      assert.equal(me.source.privacy, "public");
      assert.equal(typeof me.source.note, "string");
      assert.ok(Array.isArray(me.emojis) && Array.isArray(me.fields));

      const verified = await client.v1.apps.verifyCredentials();
      assert.equal(verified.name, "Masto Test App");
      assert.equal(verified.clientSecret, undefined, "verify_credentials does not hand out the secret");
    });

    test("4. reads the instance (v2): version and api_versions", async () => {
      const server = await client.v2.instance.fetch();
      assert.match(server.version, /^4\.\d+\.\d+/, "a Mastodon version clients can compare");
      // Mastodon sends a number (masto's types say string).
      const apiVersion: unknown = server.apiVersions.mastodon;
      assert.equal(typeof apiVersion, "number");
      assert.ok(Number(apiVersion) >= 2, `api_versions.mastodon is ${apiVersion}`);
      assert.equal(server.domain, new URL(instance.origin).host);
      assert.equal(server.contact.account?.username, "owner");
      assert.ok(server.configuration.mediaAttachments.supportedMimeTypes.includes("image/png"));
      assert.ok(server.configuration.statuses.maxCharacters >= 500);
      assert.ok(server.configuration.polls.maxOptions >= 2);
    });

    test("5. uploads an image with POST /api/v2/media (and masto's polling of GET /api/v1/media/:id)", async () => {
      const png = await pngImage();
      media = await client.v2.media.create({
        file: new Blob([png], { type: "image/png" }),
        description: "A blue rectangle",
      });
      assert.equal(media.type, "image");
      assert.equal(media.description, "A blue rectangle");
      assert.ok(media.url, "the upload is processed and has a URL");
      assert.ok(media.previewUrl);
      const original = (media.meta as { original?: { width?: number; height?: number } } | null)?.original;
      assert.equal(original?.width, 64);
      assert.equal(original?.height, 40);
      const file = await fetch(new URL(new URL(media.url!).pathname, instance.url));
      assert.equal(file.status, 200);
      assert.match(file.headers.get("content-type") ?? "", /^image\//);
      await file.arrayBuffer();
    });

    test("6. posts a status with the media, and another with a poll", async () => {
      mediaPost = await client.v1.statuses.create({
        status: "Hello from masto.js with a picture #mastotest",
        mediaIds: [media.id],
        visibility: "public",
        language: "en",
      });
      assert.equal(mediaPost.account.id, me.id);
      assert.equal(mediaPost.visibility, "public");
      assert.match(mediaPost.content, /Hello from masto\.js with a picture/);
      assert.equal(mediaPost.mediaAttachments.length, 1);
      assert.equal(mediaPost.mediaAttachments[0].id, media.id);
      assert.equal(mediaPost.mediaAttachments[0].description, "A blue rectangle");
      assert.deepEqual(mediaPost.tags.map((tag) => tag.name), ["mastotest"]);
      assert.equal(mediaPost.poll ?? null, null);

      pollPost = await client.v1.statuses.create({
        status: "Which one?",
        poll: { options: ["Tea", "Coffee"], expiresIn: 3600, multiple: false },
      });
      assert.ok(pollPost.poll != null);
      assert.deepEqual(pollPost.poll.options.map((option) => option.title), ["Tea", "Coffee"]);
      assert.equal(pollPost.poll.multiple, false);
      assert.equal(pollPost.poll.expired, false);
      assert.ok(pollPost.poll.expiresAt != null && Date.parse(pollPost.poll.expiresAt) > Date.now());
      assert.equal(pollPost.mediaAttachments.length, 0);
      assert.ok(BigInt(pollPost.id) > BigInt(mediaPost.id), "a later status has a larger id");

      // Mastodon refuses media and a poll together; so does Islet.
      // masto's types rule this out too, hence the cast.
      const both = { status: "both", mediaIds: [media.id], poll: { options: ["a", "b"], expiresIn: 3600 } } as unknown as { status: string };
      await assert.rejects(
        client.v1.statuses.create(both),
        (error: unknown) => {
          assert.equal((error as { statusCode?: number }).statusCode, 422);
          return true;
        },
      );
    });

    test("7. replies to the status and reads the thread", async () => {
      reply = await client.v1.statuses.create({ status: "And a reply", inReplyToId: mediaPost.id });
      assert.equal(reply.inReplyToId, mediaPost.id);
      assert.equal(reply.inReplyToAccountId, me.id);
      const thread = await client.v1.statuses.$select(mediaPost.id).context.fetch();
      assert.deepEqual(thread.ancestors, []);
      assert.deepEqual(thread.descendants.map((status) => status.id), [reply.id]);
      const parent = await client.v1.statuses.$select(mediaPost.id).fetch();
      assert.equal(parent.repliesCount, 1);
    });

    test("7b. quotes a status (quotedStatusId, quoteApprovalPolicy) and reads the quote back", async () => {
      const quoting = await client.v1.statuses.create({
        status: "Quoting my own picture",
        quotedStatusId: mediaPost.id,
        quoteApprovalPolicy: "followers",
      });
      const quote = quoting.quote as mastodon.v1.Quote | null | undefined;
      assert.equal(quote?.state, "accepted");
      assert.equal(quote?.quotedStatus?.id, mediaPost.id);
      assert.deepEqual(quoting.quoteApproval, { automatic: ["followers"], manual: [], currentUser: "automatic" });
      const fetched = await client.v1.statuses.$select(quoting.id).fetch();
      assert.equal((fetched.quote as mastodon.v1.Quote).quotedStatus?.content, mediaPost.content);
      const quotes = await client.v1.statuses.$select(mediaPost.id).quotes.list();
      assert.deepEqual(quotes.map((status) => status.id), [quoting.id]);
      assert.equal((await client.v1.statuses.$select(mediaPost.id).fetch()).quotesCount, 1);
      // Mastodon refuses a quote of a post that does not exist.
      await assert.rejects(client.v1.statuses.create({ status: "nothing", quotedStatusId: "1" }), (error: unknown) => {
        assert.equal((error as { statusCode?: number }).statusCode, 404);
        return true;
      });
      await client.v1.statuses.$select(quoting.id).remove();
    });

    test("8. favourites and bookmarks it", async () => {
      const favourited = await client.v1.statuses.$select(mediaPost.id).favourite();
      assert.equal(favourited.id, mediaPost.id);
      assert.equal(favourited.favourited, true);
      assert.equal(favourited.favouritesCount, 1);

      const bookmarked = await client.v1.statuses.$select(mediaPost.id).bookmark();
      assert.equal(bookmarked.bookmarked, true);
      assert.equal(bookmarked.favourited, true);

      const favourites = await client.v1.favourites.list();
      assert.deepEqual(favourites.map((status) => status.id), [mediaPost.id]);
      const bookmarks = await client.v1.bookmarks.list();
      assert.deepEqual(bookmarks.map((status) => status.id), [mediaPost.id]);
      const by = await client.v1.statuses.$select(mediaPost.id).favouritedBy.list();
      assert.deepEqual(by.map((account) => account.id), [me.id]);
    });

    test("9. reads the home timeline, newest first, and pages it with masto's paginator", async () => {
      const home = await client.v1.timelines.home.list();
      const ids = home.map((status) => status.id);
      assert.deepEqual(ids, [reply.id, pollPost.id, mediaPost.id]);
      assert.equal(home[2].favourited, true);
      assert.equal(home[2].bookmarked, true);

      const paged = await pages(client.v1.timelines.home.list({ limit: 1 }), 4);
      assert.deepEqual(paged.map((page) => page.map((status) => status.id)), [[reply.id], [pollPost.id], [mediaPost.id], []]);

      // Back up from the oldest with the "prev" link.
      const newer = await pages(client.v1.timelines.home.list({ limit: 1, maxId: pollPost.id }).setDirection("prev"), 2);
      assert.deepEqual(newer[0].map((status) => status.id), [mediaPost.id]);
      assert.deepEqual(newer[1]?.map((status) => status.id), [pollPost.id]);
    });

    test("10. edits a status (text and media description) and reads its history", async () => {
      const source = await client.v1.statuses.$select(mediaPost.id).source.fetch();
      assert.equal(source.text, "Hello from masto.js with a picture #mastotest");
      const edited = await client.v1.statuses.$select(mediaPost.id).update({
        status: "Hello from masto.js with a picture, edited #mastotest",
        mediaIds: [media.id],
        mediaAttributes: [{ id: media.id, description: "A blue rectangle, described again" }],
      });
      assert.match(edited.content, /edited/);
      assert.ok(edited.editedAt != null);
      assert.equal(edited.mediaAttachments.length, 1);
      assert.equal(edited.mediaAttachments[0].description, "A blue rectangle, described again");
      assert.equal(edited.favourited, true);

      const history = await client.v1.statuses.$select(mediaPost.id).history.list();
      assert.equal(history.length, 2);
      assert.doesNotMatch(history[0].content, /edited/);
      assert.match(history[1].content, /edited/);
      assert.deepEqual(history.map((version) => version.mediaAttachments.map((attachment) => attachment.id)), [[media.id], [media.id]]);
      // Each version keeps the descriptions it had, as Mastodon's history does.
      assert.equal(history[0].mediaAttachments[0].description, "A blue rectangle");
      assert.equal(history[1].mediaAttachments[0].description, "A blue rectangle, described again");
      assert.equal(history[1].account.id, me.id);
      mediaPost = edited;
    });

    test("11. reads notifications (v1): a follow from a remote account", async () => {
      follower = await remoteFollower(instance);
      await receiveFollow(instance.islet.core, follower, instance.owner!.account, "https://remote.example/activities/follow-1");
      const notifications = await eventually(async () => {
        const list = await client.v1.notifications.list();
        return list.length > 0 ? list : undefined;
      }, "a notification");
      assert.equal(notifications.length, 1);
      const [follow] = notifications;
      assert.equal(follow.type, "follow");
      assert.equal(follow.account.acct, "alice@remote.example");
      assert.equal(follow.account.displayName, "Alice");
      assert.ok(follow.groupKey, "Mastodon 4.3+ notifications have a group_key");

      const one = await client.v1.notifications.$select(follow.id).fetch();
      assert.equal(one.id, follow.id);
      // masto sends Rails-style arrays: types[]=follow.
      const onlyFollows = await client.v1.notifications.list({ types: ["follow", "follow_request"] });
      assert.deepEqual(onlyFollows.map((notification) => notification.id), [follow.id]);
      const onlyMentions = await client.v1.notifications.list({ types: ["mention"] });
      assert.deepEqual(onlyMentions, []);
      const allButFollows = await client.v1.notifications.list({ excludeTypes: ["follow"] });
      assert.deepEqual(allButFollows, []);
      const unread = await client.v1.notifications.unreadCount.fetch();
      assert.equal(unread.count, 1);

      const followers = await client.v1.accounts.$select(me.id).followers.list();
      assert.deepEqual(followers.map((account) => account.acct), ["alice@remote.example"]);
    });

    test("12. reads grouped notifications (v2)", async () => {
      const grouped = await client.v2.notifications.list();
      assert.equal(grouped.notificationGroups.length, 1);
      const [group] = grouped.notificationGroups;
      assert.equal(group.type, "follow");
      assert.equal(group.notificationsCount, 1);
      assert.ok(group.groupKey);
      assert.deepEqual(group.sampleAccountIds as unknown, [follower.id.toString()]);
      assert.deepEqual(grouped.accounts.map((account) => account.id), [follower.id.toString()]);
      assert.deepEqual(grouped.statuses, []);
      const count = await client.v2.notifications.unreadCount.fetch();
      assert.equal(count.count, 1);
    });

    test("13. creates a list and a filter", async () => {
      const list = await client.v1.lists.create({ title: "Friends", exclusive: false });
      assert.equal(list.title, "Friends");
      assert.equal(list.repliesPolicy, "list");
      assert.equal(list.exclusive, false);
      await client.v1.lists.$select(list.id).accounts.create({ accountIds: [follower.id.toString()] }).then(
        () => assert.fail("an account the owner does not follow cannot be added to a list"),
        (error: unknown) => assert.equal((error as { statusCode?: number }).statusCode, 422),
      );
      const lists = await client.v1.lists.list();
      assert.deepEqual(lists.map((entry) => entry.title), ["Friends"]);
      const timeline = await client.v1.timelines.list.$select(list.id).list();
      assert.deepEqual(timeline, []);

      const filter = await client.v2.filters.create({
        title: "Spoilers",
        context: ["home", "public"],
        filterAction: "warn",
        keywordsAttributes: [{ keyword: "spoiler", wholeWord: true }],
      });
      assert.equal(filter.title, "Spoilers");
      assert.deepEqual([...filter.context].sort(), ["home", "public"]);
      assert.equal(filter.filterAction, "warn");
      assert.equal(filter.keywords?.length, 1);
      assert.equal(filter.keywords?.[0].keyword, "spoiler");
      assert.equal(filter.keywords?.[0].wholeWord, true);
      const filters = await client.v2.filters.list();
      assert.deepEqual(filters.map((entry) => entry.id), [filter.id]);

      // The filter applies: a post with the keyword comes back marked.
      const spoiler = await client.v1.statuses.create({ status: "Big spoiler ahead" });
      const home = await client.v1.timelines.home.list({ limit: 1 });
      assert.equal(home[0].id, spoiler.id);
      assert.equal(home[0].filtered?.[0]?.filter.id, filter.id);
      assert.deepEqual(home[0].filtered?.[0]?.keywordMatches, ["spoiler"]);
      await client.v1.statuses.$select(spoiler.id).remove();
      await client.v2.filters.$select(filter.id).remove();
      assert.deepEqual(await client.v2.filters.list(), []);
    });

    test("14. sets and reads a marker", async () => {
      const first = await client.v1.markers.create({ home: { lastReadId: pollPost.id } });
      assert.equal(first.home?.lastReadId, pollPost.id);
      assert.equal(first.home?.version, 0, "a new marker starts at lock_version 0, as in Mastodon");
      const set = await client.v1.markers.create({ home: { lastReadId: reply.id } });
      assert.equal(set.home?.lastReadId, reply.id);
      assert.equal(set.home?.version, 1);
      const read = await client.v1.markers.fetch({ timeline: ["home", "notifications"] });
      assert.equal(read.home?.lastReadId, reply.id);
      assert.equal(read.home?.version, 1);
      assert.equal(typeof read.home?.updatedAt, "string");
      assert.equal(read.notifications, undefined);
    });

    test("15. searches accounts, statuses and hashtags", async () => {
      const found = await client.v2.search.list({ q: "masto.js with a picture" });
      assert.deepEqual(found.statuses.map((status) => status.id), [mediaPost.id]);
      const accounts = await client.v2.search.list({ q: "alice@remote.example", type: "accounts" });
      assert.deepEqual(accounts.accounts.map((account) => account.acct), ["alice@remote.example"]);
      assert.deepEqual(accounts.statuses, []);
      const tags = await client.v2.search.list({ q: "#mastotest", type: "hashtags" });
      assert.deepEqual(tags.hashtags.map((tag) => tag.name), ["mastotest"]);
      const owner = await client.v1.accounts.lookup({ acct: "owner" });
      assert.equal(owner.id, me.id);
    });

    test("16. deletes statuses and gets their source back for a redraft", async () => {
      const deletedPoll = await client.v1.statuses.$select(pollPost.id).remove();
      assert.equal(deletedPoll.id, pollPost.id);
      assert.equal(deletedPoll.text, "Which one?");
      assert.deepEqual(deletedPoll.poll?.options.map((option) => option.title), ["Tea", "Coffee"]);

      const deletedMedia = await client.v1.statuses.$select(mediaPost.id).remove();
      assert.equal(deletedMedia.text, "Hello from masto.js with a picture, edited #mastotest");
      assert.deepEqual(deletedMedia.mediaAttachments.map((attachment) => attachment.id), [media.id]);

      await assert.rejects(client.v1.statuses.$select(pollPost.id).fetch(), (error: unknown) => {
        assert.equal((error as { statusCode?: number }).statusCode, 404);
        return true;
      });
      const home = await client.v1.timelines.home.list();
      assert.deepEqual(home.map((status) => status.id), [reply.id]);

      // Redraft: the media the deleted status had can be attached again.
      const redraft = await client.v1.statuses.create({
        status: deletedMedia.text!,
        mediaIds: deletedMedia.mediaAttachments.map((attachment) => attachment.id),
      });
      assert.deepEqual(redraft.mediaAttachments.map((attachment) => attachment.id), [media.id]);
    });

    test("17. streams the user timeline over masto's WebSocket (/api/v1/streaming)", async () => {
      const health = await fetch(`${instance.url}/api/v1/streaming/health`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), "OK");
      const server = await client.v2.instance.fetch();
      assert.equal(server.configuration.urls.streaming, instance.origin.replace(/^http/, "ws"));
      const streaming = createStreamingAPIClient({
        streamingApiUrl: server.configuration.urls.streaming,
        accessToken: token,
        retry: false,
      });
      const subscription = streaming.user.subscribe();
      const events: mastodon.streaming.Event[] = [];
      const reading = (async () => {
        for await (const event of subscription) events.push(event);
      })().catch(() => {});
      try {
        // masto sends its subscription once the socket is open: a filters_changed
        // event raised until one arrives shows the subscription is in place.
        await eventually(async () => {
          await instance.islet.core.events.emit("filters.changed", { accountId: instance.owner!.account.id });
          return events.some((event) => event.event === "filters_changed");
        }, "the subscription to take effect");
        const posted = await client.v1.statuses.create({ status: "Streamed" });
        const update = await eventually(async () => events.find((event) => event.event === "update" && event.payload.id === posted.id), "the streamed post");
        assert.deepEqual(update.stream, ["user"]);
        assert.equal(update.event === "update" ? update.payload.content : null, posted.content);

        await client.v1.statuses.$select(posted.id).remove();
        const deleted = await eventually(async () => events.find((event) => event.event === "delete"), "the deletion");
        assert.equal(deleted.payload, posted.id);
      } finally {
        subscription.unsubscribe();
        streaming.close();
        await reading;
      }
    });
  });
}
