/**
 * One post as the public pages show it: author, time, content (behind a
 * `<details>` when it has a content warning), media with their
 * descriptions, the poll's results, and the counts. Plain HTML; the post's
 * content is stored already made safe (local posts are rendered from text,
 * remote ones sanitised on arrival), everything else is escaped here.
 */
import type { PublicMedia, PublicStatus } from "../core/public-statuses.ts";
import { isPollExpired } from "../core/polls.ts";
import { escapeHtml } from "../text/escape-html.ts";

/** `@user@domain` of any account; the owner's with the local domain. */
export function handleOf(account: PublicStatus["author"], localDomain: string): string {
  return `@${account.username}@${account.domain ?? localDomain}`;
}

/** The name shown for an account: its display name, else its username. */
export function nameOf(account: PublicStatus["author"]): string {
  return account.displayName.trim() === "" ? account.username : account.displayName;
}

const DATE_FORMAT = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const DAY_FORMAT = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" });

/** A date as the pages print it: "Dec 7, 2026, 10:19 PM UTC". */
export function formatDate(date: Date): string {
  return `${DATE_FORMAT.format(date)} UTC`;
}

const COUNT_FORMAT = new Intl.NumberFormat("en");

/** A count as the pages print it: "1,234". */
export function formatCount(n: number): string {
  return COUNT_FORMAT.format(n);
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** The post's web page: its own `url`, else its IRI. */
export function pageUrlOf(view: PublicStatus): string {
  return view.status.url ?? view.status.uri;
}

function mediaItem(media: PublicMedia, count: number): string {
  if (media.url == null) return "";
  const url = escapeHtml(media.url);
  const description = media.description?.trim() ?? "";
  const alt = escapeHtml(description);
  const size = media.width != null && media.height != null ? ` width="${media.width}" height="${media.height}"` : "";
  const caption = description === "" || count > 1 ? "" : `<figcaption>${alt}</figcaption>`;
  switch (media.type) {
    case "image": {
      const preview = escapeHtml(media.previewUrl ?? media.url);
      const label = description === "" ? "Open the picture" : `Open the picture: ${description}`;
      return `<figure><a href="${url}" aria-label="${escapeHtml(label)}"><img src="${preview}" alt="${alt}"${size} loading="lazy"></a>${caption}</figure>`;
    }
    case "gifv":
      return `<figure><video src="${url}" autoplay loop muted playsinline${size}${description === "" ? "" : ` aria-label="${alt}"`}></video>${caption}</figure>`;
    case "video": {
      const poster = media.previewUrl == null ? "" : ` poster="${escapeHtml(media.previewUrl)}"`;
      return `<figure><video src="${url}" controls preload="none"${poster}${size}${description === "" ? ` aria-label="Video"` : ` aria-label="${alt}"`}></video>${caption}</figure>`;
    }
    case "audio":
      return `<figure><audio src="${url}" controls preload="none" aria-label="${description === "" ? "Audio" : alt}"></audio>${caption}</figure>`;
    default:
      return `<figure><a href="${url}" rel="nofollow noopener">${description === "" ? "Attached file" : alt}</a></figure>`;
  }
}

function mediaHtml(view: PublicStatus): string {
  const items = view.media.map((media) => mediaItem(media, view.media.length)).filter((html) => html !== "");
  if (items.length === 0) return "";
  const grid = `<div class="media n${Math.min(items.length, 4)}">${items.join("")}</div>`;
  // Sensitive media without a content warning hides behind a click of its own.
  if (view.status.sensitive && view.status.spoilerText === "") {
    return `<details class="sensitive"><summary>Sensitive content: show media</summary>${grid}</details>`;
  }
  return grid;
}

function pollHtml(view: PublicStatus, now: Date): string {
  const poll = view.poll;
  if (poll == null) return "";
  const expired = isPollExpired(poll, now);
  const counts = poll.options.map((_, i) => poll.votesCounts[i] ?? 0);
  const votes = counts.reduce((a, b) => a + b, 0);
  const voters = poll.votersCount ?? votes;
  const hidden = poll.hideTotals && !expired;
  const most = Math.max(0, ...counts);
  const options = poll.options.map((title, i) => {
    if (hidden) return `<li><span class="label">${escapeHtml(title)}</span></li>`;
    const share = votes === 0 ? 0 : Math.round((counts[i] / votes) * 100);
    const leading = counts[i] === most && most > 0 ? ` class="leading"` : "";
    return `<li${leading}><span class="bar" style="width: ${share}%" aria-hidden="true"></span><span class="pct">${share}%</span><span class="label">${escapeHtml(title)}</span><span class="visually-hidden">, ${plural(counts[i], "vote", "votes")}</span></li>`;
  }).join("");
  const closing = poll.expiresAt == null
    ? ""
    : expired
      ? ` · Closed <time datetime="${poll.expiresAt.toISOString()}">${escapeHtml(formatDate(poll.expiresAt))}</time>`
      : ` · Ends <time datetime="${poll.expiresAt.toISOString()}">${escapeHtml(formatDate(poll.expiresAt))}</time>`;
  const kind = poll.multiple ? "Poll, several choices" : "Poll";
  const totals = hidden ? "Results are shown when the poll ends" : plural(voters, "person", "people");
  return `<div class="poll" role="group" aria-label="${kind}"><ul>${options}</ul><p>${totals}${closing}</p></div>`;
}

export interface StatusHtmlOptions {
  /** The page's post: larger, with its full date and counts. */
  focus?: boolean;
  /** The heading level of the hidden heading naming the post, when one is wanted. */
  localDomain: string;
  now?: Date;
}

/** A post as an `<article>`. A boost shows its original under "… boosted". */
export function statusHtml(view: PublicStatus, options: StatusHtmlOptions): string {
  const now = options.now ?? new Date();
  const shown = view.reblog ?? view;
  const { status, author } = shown;
  const url = pageUrlOf(shown);
  const context: string[] = [];
  if (view.pinned) context.push("Pinned post");
  if (view.reblog != null) context.push(`${escapeHtml(nameOf(view.author))} boosted`);
  const contextLine = context.length === 0 ? "" : `<p class="context">${context.join(" · ")}</p>`;
  const authorUrl = author.url ?? author.uri;
  const permalink = (text: string) =>
    `<a class="permalink" href="${escapeHtml(url)}"${author.domain == null ? "" : ` rel="nofollow noopener"`}><time datetime="${status.createdAt.toISOString()}" title="${escapeHtml(formatDate(status.createdAt))}">${escapeHtml(text)}</time></a>`;
  const byline = `<header class="byline">
<a class="author" href="${escapeHtml(authorUrl)}"${author.domain == null ? "" : ` rel="nofollow noopener"`}><img src="${escapeHtml(shown.avatarUrl)}" alt="" width="48" height="48" loading="lazy"><span><span class="name">${escapeHtml(nameOf(author))}</span><span class="acct">${escapeHtml(handleOf(author, options.localDomain))}</span></span></a>
${options.focus ? "" : permalink(DAY_FORMAT.format(status.createdAt))}
</header>`;
  const body = `<div class="content"${status.language == null ? "" : ` lang="${escapeHtml(status.language)}"`}>${status.content}</div>${mediaHtml(shown)}${pollHtml(shown, now)}`;
  const main = status.spoilerText === ""
    ? body
    : `<details class="cw"><summary><span class="spoiler">${escapeHtml(status.spoilerText)}</span><span class="toggle"><span class="more">Show more</span><span class="less">Show less</span></span></summary>${body}</details>`;
  const meta: string[] = [
    ...(options.focus ? [`<li>${permalink(formatDate(status.createdAt))}</li>`] : []),
    `<li>${plural(status.repliesCount, "reply", "replies")}</li>`,
    `<li>${plural(status.reblogsCount, "boost", "boosts")}</li>`,
    `<li>${plural(status.favouritesCount, "favourite", "favourites")}</li>`,
  ];
  if (status.editedAt != null) {
    meta.push(`<li>Edited <time datetime="${status.editedAt.toISOString()}">${escapeHtml(formatDate(status.editedAt))}</time></li>`);
  }
  if (status.visibility === "unlisted") meta.push("<li>Unlisted</li>");
  if (!options.focus && status.repliesCount > 0 && author.domain == null) {
    meta.push(`<li><a href="${escapeHtml(url)}">Open the thread</a></li>`);
  }
  const classes = ["status", "card", ...(options.focus ? ["focus"] : [])].join(" ");
  const label = `Post by ${nameOf(author)}`;
  return `<article class="${classes}" id="status-${status.id}" aria-label="${escapeHtml(label)}">
${contextLine}${byline}
${main}
<ul class="meta">${meta.join("")}</ul>
</article>`;
}

/** Posts as an ordered list, or a line saying there are none. */
export function statusListHtml(views: readonly PublicStatus[], localDomain: string, empty: string): string {
  if (views.length === 0) return `<p class="empty-list">${escapeHtml(empty)}</p>`;
  const now = new Date();
  return `<ol class="statuses">${views.map((view) => `<li>${statusHtml(view, { localDomain, now })}</li>`).join("\n")}</ol>`;
}
