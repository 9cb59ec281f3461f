/** `islet config`: the resolved configuration, secrets masked. */
import { describeConfig, loadConfig } from "../config.ts";
import { parseOptions, type Command } from "./command.ts";

const HELP = `
Usage: islet config

Prints the configuration as the server would use it, with secrets masked
and the source of each secret named. Creates nothing: a DATA_DIR that does
not exist yet stays so.
`;

export const configCommand: Command = {
  name: "config",
  summary: "print the resolved configuration (secrets masked)",
  async run(argv) {
    if (parseOptions(argv, {}, HELP) == null) return;
    process.stdout.write(`${describeConfig(loadConfig(process.env, { readOnly: true })).join("\n")}\n`);
  },
};
