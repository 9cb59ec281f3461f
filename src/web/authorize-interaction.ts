/**
 * `/authorize_interaction`: where another server sends the owner who
 * clicked follow, favourite, boost or reply there and typed their Islet
 * handle (Mastodon's remote interaction page; the OStatus subscribe and
 * FEP-3b86 intent links in WebFinger lead here). Signed in with the web
 * session (or sent to sign in first), the owner sees the account or post
 * the link names, found through the core, and does it in one click; a
 * reply has a small form. Without a `uri`, the Create intent opens an
 * empty post form.
 *
 * Query: `uri` (a URL or `acct:user@host`), `intent` (follow, favourite,
 * boost, create; which button comes first), `text` (a reply's or post's
 * starting text), `on-success` and `on-cancel` (FEP-3b86: a URL to return
 * to, shown as a link, never followed by itself; or `(close)`).
 *
 * Forms carry a CSRF token tied to the session, and a POST from another
 * site (by Sec-Fetch-Site or Origin) is refused before anything is done.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { findAccountById, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { CoreError } from "../core/context.ts";
import { htmlToPlainText } from "../core/filters.ts";
import { getPreferences } from "../core/profile.ts";
import {
  findInteractionTarget,
  interact,
  interactionState,
  INTERACTIONS,
  type Interaction,
  type InteractionResult,
  type InteractionState,
  type InteractionTarget,
} from "../core/remote-interaction.ts";
import { createStatus } from "../core/statuses.ts";
import type { Visibility } from "../core/statuses/rows.ts";
import { readForm } from "./forms.ts";
import { escapeHtml } from "../text/escape-html.ts";
import { AUTH_PAGE_HEADERS, errorPage, hidden, layout } from "./authorize.ts";
import { BrowserState } from "./browser.ts";

const PATH = "/authorize_interaction";
const VISIBILITIES: readonly Visibility[] = ["public", "unlisted", "private", "direct"];
const VISIBILITY_LABELS: Record<Visibility, string> = {
  public: "Public",
  unlisted: "Quiet public (not in public timelines)",
  private: "Followers only",
  direct: "Mentioned people only",
};
/** The longest text taken from a link's `text` parameter. */
const MAX_TEXT = 5000;

type PageStatus = 200 | 400 | 403 | 404 | 422;

function html(c: Context, body: string, status: PageStatus = 200): Response {
  return c.html(body, status, { ...AUTH_PAGE_HEADERS });
}

/** The fields of the query, first value of each, empty ones left out. */
function queryFields(c: Context): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of new URL(c.req.url).searchParams) {
    if (value !== "" && !(key in fields)) fields[key] = value;
  }
  return fields;
}

/** The page's own address with these parameters (the sign-in's return_to). */
function pagePath(fields: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const key of ["uri", "intent", "text", "on-success", "on-cancel"]) {
    const value = fields[key];
    if (value != null && value !== "") search.set(key, value);
  }
  const query = search.toString();
  return query === "" ? PATH : `${PATH}?${query}`;
}

/** Whether a POST came from another site: Sec-Fetch-Site says so, or Origin names another origin. */
function crossSite(c: Context, origin: string): boolean {
  const site = c.req.header("Sec-Fetch-Site");
  if (site != null && site !== "same-origin" && site !== "none") return true;
  const from = c.req.header("Origin");
  // "null": the page's no-referrer policy hides the origin of its own forms.
  if (from == null || from === "null") return false;
  return from !== origin && from !== new URL(c.req.url).origin;
}

/** A FEP-3b86 workflow action: a URL to offer, "(close)", or nothing. */
function workflowAction(value: string | undefined): { url: string } | "close" | null {
  if (value == null) return null;
  if (value === "(close)") return "close";
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? { url: url.href } : null;
  } catch {
    return null;
  }
}

/** A link back to the other site, its address shown in full (never a redirect). */
function returnLink(value: string | undefined, text: string): string {
  const action = workflowAction(value);
  if (action === "close") return `<p class="muted">You can close this window now.</p>`;
  if (action == null) return "";
  const host = new URL(action.url).host;
  return `<p>${escapeHtml(text)} <a href="${escapeHtml(action.url)}" rel="noopener noreferrer">${escapeHtml(host)}</a><br><span class="muted">${escapeHtml(action.url)}</span></p>`;
}

function handleOf(core: CoreContext, account: Account): string {
  return `@${account.username}@${account.domain ?? core.config.localDomain}`;
}

/** Plain text of stored HTML, cut to `max` characters. */
function excerpt(htmlText: string, max: number): string {
  const text = htmlToPlainText(htmlText).trim();
  return [...text].length > max ? `${[...text].slice(0, max - 1).join("")}…` : text;
}

