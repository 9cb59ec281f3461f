/** `islet export archive FILE`: the account archive in Mastodon's format. */
import { CliError } from "./command.ts";

export async function exportArchiveCommand(_argv: string[]): Promise<void> {
  throw new CliError("archive export is not available yet");
}
