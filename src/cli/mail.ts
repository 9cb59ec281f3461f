/**
 * `islet mail test ADDRESS`: sends a test message at once, not through the
 * queue, and says plainly what went wrong if it could not. Needs no database,
 * and so leaves `./command.ts` (which brings in the whole core) unloaded:
 * the command starts in a fraction of the time.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { describeSmtpError, sendNow, smtpEndpoint } from "../mail/transport.ts";
import { testMessage } from "../mail/messages.ts";
import { CliError, type Command } from "./errors.ts";
import { subcommand } from "./command.ts";

const HELP = `
Usage: islet mail test ADDRESS

  test ADDRESS   send a test message to ADDRESS now, through the SMTP server
                 of SMTP_SERVER (with SMTP_PORT, SMTP_LOGIN, SMTP_PASSWORD,
                 SMTP_TLS, SMTP_ENABLE_STARTTLS, SMTP_AUTH_METHOD, SMTP_CA_FILE),
                 and report what went wrong if it could not
`;

const ADDRESS_PATTERN = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

export const mailCommand: Command = {
  name: "mail",
  summary: "send a test message to check the SMTP settings",
  async run(argv) {
    const split = subcommand(argv, ["test"], HELP);
    if (split == null) return;
    const [, rest] = split;
    const parsed = parseArgs({ args: rest, options: { help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      process.stdout.write(`${HELP.trim()}\n`);
      return;
    }
    const [address, ...extra] = parsed.positionals;
    if (address == null) throw new CliError("missing ADDRESS: islet mail test you@example.com");
    if (extra.length > 0) throw new CliError(`one ADDRESS only, got also ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
    if (!ADDRESS_PATTERN.test(address)) throw new CliError(`${JSON.stringify(address)} is not an email address`);
    const config = loadConfig(process.env);
    if (config.smtp.server == null) {
      throw new CliError("SMTP_SERVER is not set, so mail is disabled: set SMTP_SERVER (and SMTP_LOGIN, SMTP_PASSWORD) first");
    }
    const endpoint = smtpEndpoint(config.smtp);
    try {
      await sendNow(config, testMessage(config, address), { connectionTimeoutMs: 15_000, greetingTimeoutMs: 15_000, socketTimeoutMs: 30_000 });
    } catch (error) {
      throw new CliError(`could not send the test message: ${describeSmtpError(error, config)}`);
    }
    process.stdout.write(`Sent a test message to ${address} via ${endpoint}\n`);
  },
};
