/** `islet import archive FILE`: a Mastodon account archive. */
import { CliError } from "./command.ts";

export async function importArchiveCommand(_argv: string[]): Promise<void> {
  throw new CliError("archive import is not available yet");
}
