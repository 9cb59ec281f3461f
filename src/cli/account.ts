/** `islet account show|password`: the owner account. */
import { requireOwner, setOwnerPassword } from "../core/accounts.ts";
import { countFollows } from "../core/follows.ts";
import { CliError, parseOptions, readPassword, withIslet, type Command } from "./command.ts";

const HELP = `
Usage: islet account <show|password> [options]

  show                            print the owner account
  password [--password-file PATH] set a new password ("-" reads stdin;
                                  on a terminal it asks)
`;

export const accountCommand: Command = {
  name: "account",
  summary: "show the owner account, or set its password",
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub == null || sub === "--help" || sub === "-h") {
      process.stdout.write(`${HELP.trim()}\n`);
      if (sub == null) throw new CliError("missing subcommand: show or password");
      return;
    }
    if (sub === "show") {
      if (parseOptions(rest, {}, HELP) == null) return;
      await withIslet(async ({ core, config }) => {
        const { account, user } = await requireOwner(core);
        const [followers, following] = await Promise.all([
          countFollows(core, account.id, "followers"),
          countFollows(core, account.id, "following"),
        ]);
        const lines = [
          `handle:       @${account.username}@${config.localDomain}`,
          `display name: ${account.displayName}`,
          `email:        ${user.email}`,
          `actor:        ${account.uri}`,
          `profile:      ${account.url}`,
          `locked:       ${account.locked}`,
          `followers:    ${followers}`,
          `following:    ${following}`,
          `created:      ${account.createdAt.toISOString()}`,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      });
      return;
    }
    if (sub === "password") {
      const parsed = parseOptions(rest, { "password-file": { type: "string" } }, HELP);
      if (parsed == null) return;
      await withIslet(async ({ core }) => {
        const { account } = await requireOwner(core);
        const password = await readPassword(parsed.values["password-file"], `New password for @${account.username}`);
        await setOwnerPassword(core, password);
        process.stdout.write(`The password of @${account.username} is changed.\n`);
      });
      return;
    }
    throw new CliError(`unknown subcommand ${JSON.stringify(sub)}; expected show or password`);
  },
};