const EXTRA_STYLE = `<style>
.target { border: 1px solid #ddd; border-radius: 8px; padding: 0.75rem 1rem; margin: 1rem 0; background: #fcfcfc; }
.target p { margin: 0.4rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.target .who { white-space: normal; }
textarea, select { width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; border: 1px solid #aaa; border-radius: 6px; }
textarea { min-height: 7rem; resize: vertical; }
.actions { flex-wrap: wrap; align-items: baseline; }
.state { color: #1d6b2f; font-weight: 600; }
.actions .state { margin-top: 1.2rem; padding: 0.5rem 0; }
form + form { margin-top: 1.5rem; padding-top: 1rem; border-top: 1px solid #eee; }
main > div.muted { margin-top: 1.5rem; }
.done { font-size: 1.1rem; }
</style>`;

function paragraphs(text: string): string {
  return text.split(/\n{2,}/).map((part) => `<p>${escapeHtml(part)}</p>`).join("\n");
}

interface PageContext {
  core: CoreContext;
  owner: Account;
  fields: Record<string, string>;
  csrfToken: string;
  signOutToken: string;
}

function signedInAs(page: PageContext): string {
  return `<div class="muted">Signed in as ${escapeHtml(handleOf(page.core, page.owner))}.
<form class="inline" method="post" action="/auth/sign_out">
${hidden({ authenticity_token: page.signOutToken, return_to: pagePath(page.fields) })}
<button type="submit">Not you? Sign out</button>
</form></div>`;
}

function baseFields(page: PageContext): Record<string, string | undefined> {
  return {
    authenticity_token: page.csrfToken,
    uri: page.fields.uri,
    intent: page.fields.intent,
    "on-success": page.fields["on-success"],
  };
}

/** The intent asked for, as one of the page's actions. */
function intentOf(fields: Record<string, string>): Interaction | null {
  const intent = fields.intent?.toLowerCase();
  if (intent === "like") return "favourite";
  if (intent === "announce" || intent === "reblog") return "boost";
  if (intent === "create" || intent === "reply") return "reply";
  return (INTERACTIONS as readonly string[]).includes(intent ?? "") ? intent as Interaction : null;
}

function visibilitySelect(chosen: Visibility): string {
  const options = VISIBILITIES
    .map((value) => `<option value="${value}"${value === chosen ? " selected" : ""}>${escapeHtml(VISIBILITY_LABELS[value])}</option>`)
    .join("");
  return `<label for="visibility">Who can see it</label>
<select id="visibility" name="visibility">${options}</select>`;
}

function accountCard(core: CoreContext, account: Account): string {
  const name = account.displayName.trim() === "" ? account.username : account.displayName;
  const note = excerpt(account.note, 300);
  const link = account.url ?? account.uri;
  return `<div class="target">
<p class="who"><strong>${escapeHtml(name)}</strong> <span class="muted">${escapeHtml(handleOf(core, account))}</span></p>
${note === "" ? "" : paragraphs(note)}
<p class="muted"><a href="${escapeHtml(link)}" rel="noopener noreferrer">View the profile on ${escapeHtml(new URL(link).host)}</a></p>
</div>`;
}

function followState(state: InteractionState): string {
  if (state.following === "following") return `<p class="state">You follow this account.</p>`;
  if (state.following === "requested") return `<p class="state">You have asked to follow this account.</p>`;
  return "";
}

function accountPage(page: PageContext, account: Account, state: InteractionState): string {
  const handle = handleOf(page.core, account);
  const self = account.id === page.owner.id;
  const action = self
    ? `<p class="muted">This is your own account.</p>`
    : state.following !== "none"
      ? followState(state)
      : `<form method="post" action="${PATH}">
${hidden(baseFields(page))}
<div class="actions"><button type="submit" name="action" value="follow" class="primary">Follow</button></div>
</form>`;
  return layout(`Follow ${handle}`, `${EXTRA_STYLE}
<h1>Follow ${escapeHtml(handle)}?</h1>
${accountCard(page.core, account)}
${action}
${cancelLink(page.fields)}
${signedInAs(page)}`);
}

function cancelLink(fields: Record<string, string>): string {
  const action = workflowAction(fields["on-cancel"]);
  if (action == null || action === "close") return "";
  return `<p class="muted">Changed your mind? <a href="${escapeHtml(action.url)}" rel="noopener noreferrer">Go back to ${escapeHtml(new URL(action.url).host)}</a></p>`;
}

