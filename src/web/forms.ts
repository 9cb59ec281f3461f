/** Reading the forms the pages post. */
import type { Context } from "hono";

/**
 * The text fields of a posted form (urlencoded, or multipart without its
 * files); an unreadable form reads as empty. `dropEmpty` leaves out fields
 * sent empty, as if they were not sent.
 */
export async function readForm(c: Context, options: { dropEmpty?: boolean } = {}): Promise<Record<string, string>> {
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    body = {};
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string" && !(options.dropEmpty && value === "")) fields[key] = value;
  }
  return fields;
}
