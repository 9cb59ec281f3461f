/** `islet apps list|revoke`: the apps that hold access to the owner's account. */
import { requireOwner } from "../core/accounts.ts";
import { listAuthorizedApps, revokeAuthorizedApp } from "../core/authorized-apps.ts";
import { CliError, parseOptions, subcommand, withIslet, type Command } from "./command.ts";

const HELP = `
Usage: islet apps <list|revoke> [options]

  list        print the apps that hold access: id, name, scopes, when
              authorized and when last used
  revoke ID   revoke the app's access at once (its tokens stop working,
              its open streams close, its push subscription goes)
`;

function day(date: Date | null): string {
  return date == null ? "never" : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export const appsCommand: Command = {
  name: "apps",
  summary: "list the apps that hold access to the account, or revoke one",
  async run(argv) {
    const split = subcommand(argv, ["list", "revoke"], HELP);
    if (split == null) return;
    const [sub, rest] = split;
    if (sub === "list") {
      if (parseOptions(rest, {}, HELP) == null) return;
      await withIslet(async ({ core }) => {
        const { account } = await requireOwner(core);
        const apps = await listAuthorizedApps(core, account.id);
        if (apps.length === 0) {
          process.stdout.write("No app holds access.\n");
          return;
        }
        for (const app of apps) {
          process.stdout.write(`${app.id}  ${app.name}\n    scopes: ${app.scopes.join(" ")}\n    authorized: ${day(app.authorizedAt)}  last used: ${day(app.lastUsedAt)}\n`);
        }
      });
      return;
    }
    const parsed = parseOptions(rest, {}, HELP, true);
    if (parsed == null) return;
    const id = parsed.positionals[0];
    if (parsed.positionals.length !== 1 || id == null || !/^\d{1,19}$/.test(id)) throw new CliError("usage: islet apps revoke ID (an id from islet apps list)");
    await withIslet(async ({ core }) => {
      const { account } = await requireOwner(core);
      const apps = await listAuthorizedApps(core, account.id);
      const app = apps.find((item) => item.id === BigInt(id));
      if (app == null) throw new CliError(`no app with id ${id} holds access (see islet apps list)`);
      const revoked = await revokeAuthorizedApp(core, account.id, app.id);
      process.stdout.write(`Revoked ${app.name}: ${revoked} access token${revoked === 1 ? "" : "s"}.\n`);
    });
  },
};