function statusPage(
  page: PageContext,
  target: Extract<InteractionTarget, { kind: "status" }>,
  state: InteractionState,
  defaults: { visibility: Visibility },
): string {
  const { status, author } = target;
  const intent = intentOf(page.fields);
  const authorName = author.displayName.trim() === "" ? author.username : author.displayName;
  const authorHandle = handleOf(page.core, author);
  const warning = status.spoilerText.trim() === "" ? "" : `<p><strong>Content warning:</strong> ${escapeHtml(status.spoilerText)}</p>`;
  const text = excerpt(status.content, 1000);
  const link = status.url ?? status.uri;
  const when = status.createdAt.toISOString();
  const button = (action: Interaction, label: string, done: string | null) =>
    done != null
      ? `<span class="state">${escapeHtml(done)}</span>`
      : `<button type="submit" name="action" value="${action}"${intent === action ? ' class="primary"' : ""}>${escapeHtml(label)}</button>`;
  const buttons = [
    button("favourite", "Favourite", state.favourited ? "Favourited" : null),
    state.boostable ? button("boost", "Boost", state.boosted ? "Boosted" : null) : "",
    author.id === page.owner.id ? "" : button("follow", `Follow ${authorHandle}`, state.following === "following" ? "Following" : state.following === "requested" ? "Follow requested" : null),
  ].filter((part) => part !== "");
  const mention = author.id === page.owner.id ? "" : `${authorHandle} `;
  const replyText = page.fields.text == null ? mention : `${mention}${page.fields.text.slice(0, MAX_TEXT)}`;
  const replyVisibility = status.visibility === "direct" ? "direct" : status.visibility === "private" ? "private" : defaults.visibility;
  const reply = `<form method="post" action="${PATH}">
${hidden(baseFields(page))}
<label for="text">Your reply</label>
<textarea id="text" name="text" required>${escapeHtml(replyText)}</textarea>
${visibilitySelect(replyVisibility)}
<button type="submit" name="action" value="reply"${intent === "reply" ? ' class="primary"' : ""}>Reply</button>
</form>`;
  const actions = `<form method="post" action="${PATH}">
${hidden(baseFields(page))}
<div class="actions">${buttons.join("\n")}</div>
</form>`;
  const title = intent === "reply" ? "Reply to a post" : intent === "boost" ? "Boost a post" : intent === "favourite" ? "Favourite a post" : "Interact with a post";
  return layout(title, `${EXTRA_STYLE}
<h1>${escapeHtml(title)}</h1>
<article class="target">
<p class="who"><strong>${escapeHtml(authorName)}</strong> <span class="muted">${escapeHtml(authorHandle)}</span></p>
${warning}
${text === "" ? "" : paragraphs(text)}
<p class="muted"><time datetime="${escapeHtml(when)}">${escapeHtml(when.slice(0, 16).replace("T", " "))} UTC</time> · <a href="${escapeHtml(link)}" rel="noopener noreferrer">Open the original on ${escapeHtml(new URL(link).host)}</a></p>
</article>
${intent === "reply" ? `${reply}\n${actions}` : `${actions}\n${reply}`}
${cancelLink(page.fields)}
${signedInAs(page)}`);
}

function composePage(page: PageContext, defaults: { visibility: Visibility }): string {
  return layout("New post", `${EXTRA_STYLE}
<h1>New post</h1>
<form method="post" action="${PATH}">
${hidden(baseFields(page))}
<label for="text">What is on your mind?</label>
<textarea id="text" name="text" required>${escapeHtml((page.fields.text ?? "").slice(0, MAX_TEXT))}</textarea>
${visibilitySelect(defaults.visibility)}
<button type="submit" name="action" value="post" class="primary">Post</button>
</form>
${cancelLink(page.fields)}
${signedInAs(page)}`);
}

function donePage(core: CoreContext, result: InteractionResult | { action: "post"; status: { url: string | null; uri: string } }, target: InteractionTarget | null, fields: Record<string, string>): string {
  let message: string;
  let link: { href: string; text: string } | null = null;
  if (result.action === "follow") {
    const account = target?.kind === "account" ? target.account : target?.kind === "status" ? target.author : null;
    const handle = account == null ? "the account" : handleOf(core, account);
    message = result.state === "following" ? `You now follow ${handle}.` : `You have asked to follow ${handle}; they will decide.`;
    const profile = account == null ? null : account.url ?? account.uri;
    if (profile != null) link = { href: profile, text: `Open the profile on ${new URL(profile).host}` };
  } else if (result.action === "favourite" || result.action === "boost") {
    message = result.action === "favourite" ? "You favourited the post." : "You boosted the post.";
    const post = target?.kind === "status" ? target.status.url ?? target.status.uri : null;
    if (post != null) link = { href: post, text: `Open the original on ${new URL(post).host}` };
  } else {
    message = result.action === "reply" ? "Your reply is posted." : "Your post is published.";
    link = { href: result.status.url ?? result.status.uri, text: result.action === "reply" ? "See your reply" : "See your post" };
  }
  const see = link == null ? "" : `<p><a href="${escapeHtml(link.href)}" rel="noopener noreferrer">${escapeHtml(link.text)}</a></p>`;
  return layout("Done", `<h1>Done</h1>
<p class="done" role="status">${escapeHtml(message)}</p>
${see}
${returnLink(fields["on-success"], "Return to")}`);
}

