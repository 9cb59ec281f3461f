/** `islet config`: the resolved configuration, secrets masked. */
import { describeConfig } from "../config.ts";
import { cliConfig, parseOptions, type Command } from "./command.ts";

const HELP = `
Usage: islet config

Prints the configuration as the server would use it, with secrets masked
and the source of each secret named.
`;

export const configCommand: Command = {
  name: "config",
  summary: "print the resolved configuration (secrets masked)",
  async run(argv) {
    if (parseOptions(argv, {}, HELP) == null) return;
    process.stdout.write(`${describeConfig(cliConfig()).join("\n")}\n`);
  },
};
