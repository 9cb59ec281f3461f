/** `islet account show|password|2fa|move|alias`: the owner account. */
import { findAccountByUri, requireOwner, setOwnerPassword } from "../core/accounts.ts";
import { CoreError } from "../core/context.ts";
import { countFollows } from "../core/follows.ts";
import { addAlias, moveOwner, movedTo, removeAlias, undoOwnerMove } from "../core/moves.ts";
import { disableTwoFactor, twoFactorStatus } from "../core/two-factor.ts";
import { resolveAccount } from "../federation/lookup.ts";
import { openIslet, type Islet } from "../islet.ts";
import { createLogger } from "../log.ts";
import { handleProblem } from "./account-handle.ts";
import { CliError, cliConfig, parseOptions, readPassword, withIslet, subcommand, type Command } from "./command.ts";

const HELP = `
Usage: islet account <show|password|2fa|move|alias> [options]

  show                            print the owner account
  password [--password-file PATH] set a new password ("-" reads stdin;
                                  on a terminal it asks)
  2fa status                      whether two-factor sign-in is on
  2fa disable                     turn two-factor sign-in off (the way back
                                  in without the device or recovery codes)
  move --to ACCOUNT               move to ACCOUNT (@user@host or actor URL),
                                  which must list this account among its
                                  aliases; followers are sent a Move
  move --undo                     no longer mark the account as moved
  alias list                      accounts that may move to this one
  alias add ACCOUNT               let ACCOUNT (@user@host or actor URL)
                                  move to this one
  alias remove ACCOUNT            take that back
`;

/** Opens Islet with federation (to resolve accounts and queue deliveries), runs `fn`, closes. */
async function withFederation<T>(fn: (islet: Islet) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const islet = await openIslet(config, { log: createLogger(config.logLevel === "debug" ? "debug" : "warning") });
  try {
    return await fn(islet);
  } finally {
    await islet.close();
  }
}

/** A remote account by handle or actor URL, fetched afresh; a CliError when there is none. */
async function remoteAccount(islet: Islet, query: string) {
  const problem = handleProblem(query);
  if (problem != null) throw new CliError(`${query}: ${problem}`);
  try {
    return await resolveAccount(islet.federation, islet.core, query, { refresh: true });
  } catch (error) {
    if (error instanceof CoreError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * Moves the owner to `to` (handle or actor URL). Returns a line to print.
 * Exported for tests, which run it against a started instance.
 */
export async function moveOwnerTo(islet: Islet, to: string): Promise<string> {
  const { account } = await requireOwner(islet.core);
  const target = await remoteAccount(islet, to);
  try {
    await moveOwner(islet.core, account, target);
  } catch (error) {
    if (error instanceof CoreError) throw new CliError(error.message);
    throw error;
  }
  return `@${account.username} has moved to ${target.uri}; followers are being told.`;
}

/** Adds or removes an alias of the owner; returns the aliases now. */
export async function changeAlias(islet: Islet, action: "add" | "remove", query: string): Promise<string[]> {
  const { account } = await requireOwner(islet.core);
  let uri: string;
  if (action === "remove") {
    const known = /^https?:\/\//.test(query) ? query : (await remoteAccount(islet, query)).uri;
    uri = known;
  } else {
    uri = (await remoteAccount(islet, query)).uri;
  }
  try {
    return action === "add" ? await addAlias(islet.core, account, uri) : await removeAlias(islet.core, account, uri);
  } catch (error) {
    if (error instanceof CoreError) throw new CliError(error.message);
    throw error;
  }
}

export const accountCommand: Command = {
  name: "account",
  summary: "show the owner account, set its password, or move it",
  async run(argv) {
    const split = subcommand(argv, ["show", "password", "2fa", "move", "alias"], HELP);
    if (split == null) return;
    const [sub, rest] = split;
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
    if (sub === "2fa") {
      const [action, ...args] = rest;
      if (action !== "disable" && action !== "status") throw new CliError("expected 2fa status or 2fa disable");
      if (parseOptions(args, {}, HELP) == null) return;
      await withIslet(async ({ core }) => {
        const owner = await requireOwner(core);
        if (action === "status") {
          const status = twoFactorStatus(owner);
          process.stdout.write(status.enabled
            ? `Two-factor sign-in is on (since ${status.enabledAt?.toISOString()}); ${status.recoveryCodesLeft} recovery codes left.\n`
            : "Two-factor sign-in is off.\n");
          return;
        }
        const wasOn = await disableTwoFactor(core);
        process.stdout.write(wasOn
          ? `Two-factor sign-in of @${owner.account.username} is off: the password alone signs in now.\n`
          : `Two-factor sign-in of @${owner.account.username} was already off.\n`);
      });
      return;
    }
    if (sub === "move") {
      const parsed = parseOptions(rest, { to: { type: "string" }, undo: { type: "boolean" } }, HELP);
      if (parsed == null) return;
      const { to, undo } = parsed.values;
      if ((to == null) === (undo !== true)) throw new CliError("give either --to ACCOUNT or --undo");
      if (undo) {
        await withFederation(async (islet) => {
          const { account } = await requireOwner(islet.core);
          const previous = await movedTo(islet.core, account);
          if (!(await undoOwnerMove(islet.core, account))) throw new CliError(`@${account.username} has not moved`);
          process.stdout.write(`@${account.username} is no longer marked as moved${previous == null ? "" : ` to ${previous.uri}`}.\n`);
        });
        return;
      }
      await withFederation(async (islet) => {
        process.stdout.write(`${await moveOwnerTo(islet, to!)}\n`);
      });
      return;
    }
    if (sub === "alias") {
      const [action, ...args] = rest;
      if (action === "list") {
        if (parseOptions(args, {}, HELP) == null) return;
        await withIslet(async ({ core }) => {
          const { account } = await requireOwner(core);
          const lines = await Promise.all(account.alsoKnownAs.map(async (uri) => {
            const known = await findAccountByUri(core, uri);
            return known?.domain == null ? uri : `${uri} (@${known.username}@${known.domain})`;
          }));
          process.stdout.write(lines.length === 0 ? "No aliases.\n" : `${lines.join("\n")}\n`);
        });
        return;
      }
      if (action === "add" || action === "remove") {
        const parsed = parseOptions(args, {}, HELP, true);
        if (parsed == null) return;
        if (parsed.positionals.length !== 1) throw new CliError(`usage: islet account alias ${action} ACCOUNT`);
        await withFederation(async (islet) => {
          const aliases = await changeAlias(islet, action, parsed.positionals[0]!);
          process.stdout.write(`Aliases: ${aliases.length === 0 ? "none" : aliases.join(", ")}\n`);
        });
        return;
      }
      throw new CliError("expected alias list, alias add ACCOUNT or alias remove ACCOUNT");
    }
  },
};