/** The page and its form. */
export function authorizeInteractionRoutes(core: CoreContext): Hono {
  const app = new Hono();
  const browser = new BrowserState(core);
  const signIn = (fields: Record<string, string>) => `/auth/sign_in?return_to=${encodeURIComponent(pagePath(fields))}`;

  const render = async (c: Context, fields: Record<string, string>, sessionId: string, owner: Account): Promise<Response> => {
    const page: PageContext = {
      core,
      owner,
      fields,
      csrfToken: browser.csrfToken(c, "interaction", sessionId),
      signOutToken: browser.csrfToken(c, "sign_out", sessionId),
    };
    const preferences = await getPreferences(core, owner.id);
    const defaults = { visibility: preferences.privacy };
    const uri = fields.uri?.trim() ?? "";
    if (uri === "") {
      if (intentOf(fields) === "reply") return html(c, composePage(page, defaults));
      return html(c, errorPage("Nothing to show", "The link did not say which account or post it is about."), 400);
    }
    const target = await findInteractionTarget(core, uri, owner.id);
    if (target == null) {
      return html(c, errorPage("Not found", `No account or post could be found at ${uri}.`), 404);
    }
    const state = await interactionState(core, owner, target);
    if (target.kind === "account") return html(c, accountPage(page, target.account, state));
    return html(c, statusPage(page, target, state, defaults));
  };

  app.get(PATH, async (c) => {
    const fields = queryFields(c);
    const current = await browser.session(c);
    if (current == null) {
      c.header("Cache-Control", "no-store");
      return c.redirect(signIn(fields), 302);
    }
    const owner = await findAccountById(core, current.session.accountId);
    if (owner == null) return c.redirect(signIn(fields), 302);
    return await render(c, fields, current.id, owner);
  });

  // The older remote follow address, still in some servers' links.
  app.get("/authorize_follow", (c) => {
    const acct = c.req.query("acct") ?? c.req.query("uri") ?? "";
    return c.redirect(acct === "" ? PATH : `${PATH}?${new URLSearchParams({ uri: acct, intent: "follow" })}`, 301);
  });

  app.post(PATH, bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("The form is too large", 413) }), async (c) => {
    if (crossSite(c, core.config.origin)) {
      return html(c, errorPage("Request not accepted", "The form was not sent from this site, so nothing was done."), 403);
    }
    const form = await readForm(c, { dropEmpty: true });
    const current = await browser.session(c);
    if (current == null) return c.redirect(signIn(form), 303);
    if (!browser.checkCsrf(c, "interaction", form.authenticity_token, current.id)) {
      return html(c, errorPage(
        "Request not accepted",
        "The form had expired or was not sent from this site, so nothing was done.",
        { href: pagePath(form), text: "Start again" },
      ), 403);
    }
    const owner = await findAccountById(core, current.session.accountId);
    if (owner == null) return c.redirect(signIn(form), 303);
    const visibility = VISIBILITIES.includes(form.visibility as Visibility) ? form.visibility as Visibility : undefined;
    try {
      if (form.action === "post" && (form.uri ?? "") === "") {
        const text = form.text?.trim() ?? "";
        if (text === "") throw new CoreError("invalid", "The post is empty.");
        const status = await createStatus(core, owner, { text, visibility: visibility ?? (await getPreferences(core, owner.id)).privacy });
        return html(c, donePage(core, { action: "post", status }, null, form));
      }
      if (!(INTERACTIONS as readonly string[]).includes(form.action ?? "")) {
        return html(c, errorPage("Request not understood", "Choose what to do with the account or post."), 400);
      }
      const target = form.uri == null ? null : await findInteractionTarget(core, form.uri, owner.id);
      if (target == null) return html(c, errorPage("Not found", `No account or post could be found at ${form.uri ?? "that address"}.`), 404);
      const result = await interact(core, owner, target, {
        action: form.action as Interaction,
        text: form.text,
        visibility: visibility ?? (await getPreferences(core, owner.id)).privacy,
      });
      return html(c, donePage(core, result, target, form));
    } catch (error) {
      if (!(error instanceof CoreError)) throw error;
      const status = error.code === "forbidden" ? 403 : error.code === "not_found" ? 404 : 422;
      return html(c, errorPage("Could not do that", error.message, { href: pagePath(form), text: "Back" }), status);
    }
  });

  return app;
}
