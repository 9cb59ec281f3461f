/**
 * The sanitiser for remote HTML, against Mastodon's allow-list: which tags,
 * attributes, classes and link schemes survive, and that what it gives is
 * stable when given again (the stored-row cleanup relies on that).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { remoteWebUrl, sanitizeRemoteHtml } from "../../src/text/sanitize-html.ts";
import { assertNoActiveContent, HARMLESS, VECTORS } from "../helpers/xss.ts";

describe("sanitizeRemoteHtml", () => {
  test("every XSS vector loses what makes it active, and sanitising again changes nothing", () => {
    for (const vector of VECTORS) {
      const once = sanitizeRemoteHtml(`<p>before</p>${vector.html}<p>after</p>`);
      assertNoActiveContent(once, `${vector.kind}: ${vector.html}`);
      assert.match(once, /^<p>before<\/p>[\s\S]*<p>after<\/p>$/, `${vector.html} leaves the text around it: ${once}`);
      assert.equal(sanitizeRemoteHtml(once), once, `${vector.html} is stable`);
    }
  });

  test("links keep Mastodon's schemes and get rel and target; others become their text", () => {
    assert.equal(
      sanitizeRemoteHtml(`<a href="https://example.com/" rel="opener" target="_self">web</a>`),
      `<a href="https://example.com/" rel="nofollow noopener" target="_blank">web</a>`,
    );
    for (const href of ["xmpp:me@example.com", "magnet:?xt=urn:btih:abc", "gemini://example.com/", "ipfs://bafy/"]) {
      assert.match(sanitizeRemoteHtml(`<a href="${href}">x</a>`), /^<a href="[^"]+" rel="nofollow noopener" target="_blank">x<\/a>$/, href);
    }
    for (const href of ["javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd", "/relative", "//evil.example/"]) {
      assert.equal(sanitizeRemoteHtml(`<p><a href="${href}">x</a></p>`), "<p><span>x</span></p>", href);
    }
  });

  test("classes: microformats and Mastodon's own stay, others go", () => {
    assert.equal(
      sanitizeRemoteHtml(`<p class="quote-inline evil">q</p><span class="h-card big"><a href="https://a.example/@b" class="u-url mention red">@<span class="invisible x">b</span></a></span>`),
      `<p class="quote-inline">q</p><span class="h-card"><a href="https://a.example/@b" class="u-url mention" rel="nofollow noopener" target="_blank">@<span class="invisible">b</span></a></span>`,
    );
    assert.equal(sanitizeRemoteHtml(`<b class="x">b</b>`), "<b>b</b>");
  });

  test("lang on any element, translate only as no; headings become strong; unknown tags keep their text", () => {
    assert.equal(sanitizeRemoteHtml(`<p lang="de" dir="rtl">Hallo</p>`), `<p lang="de">Hallo</p>`);
    assert.equal(sanitizeRemoteHtml(`<span translate="no">a</span><span translate="yes">b</span>`), `<span translate="no">a</span><span>b</span>`);
    assert.equal(sanitizeRemoteHtml(`<h2>Title</h2><div>text</div>`), `<strong>Title</strong>text`);
    assert.equal(sanitizeRemoteHtml(`<ol start="3" reversed><li value="5">x</li></ol>`), `<ol start="3" reversed><li value="5">x</li></ol>`);
    assert.equal(sanitizeRemoteHtml(HARMLESS), HARMLESS.replace(`href="https://example.com/page"`, `href="https://example.com/page" rel="nofollow noopener" target="_blank"`));
  });

  test("text stays text: entities stay escaped", () => {
    assert.equal(sanitizeRemoteHtml(`<p>a &lt;script&gt; &amp; b</p>`), `<p>a &lt;script&gt; &amp; b</p>`);
    assert.equal(sanitizeRemoteHtml(""), "");
  });
});

describe("remoteWebUrl", () => {
  test("keeps http and https, drops every other scheme", () => {
    assert.equal(remoteWebUrl("https://example.com/@a"), "https://example.com/@a");
    assert.equal(remoteWebUrl("http://example.com/"), "http://example.com/");
    for (const url of ["javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html,x", "/relative", null]) {
      assert.equal(remoteWebUrl(url), null, String(url));
    }
  });
});
