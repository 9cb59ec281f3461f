/**
 * What is wrong with an account as given on the command line, if anything:
 * commands that name another account take `user@domain` (with or without
 * the leading @) or the account's actor URL.
 */
export function handleProblem(query: string): string | null {
  if (/^https?:\/\/[^\s/]+/.test(query)) return null;
  if (/^@?[^@\s/]+@[^@\s/]+$/.test(query)) return null;
  return "not an account: give it as user@domain (for example alice@example.social) or as its actor URL";
}
