/**
 * Profile link verification: a field linking to a page that links back
 * with rel="me" is marked verified after the profile is saved; the mark
 * stays while the value does, and a changed value is checked again. A
 * local HTTP server stands in for the linked sites (loopback over http is
 * allowed because tests run with ALLOW_PRIVATE_ADDRESS).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { relMeLinks, verifiableLink } from "../../src/core/link-verification.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { closeHttpServer } from "../helpers/http-server.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

describe("rel=me links on a page", () => {
  test("a and link elements with rel containing me, relative hrefs resolved, comments and scripts ignored", () => {
    const html = `<html><head><link rel="me" href="https://a.example/@x"><link rel=stylesheet href=/s.css></head>
<body><a rel='nofollow me noopener' href='/relative'>x</a>
<a href="https://b.example/@y" rel="ME">y</a>
<!-- <a rel="me" href="https://commented.example/"> -->
<script>document.write('<a rel="me" href="https://scripted.example/">')</script>
<a rel="menu" href="https://menu.example/">not me</a>
<a rel="me" href="https://c.example/?a=1&amp;b=2">z</a></body></html>`;
    assert.deepEqual(relMeLinks(html, "https://site.example/page"), [
      "https://a.example/@x",
      "https://site.example/relative",
      "https://b.example/@y",
      "https://c.example/?a=1&b=2",
    ]);
  });

  test("only a whole https link is checked (http too where private addresses are allowed)", () => {
    assert.equal(verifiableLink("https://example.com/me"), "https://example.com/me");
    assert.equal(verifiableLink("http://example.com/me"), null);
    assert.equal(verifiableLink("http://example.com/me", true), "http://example.com/me");
    assert.equal(verifiableLink("see https://example.com/me"), null);
    assert.equal(verifiableLink("they/them"), null);
    assert.equal(verifiableLink("https://user:pass@example.com/"), null);
    assert.equal(verifiableLink(`https://example.com/${"a".repeat(300)}`), null);
  });
});

for (const kind of databaseKinds()) {
  describe(`profile link verification (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let site: Server;
    let siteOrigin: string;
    const pages = new Map<string, { type?: string; body: string; location?: string }>();
    const requested: string[] = [];

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      site = createServer((req, res) => {
        requested.push(req.url ?? "");
        const page = pages.get(req.url ?? "");
        if (page == null) {
          res.writeHead(404).end();
          return;
        }
        if (page.location != null) {
          res.writeHead(302, { Location: page.location }).end();
          return;
        }
        res.writeHead(200, { "Content-Type": page.type ?? "text/html; charset=utf-8" });
        res.end(page.body);
      });
      await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
      const address = site.address();
      siteOrigin = `http://127.0.0.1:${typeof address === "object" && address != null ? address.port : 0}`;
    });
    after(async () => {
      if (site != null) await closeHttpServer(site);
      await instance?.close();
    });

    const profileUrl = () => `${instance.origin}/@owner`;
    const actorId = () => `${instance.origin}/users/owner`;

    async function save(fields: { name: string; value: string }[]) {
      const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: { fields_attributes: fields } });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body;
    }

    async function fields(): Promise<{ name: string; value: string; verified_at: string | null }[]> {
      const response = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
      return response.body.fields;
    }

    test("a page linking back with rel=me verifies its field; pages that do not leave theirs unverified", async () => {
      pages.set("/home", { body: `<!doctype html><a rel="me" href="${profileUrl()}">my fediverse profile</a>` });
      pages.set("/blog", { body: `<!doctype html><head><link rel="me" href="${actorId()}/"></head>` });
      pages.set("/other", { body: `<!doctype html><a href="${profileUrl()}">no rel</a><a rel="me" href="${instance.origin}/@someone">other</a>` });
      pages.set("/text", { type: "text/plain", body: `<a rel="me" href="${profileUrl()}">` });
      pages.set("/huge", { body: `${"x".repeat(1024 * 1024 + 10)}<a rel="me" href="${profileUrl()}">` });
      const saved = await save([
        { name: "Other", value: `${siteOrigin}/other` },
        { name: "Text", value: `${siteOrigin}/text` },
        { name: "Home", value: `${siteOrigin}/home` },
        { name: "Blog", value: `${siteOrigin}/blog` },
      ]);
      // The request does not wait for the check.
      assert.ok(saved.fields.every((field: { verified_at: string | null }) => field.verified_at == null));

      // All four are checked in one job, the verified ones stored at its end.
      const checked = await eventually(async () => {
        const now = await fields();
        return now[2].verified_at != null && now[3].verified_at != null ? now : undefined;
      }, "the Home and Blog fields verified");
      assert.ok(!Number.isNaN(Date.parse(checked[2].verified_at!)));
      assert.equal(checked[0].verified_at, null);
      assert.equal(checked[1].verified_at, null);
      assert.ok(requested.includes("/other") && requested.includes("/text"));

      // The public Account shows it too.
      const account = await api(instance, "GET", `/api/v1/accounts/${instance.owner!.account.id}`, {});
      assert.equal(account.body.fields[2].verified_at, checked[2].verified_at);
      assert.equal(account.body.fields[0].verified_at, null);
    });

    test("a page over the size limit is not read to its end", async () => {
      const before = (await fields())[2].verified_at;
      await save([
        { name: "Huge", value: `${siteOrigin}/huge` },
        { name: "Home", value: `${siteOrigin}/home` },
      ]);
      // Home keeps its mark; a fresh field linking back is the sentinel that the job ran.
      pages.set("/fresh", { body: `<a rel="me" href="${profileUrl()}">` });
      await save([
        { name: "Huge", value: `${siteOrigin}/huge` },
        { name: "Home", value: `${siteOrigin}/home` },
        { name: "Fresh", value: `${siteOrigin}/fresh` },
      ]);
      const now = await eventually(async () => {
        const current = await fields();
        return current[2].verified_at != null ? current : undefined;
      }, "the Fresh field verified");
      assert.equal(now[1].verified_at, before);
      assert.equal(now[0].verified_at, null);
      assert.ok(requested.includes("/huge"));
    });

    test("an unchanged field keeps its mark when the profile is saved; a changed one is checked again", async () => {
      const verifiedAt = (await fields()).find((field) => field.name === "Home")!.verified_at;
      assert.ok(verifiedAt != null);
      const kept = await save([{ name: "Homepage", value: `${siteOrigin}/home` }]);
      assert.equal(kept.fields[0].verified_at, verifiedAt);

      pages.set("/moved", { body: `<a rel="me" href="${profileUrl()}">` });
      const changed = await save([{ name: "Homepage", value: `${siteOrigin}/moved` }]);
      assert.equal(changed.fields[0].verified_at, null);
      const checked = await eventually(async () => (await fields())[0].verified_at ?? undefined, "the changed field verified");
      assert.notEqual(checked, verifiedAt);
      assert.ok(requested.includes("/moved"));
    });

    test("a rel=me link that redirects to the profile counts, as a short link does; only the first is tried", async () => {
      pages.set("/s/profile", { body: "", location: profileUrl() });
      pages.set("/s/elsewhere", { body: "", location: "https://elsewhere.example/" });
      pages.set("/short", { body: `<a rel="me" href="/s/profile">me</a>` });
      pages.set("/second", { body: `<a rel="me" href="/s/elsewhere">a</a><a rel="me" href="/s/profile">b</a>` });
      const saved = await save([
        { name: "Second", value: `${siteOrigin}/second` },
        { name: "Short", value: `${siteOrigin}/short` },
      ]);
      assert.equal(saved.fields[1].verified_at, null);
      const now = await eventually(async () => {
        const current = await fields();
        return current[1].verified_at != null ? current : undefined;
      }, "the Short field verified");
      assert.equal(now[0].verified_at, null);
      // The first rel=me link of each page was asked where it leads.
      assert.ok(requested.includes("/s/profile") && requested.includes("/s/elsewhere"));
    });
  });
}
