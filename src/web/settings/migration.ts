/**
 * Settings: account migration. The aliases (alsoKnownAs): accounts
 * elsewhere that may move here, each added by its handle (or actor
 * address) and removable;
 * and moving this account to another one, which must list this one among
 * its aliases first, with the current password; once moved, the page says
 * where to and offers to undo it. The rules live in src/core/moves.ts.
 */
import { Hono, type Context } from "hono";
import { getOwner, type Account } from "../../core/accounts.ts";
import { CoreError, type CoreContext } from "../../core/context.ts";
import { addAlias, movedTo, moveOwner, removeAlias, undoOwnerMove } from "../../core/moves.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import type { BrowserState } from "../browser.ts";
import { readForm } from "../forms.ts";
import { checkFormPassword, csrfField, formAccepted, NOTICES, refused, settingsPage, settingsViewer, signInRedirect, type SettingsViewer } from "./page.ts";

function handleOf(ctx: CoreContext, account: Pick<Account, "username" | "domain">): string {
  return `@${account.username}@${account.domain ?? ctx.config.localDomain}`;
}

async function migrationBody(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer, owner: Account): Promise<string> {
  const csrf = csrfField(c, browser, viewer);
  const aliases = owner.alsoKnownAs.length === 0
    ? `<p class="muted">No aliases.</p>`
    : `<ul class="plain" id="aliases">${owner.alsoKnownAs.map((uri) => `<li><code>${escapeHtml(uri)}</code>
<form class="inline" method="post" action="/settings/aliases/remove">${csrf}<input type="hidden" name="uri" value="${escapeHtml(uri)}"><button type="submit" class="danger">Remove</button></form></li>`).join("\n")}</ul>`;
  const target = await movedTo(ctx, owner);
  const move = target != null
    ? `<p id="moved">This account has moved to <a href="${escapeHtml(target.url ?? target.uri)}" rel="noopener noreferrer">${escapeHtml(handleOf(ctx, target))}</a>. Its profile says so, and followers were asked to follow the new account.</p>
<form method="post" action="/settings/migration/undo">${csrf}<button type="submit">Undo the move</button></form>
<p class="muted">Undoing it removes the mark; followers who left stay with the new account.</p>`
    : `<p class="muted">The new account must list this one (<code>${escapeHtml(handleOf(ctx, owner))}</code>) among its aliases first. Your followers are then asked to follow the new account; your posts stay here.</p>
<form method="post" action="/settings/migration">
${csrf}
<label for="acct">Handle or address of the new account</label>
<input type="text" id="acct" name="acct" placeholder="username@domain or https://…" autocapitalize="none" spellcheck="false" maxlength="400" required>
<label for="current_password">Current password</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>
<button type="submit" class="danger">Move to this account</button>
</form>`;
  return `<h2 style="border:0;padding-top:0;margin-top:0">Moving from a different account</h2>
<p class="muted">To move an account from elsewhere to this one, first add it here as an alias; then start the move on the old account.</p>
${aliases}
<form method="post" action="/settings/aliases">
${csrf}
<label for="alias">Handle or address of the old account</label>
<input type="text" id="alias" name="acct" placeholder="username@domain or https://…" autocapitalize="none" spellcheck="false" maxlength="400" required>
<button type="submit">Add the alias</button>
</form>
<h2>Moving to a different account</h2>
${move}`;
}

export function migrationSettingsRoutes(ctx: CoreContext, browser: BrowserState): Hono {
  const app = new Hono();
  const page = async (c: Context, viewer: SettingsViewer, notice: string | null, error: string | null = null, status: 200 | 422 | 429 = 200) => {
    const owner = (await getOwner(ctx))?.account ?? viewer.owner.account;
    return settingsPage(c, {
      ctx, browser, viewer, section: "/settings/migration", title: "Account migration", notice, error,
      body: await migrationBody(ctx, c, browser, viewer, owner),
    }, status);
  };
  /** The form's viewer and fields once it passed the guard, or the answer. */
  const guarded = async (c: Context) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    return { viewer, fields };
  };
  /** The account a handle or actor URL names, or the reason why none. */
  const resolve = async (query: string): Promise<Account | string> => {
    const text = query.trim().replace(/^@/, "");
    if (text === "") return "Enter a handle such as username@domain.";
    try {
      return await ctx.remote.resolveAccount(text, { refresh: true });
    } catch (error) {
      if (error instanceof CoreError) return `No account found at ${text}.`;
      throw error;
    }
  };

  app.get("/settings/migration", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    return await page(c, viewer, NOTICES[c.req.query("notice") ?? ""] ?? null);
  });

  app.post("/settings/aliases", async (c) => {
    const form = await guarded(c);
    if (form instanceof Response) return form;
    const account = await resolve(form.fields.acct ?? "");
    if (typeof account === "string") return await page(c, form.viewer, null, account, 422);
    try {
      await addAlias(ctx, form.viewer.owner.account, account.uri);
    } catch (error) {
      if (error instanceof CoreError) return await page(c, form.viewer, null, error.message, 422);
      throw error;
    }
    return c.redirect("/settings/migration?notice=alias_added", 303);
  });

  app.post("/settings/aliases/remove", async (c) => {
    const form = await guarded(c);
    if (form instanceof Response) return form;
    try {
      await removeAlias(ctx, form.viewer.owner.account, form.fields.uri ?? "");
    } catch (error) {
      if (error instanceof CoreError) return await page(c, form.viewer, null, error.message, 422);
      throw error;
    }
    return c.redirect("/settings/migration?notice=alias_removed", 303);
  });

  app.post("/settings/migration", async (c) => {
    const form = await guarded(c);
    if (form instanceof Response) return form;
    const check = await checkFormPassword(ctx, c, form.fields);
    if (!check.ok) return await page(c, form.viewer, null, check.message, check.status);
    const target = await resolve(form.fields.acct ?? "");
    if (typeof target === "string") return await page(c, form.viewer, null, target, 422);
    try {
      await moveOwner(ctx, check.owner.account, target);
    } catch (error) {
      if (error instanceof CoreError) return await page(c, form.viewer, null, error.message, 422);
      throw error;
    }
    return c.redirect("/settings/migration?notice=moved", 303);
  });

  app.post("/settings/migration/undo", async (c) => {
    const form = await guarded(c);
    if (form instanceof Response) return form;
    await undoOwnerMove(ctx, form.viewer.owner.account);
    return c.redirect("/settings/migration?notice=move_undone", 303);
  });

  return app;
}
