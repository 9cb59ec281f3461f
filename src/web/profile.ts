/**
 * The HTML side: `/` is the owner's profile, `/@username` shows it, and an
 * actor URL opened in a browser leads there too; the password reset pages
 * (src/web/password-reset.ts) are mounted here.
 */
import { Hono } from "hono";
import { findLocalAccount, getOwner, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { countFollows } from "../core/follows.ts";
import { escapeHtml } from "../text/escape-html.ts";
import { passwordResetRoutes } from "./password-reset.ts";
import { placeholders } from "./placeholder.ts";
import { settingsLink } from "./settings/index.ts";

function page(title: string, body: string, head = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${head}
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
header img.avatar { width: 96px; height: 96px; border-radius: 12px; }
.handle { color: #666; }
.counts span { margin-right: 1.5rem; }
dl.fields dt { font-weight: 600; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

async function profilePage(ctx: CoreContext, account: Account, extra = ""): Promise<string> {
  const handle = `@${account.username}@${ctx.config.localDomain}`;
  const name = account.displayName || account.username;
  const [followers, following] = await Promise.all([
    countFollows(ctx, account.id, "followers"),
    countFollows(ctx, account.id, "following"),
  ]);
  const avatar = account.avatarUrl ?? `${ctx.config.origin}/avatars/original/missing.png`;
  const fields = account.fields.length === 0 ? "" : `<dl class="fields">${
    account.fields.map((f) => `<dt>${escapeHtml(f.name)}</dt><dd>${f.value}</dd>`).join("")
  }</dl>`;
  const head = [
    `<link rel="alternate" type="application/activity+json" href="${escapeHtml(account.uri)}">`,
    `<meta property="og:title" content="${escapeHtml(`${name} (${handle})`)}">`,
    `<meta property="profile:username" content="${escapeHtml(account.username)}">`,
  ].join("\n");
  return page(`${name} (${handle})`, `<header>
<img class="avatar" src="${escapeHtml(avatar)}" alt="">
<h1>${escapeHtml(name)}</h1>
<p class="handle">${escapeHtml(handle)}</p>
</header>
<section class="note">${account.note}</section>
${fields}
<p class="counts"><span><strong>${following}</strong> following</span><span><strong>${followers}</strong> followers</span></p>
${extra}`, head);
}

export function webRoutes(ctx: CoreContext): Hono {
  const app = new Hono();
  app.route("/", passwordResetRoutes(ctx));

  app.get("/", async (c) => {
    const owner = await getOwner(ctx);
    if (owner == null) {
      return c.html(page("Islet", `<h1>Islet is running</h1>
<p>There is no owner account yet. On the server, run:</p>
<pre>npx islet setup</pre>`));
    }
    return c.redirect(`/@${owner.account.username}`, 302);
  });

  app.get("/:handle{@[^/]+}", async (c) => {
    const username = c.req.param("handle").slice(1).split("@")[0];
    const account = await findLocalAccount(ctx, username);
    if (account == null) return c.html(page("Not found", "<h1>No such account here</h1>"), 404);
    if (account.username !== username) return c.redirect(`/@${account.username}`, 301);
    return c.html(await profilePage(ctx, account, await settingsLink(ctx, c)));
  });

  // An actor URL opened in a browser (Fedify answers ActivityPub requests).
  app.get("/users/:username", async (c) => {
    const account = await findLocalAccount(ctx, c.req.param("username"));
    if (account == null) return c.html(page("Not found", "<h1>No such account here</h1>"), 404);
    return c.redirect(`/@${account.username}`, 302);
  });

  for (const [path, image] of Object.entries(placeholders())) {
    app.get(path, (c) => {
      c.header("Cache-Control", "public, max-age=86400");
      return c.body(new Uint8Array(image), 200, { "Content-Type": "image/png" });
    });
  }
  return app;
}
