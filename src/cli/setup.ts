/** `islet setup`: creates the owner account. */
import { createOwner, getOwner, newOwnerProblem } from "../core/accounts.ts";
import { ask, CliError, parseOptions, readPassword, withIslet, type Command } from "./command.ts";

const HELP = `
Usage: islet setup [--username NAME] [--email ADDRESS] [--password-file PATH] [--display-name NAME]

Creates the owner account: the one account of this server.
With no flags on a terminal it asks for each value.

Options:
  --username NAME         the handle's name (@NAME@LOCAL_DOMAIN)
  --email ADDRESS         where mail for the owner goes
  --password-file PATH    read the password from a file; "-" reads stdin
  --display-name NAME     the name shown on the profile (optional)
`;

export const setupCommand: Command = {
  name: "setup",
  summary: "create the owner account",
  async run(argv) {
    const parsed = parseOptions(argv, {
      username: { type: "string" },
      email: { type: "string" },
      "password-file": { type: "string" },
      "display-name": { type: "string" },
    }, HELP);
    if (parsed == null) return;
    const options = parsed.values;
    const interactive = process.stdin.isTTY === true;
    const username = options.username ?? (interactive ? await ask("Username: ") : undefined);
    const email = options.email ?? (interactive ? await ask("Email: ") : undefined);
    if (username == null || email == null) {
      throw new CliError("missing --username or --email (run on a terminal to be asked)");
    }
    const password = await readPassword(options["password-file"], "Password");
    const input = { username, email, password, displayName: options["display-name"] };
    const problem = newOwnerProblem(input);
    if (problem != null) throw new CliError(problem);
    await withIslet(async ({ core, config }) => {
      const existing = await getOwner(core);
      if (existing != null) {
        throw new CliError(`an owner account exists already (@${existing.account.username}); use \`islet account password\` to change its password`);
      }
      const owner = await createOwner(core, input);
      process.stdout.write(`Created @${owner.account.username}@${config.localDomain} (${owner.account.uri}).\n`);
    });
  },
};
