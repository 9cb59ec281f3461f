/**
 * Plain text to status HTML: escaping, paragraphs, shortened links,
 * mentions of known accounts, hashtags; and Mastodon's way of counting.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  countableLength,
  extractEntities,
  renderLink,
  renderPlainText,
  type MentionTarget,
  type RenderOptions,
} from "../../src/core/text.ts";

const ORIGIN = "https://islet.example";

const known: MentionTarget[] = [
  { id: 1n, username: "owner", domain: null, url: "https://islet.example/@owner" },
  { id: 2n, username: "alice", domain: "remote.example", url: "https://remote.example/@alice" },
  { id: 3n, username: "owner", domain: "other.example", url: "https://other.example/@owner" },
];

const options: RenderOptions = {
  origin: ORIGIN,
  resolveMention(username, domain) {
    return known.find((target) => target.username.toLowerCase() === username.toLowerCase() && target.domain === domain) ?? null;
  },
};

const render = (text: string) => renderPlainText(text, options);

describe("renderPlainText", () => {
  test("escapes HTML and wraps paragraphs", () => {
    assert.equal(render("a <b> & \"c\" 'd'").html, "<p>a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;</p>");
    assert.equal(render("one\ntwo\n\nthree").html, "<p>one<br />two</p><p>three</p>");
    assert.equal(render("one\r\n\r\n\r\ntwo").html, "<p>one</p><p>two</p>");
    assert.equal(render("  \n padded \n ").html, "<p>padded</p>");
    assert.equal(render("").html, "");
    assert.equal(render("   ").html, "");
  });

  test("shortens long links and keeps short ones whole", () => {
    assert.equal(
      render("see https://example.com/").html,
      '<p>see <a href="https://example.com/" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>' +
        '<span class="">example.com/</span><span class="invisible"></span></a></p>',
    );
    const long = "https://www.example.com/a/very/long/path/that/goes/on/and/on";
    assert.equal(
      renderLink(long),
      '<a href="https://www.example.com/a/very/long/path/that/goes/on/and/on" rel="nofollow noopener" target="_blank">' +
        '<span class="invisible">https://www.</span><span class="ellipsis">example.com/a/very/long/path/t</span>' +
        '<span class="invisible">hat/goes/on/and/on</span></a>',
    );
  });

  test("leaves trailing punctuation and unbalanced brackets out of links", () => {
    const links = (text: string) => extractEntities(text).filter((e) => e.kind === "url").map((e) => e.kind === "url" ? e.url : "");
    assert.deepEqual(links("Look: https://example.com/page."), ["https://example.com/page"]);
    assert.deepEqual(links("(see https://example.com/wiki/A_(b))"), ["https://example.com/wiki/A_(b)"]);
    assert.deepEqual(links("(https://example.com/x)"), ["https://example.com/x"]);
    assert.deepEqual(links("nohttps://example.com"), []);
    assert.deepEqual(links("https:// nothing"), []);
  });

  test("escapes what a link contains, and ends links at quotes and angle brackets", () => {
    const html = render("https://example.com/?a=1&b=2 https://example.com/x<script>").html;
    assert.ok(html.includes('href="https://example.com/?a=1&amp;b=2"'), html);
    assert.ok(html.includes('href="https://example.com/x"'), html);
    assert.ok(html.includes("&lt;script&gt;"), html);
    assert.ok(!html.includes("<script>"), html);
  });

  test("links mentions of known accounts and leaves unknown ones as text", () => {
    const result = render("hi @owner and @alice@remote.example, not @nobody@nowhere.example");
    assert.equal(
      result.html,
      '<p>hi <span class="h-card" translate="no"><a href="https://islet.example/@owner" class="u-url mention">@<span>owner</span></a></span>' +
        ' and <span class="h-card" translate="no"><a href="https://remote.example/@alice" class="u-url mention">@<span>alice</span></a></span>' +
        ", not @nobody@nowhere.example</p>",
    );
    assert.deepEqual(result.mentions.map((m) => m.id), [1n, 2n]);
  });

  test("mentions each account once, and shows the domain when usernames clash", () => {
    const result = render("@owner @owner@other.example @owner");
    assert.deepEqual(result.mentions.map((m) => m.id), [1n, 3n]);
    assert.ok(result.html.includes("@<span>owner@other.example</span>"));
    assert.ok(result.html.includes("@<span>owner</span>"));
  });

  test("does not take email addresses or text inside links for mentions or tags", () => {
    const result = render("mail me@remote.example or https://example.com/@owner#frag");
    assert.deepEqual(result.mentions, []);
    assert.deepEqual(result.tags, []);
    assert.ok(!result.html.includes("h-card"));
  });

  test("links hashtags and reports each once as first written", () => {
    const result = render("#Hello world #hello #日本語 #123 a#b (#paren) #snake_case");
    assert.deepEqual(result.tags, ["Hello", "日本語", "paren", "snake_case"]);
    assert.ok(result.html.includes('<a href="https://islet.example/tags/Hello" class="mention hashtag" rel="tag">#<span>Hello</span></a>'));
    assert.ok(result.html.includes("#123"));
    assert.ok(!result.html.includes('tags/123"'));
    assert.ok(result.html.includes("a#b"));
  });
});

describe("countableLength", () => {
  test("counts a link as 23 characters and a remote mention by its username", () => {
    assert.equal(countableLength("abc"), 3);
    assert.equal(countableLength(`https://example.com/${"x".repeat(100)}`), 23);
    assert.equal(countableLength("@alice@remote.example"), "@alice".length);
    assert.equal(countableLength("👍🏽👍🏽"), 2);
  });
});
