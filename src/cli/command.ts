/** What every admin command shares: option parsing, help, config, database. */
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { loadConfig, type Config } from "../config.ts";
import type { Islet, OpenedCore } from "../islet.ts";
import { createLogger } from "../log.ts";

export { CliError, type Command } from "./errors.ts";
import { CliError } from "./errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a command's options. Prints `help` and returns null for --help.
 */
export function parseOptions<T extends Options>(argv: string[], options: T, help: string, allowPositionals = false) {
  const parsed = parseArgs({
    args: argv,
    options: { ...options, help: { type: "boolean", short: "h" } },
    allowPositionals,
    strict: true,
  });
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${help.trim()}\n`);
    return null;
  }
  return parsed;
}

/**
 * Splits `argv` into one of `names` and the arguments after it. Prints
 * `help` and returns null for --help; a missing or unknown subcommand is a
 * CliError naming the choices.
 */
export function subcommand<T extends string>(argv: string[], names: readonly T[], help: string): [T, string[]] | null {
  const [sub, ...rest] = argv;
  const choices = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
  if (sub == null || sub === "--help" || sub === "-h") {
    process.stdout.write(`${help.trim()}\n`);
    if (sub == null) throw new CliError(`missing subcommand: ${choices}`);
    return null;
  }
  if (!(names as readonly string[]).includes(sub)) throw new CliError(`unknown subcommand ${JSON.stringify(sub)}; expected ${choices}`);
  return [sub as T, rest];
}

/** Reads the configuration; the CLI logs warnings and errors only. */
export function cliConfig(): Config {
  return loadConfig(process.env);
}

/** The one path a command takes; `what` names it when there is not exactly one. */
export function onePath(positionals: string[], what = "FILE"): string {
  if (positionals.length !== 1) throw new CliError(`give one ${what}`);
  return positionals[0]!;
}

function cliLogger(config: Config) {
  return createLogger(config.logLevel === "debug" ? "debug" : "warning");
}

/** Opens the database and core for a one-off command, then closes them. */
export async function withIslet<T>(fn: (opened: OpenedCore) => Promise<T>): Promise<T> {
  const config = cliConfig();
  // Loaded here, not at the top: commands that need no core (restore, doctor) start without it.
  const { openCore } = await import("../islet.ts");
  const opened = await openCore(config, { log: cliLogger(config) });
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}

/** Opens the whole Islet, federation included, for a one-off command, then closes it. */
export async function withFederation<T>(fn: (islet: Islet) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const { openIslet } = await import("../islet.ts");
  const islet = await openIslet(config, { log: cliLogger(config) });
  try {
    return await fn(islet);
  } finally {
    await islet.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A password from a file, from stdin (`-`), or typed at a terminal prompt. */
export async function readPassword(file: string | undefined, prompt: string): Promise<string> {
  if (file === "-") return (await readStdin()).replace(/\r?\n$/, "");
  if (file != null) {
    try {
      return readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      throw new CliError(`cannot read the password file ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
  }
  if (!process.stdin.isTTY) {
    throw new CliError("no password given: pass --password-file PATH (or --password-file - to read it from stdin)");
  }
  const first = await askHidden(`${prompt}: `);
  const second = await askHidden("Again, to be sure: ");
  if (first !== second) throw new CliError("the two passwords differ");
  return first;
}

/** Asks a question at the terminal. */
export async function ask(question: string): Promise<string> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Asks for a secret at the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stdout.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = "";
    const onData = (data: Buffer) => {
      for (const char of data.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          done();
          process.stdout.write("\n");
          resolve(value);
          return;
        }
        if (char === "\u0003") {
          done();
          process.stdout.write("\n");
          reject(new CliError("cancelled"));
          return;
        }
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else value += char;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on("data", onData);
  });
}
