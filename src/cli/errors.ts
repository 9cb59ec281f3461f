/** The shape of an admin command, and the error it fails with. */

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<void>;
}
