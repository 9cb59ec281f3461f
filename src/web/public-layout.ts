/**
 * The frame of the public pages (profile, post, hashtag): one stylesheet in
 * the page (the Content-Security-Policy allows inline styles and no
 * script), readable on a phone and in dark mode, with the `<head>` lines
 * each page adds (feeds, previews, ActivityPub alternates).
 */
import { escapeHtml } from "../text/escape-html.ts";

export interface PublicPageOptions {
  title: string;
  /** Extra lines for `<head>`, already HTML. */
  head?: string;
  /** The page's main content, already HTML. */
  body: string;
  /** The language of the page's own words (the posts carry their own `lang`). */
  lang?: string;
  /** The small picture shown in the browser's tab (the owner's avatar). */
  icon?: string | null;
  /** Whether search engines are asked to leave the page out. */
  noindex?: boolean;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d1f23; --muted: #595f6b; --bg: #f3f4f7; --card: #fff; --line: #dcdfe6; --accent: #3548c4; --accent-bg: #e9ecfb; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e9ee; --muted: #a9aebb; --bg: #17191e; --card: #22252c; --line: #393d47; --accent: #a9b6ff; --accent-bg: #2c3250; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); overflow-wrap: anywhere; }
a { color: var(--accent); }
a:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; }
.skip:focus { left: 0; z-index: 1; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
main { max-width: 42rem; margin: 0 auto; padding: 0 0 3rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; }
.profile { overflow: hidden; margin: 1rem .5rem; }
.profile .banner { display: block; width: 100%; aspect-ratio: 3 / 1; object-fit: cover; background: var(--line); }
.profile .banner.empty { aspect-ratio: 6 / 1; }
.profile .who { padding: 0 1rem 1rem; }
.profile .avatar { width: 96px; height: 96px; border-radius: 16px; border: 4px solid var(--card); margin-top: -48px; background: var(--card); display: block; }
.profile h1 { font-size: 1.5rem; line-height: 1.25; margin: .5rem 0 0; }
.handle { color: var(--muted); margin: 0; }
.note p { margin: .6rem 0; }
dl.fields { margin: 1rem 0 0; border-top: 1px solid var(--line); }
dl.fields div { display: flex; gap: 1rem; padding: .5rem 0; border-bottom: 1px solid var(--line); }
dl.fields dt { flex: 0 0 33%; font-weight: 600; color: var(--muted); font-size: .9rem; }
dl.fields dd { margin: 0; min-width: 0; }
dl.fields div.verified { background: color-mix(in srgb, #1a7f37 10%, transparent); }
dl.fields .check { color: #1a7f37; font-weight: 700; }
@media (prefers-color-scheme: dark) { dl.fields .check { color: #57d37a; } }
.invisible { display: none; }
.ellipsis::after { content: "…"; }
.counts { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 1rem 0 0; padding: 0; list-style: none; color: var(--muted); }
.counts strong { color: var(--fg); }
.featured { margin: 1rem 0 0; }
.featured h2 { font-size: .95rem; margin: 0 0 .3rem; color: var(--muted); }
.featured ul { display: flex; flex-wrap: wrap; gap: .4rem; list-style: none; margin: 0; padding: 0; }
.featured a { display: inline-block; padding: .15rem .6rem; border-radius: 999px; background: var(--accent-bg); text-decoration: none; }
.featured small { color: var(--muted); }
.featured-accounts { margin: 1rem 0 .75rem; }
.featured-accounts h2 { font-size: .95rem; margin: 0 0 .3rem; color: var(--muted); }
.featured-accounts ul { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .4rem; list-style: none; margin: 0; padding: 0; }
.featured-accounts a { display: flex; gap: .6rem; align-items: center; padding: .4rem .5rem; border-radius: 10px; border: 1px solid var(--line); text-decoration: none; color: inherit; min-width: 0; }
.featured-accounts a:hover { background: var(--accent-bg); }
.featured-accounts img { width: 40px; height: 40px; border-radius: 8px; flex: none; background: var(--line); }
.featured-accounts a > span { min-width: 0; line-height: 1.3; }
.featured-accounts .name { font-weight: 700; display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.featured-accounts .acct { color: var(--muted); font-size: .9rem; display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
nav.tabs { display: flex; margin: 0 .5rem; border-bottom: 1px solid var(--line); }
nav.tabs a { flex: 1; text-align: center; padding: .7rem .25rem; text-decoration: none; color: var(--muted); font-weight: 600; border-bottom: 3px solid transparent; }
nav.tabs a[aria-current="page"] { color: var(--fg); border-bottom-color: var(--accent); }
.page-head { margin: 1rem .5rem; padding: 1rem; }
.page-head h1 { margin: 0; font-size: 1.5rem; }
.page-head p { margin: .3rem 0 0; color: var(--muted); }
ol.statuses { list-style: none; margin: 0; padding: 0; }
ol.statuses > li { margin: .75rem .5rem; }
.status { padding: 1rem; }
.status.focus { border: 2px solid var(--accent); }
.status.reply-line { border-top-left-radius: 0; }
.context { color: var(--muted); font-size: .9rem; margin: 0 0 .5rem; }
.byline { display: flex; gap: .75rem; align-items: flex-start; }
.byline .author { display: flex; gap: .75rem; align-items: center; text-decoration: none; color: inherit; min-width: 0; flex: 1; }
.byline img { width: 48px; height: 48px; border-radius: 10px; flex: none; background: var(--line); }
.byline .author > span { min-width: 0; }
.byline .name { font-weight: 700; display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.byline .acct { color: var(--muted); font-size: .9rem; display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.byline .permalink { color: var(--muted); font-size: .85rem; text-decoration: none; white-space: nowrap; }
.byline .permalink:hover { text-decoration: underline; }
.content { margin-top: .5rem; }
.status.focus .content { font-size: 1.1rem; }
.content p { margin: 0 0 .7rem; }
.content p:last-child { margin-bottom: 0; }
details.cw { margin-top: .5rem; }
details.cw > summary { cursor: pointer; padding: .5rem .75rem; border-radius: 8px; background: var(--accent-bg); list-style-position: inside; }
details.cw > summary .toggle { color: var(--accent); font-size: .85rem; font-weight: 600; margin-left: .5rem; }
details.cw[open] > summary .toggle .more, details.cw:not([open]) > summary .toggle .less { display: none; }
details.sensitive > summary { cursor: pointer; padding: 2rem 1rem; text-align: center; border-radius: 8px; background: var(--line); margin-top: .75rem; font-weight: 600; }
.media { display: grid; gap: 4px; margin-top: .75rem; border-radius: 10px; overflow: hidden; }
.media.n2, .media.n3, .media.n4 { grid-template-columns: 1fr 1fr; }
.media a { display: block; line-height: 0; }
.media img, .media video { width: 100%; height: auto; max-height: 32rem; object-fit: cover; background: var(--line); }
.media.n2 img, .media.n3 img, .media.n4 img { aspect-ratio: 16 / 10; }
.media audio { width: 100%; }
.media figure { margin: 0; }
.media figcaption { font-size: .85rem; color: var(--muted); padding: .25rem 0; line-height: 1.4; }
.poll { margin-top: .75rem; }
.poll ul { list-style: none; margin: 0; padding: 0; }
.poll li { position: relative; margin: .35rem 0; padding: .35rem .6rem; border-radius: 6px; border: 1px solid var(--line); overflow: hidden; }
.poll .bar { position: absolute; inset: 0 auto 0 0; background: var(--accent-bg); }
.poll .label, .poll .pct { position: relative; }
.poll .pct { float: right; font-weight: 700; margin-left: .5rem; }
.poll li.leading .label { font-weight: 700; }
.poll p { color: var(--muted); font-size: .9rem; margin: .35rem 0 0; }
.meta { display: flex; flex-wrap: wrap; gap: .25rem 1rem; color: var(--muted); font-size: .9rem; margin: .75rem 0 0; padding: 0; list-style: none; }
.status.focus .meta li:first-child { flex-basis: 100%; }
.pager { text-align: center; margin: 1.5rem .5rem; }
.pager a { display: inline-block; padding: .5rem 1.25rem; border-radius: 999px; background: var(--card); border: 1px solid var(--line); text-decoration: none; font-weight: 600; }
.empty-list { text-align: center; color: var(--muted); padding: 2rem 1rem; }
section.thread h2 { font-size: 1rem; color: var(--muted); margin: 1.25rem .75rem .25rem; }
footer.site { text-align: center; color: var(--muted); font-size: .85rem; margin: 2rem 1rem; }
footer.site a { color: inherit; }
`;

/** A whole public page. */
export function publicPage(options: PublicPageOptions): string {
  const icon = options.icon == null ? "" : `<link rel="icon" href="${escapeHtml(options.icon)}">\n`;
  const robots = options.noindex ? `<meta name="robots" content="noindex, noarchive">\n` : "";
  return `<!doctype html>
<html lang="${escapeHtml(options.lang ?? "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
${robots}${icon}${options.head ?? ""}
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<main id="main">
${options.body}
</main>
<footer class="site"><p>Powered by Islet · <a href="/settings/profile">Settings</a></p></footer>
</body>
</html>
`;
}
