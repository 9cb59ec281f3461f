/**
 * Mastodon's CSV export formats, read and written: following_accounts.csv
 * ("Account address,Show boosts,Notify on new posts,Languages"),
 * blocked_accounts.csv (one address a line), muted_accounts.csv ("Account
 * address,Hide notifications"), blocked_domains.csv (one domain a line),
 * bookmarks.csv (one status URI a line) and lists.csv (list name, address).
 *
 * As Mastodon reads them: a file may start with the header row or not
 * (Mastodon itself writes headers only for follows and mutes); columns
 * missing from a short row take their defaults; blank rows are skipped.
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { CoreError } from "../context.ts";

/** Mastodon's names for the kinds of import (`bulk_imports.type`). */
export const IMPORT_TYPES = ["following", "blocking", "muting", "domain_blocking", "bookmarks", "lists"] as const;
export type ImportType = (typeof IMPORT_TYPES)[number];

/** At most this many rows per file, as Mastodon. */
export const MAX_IMPORT_ROWS = 20_000;

/** One row as stored and worked, by kind. */
export type ImportRowData =
  | { acct: string; showReblogs: boolean; notify: boolean; languages: string[] | null }
  | { acct: string }
  | { acct: string; hideNotifications: boolean }
  | { domain: string }
  | { uri: string }
  | { listName: string; acct: string };

const HEADERS: Record<ImportType, string[]> = {
  following: ["Account address", "Show boosts", "Notify on new posts", "Languages"],
  blocking: ["Account address"],
  muting: ["Account address", "Hide notifications"],
  domain_blocking: ["#domain"],
  bookmarks: ["#uri"],
  lists: ["List name", "Account address"],
};

/** The header row Mastodon writes (follows and mutes), or null (the others have none). */
export function exportHeader(type: ImportType): string[] | null {
  return type === "following" || type === "muting" ? HEADERS[type] : null;
}

/** A CSV boolean as Mastodon writes it ("true"/"false"); blank keeps the default. */
function parseBoolean(value: string | undefined, fallback: boolean): boolean {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "") return fallback;
  return !["false", "0", "f", "no", "off"].includes(text);
}

/** `@user@host`, `user@host` or a bare local `user`, as written in the file. */
function parseAcct(value: string | undefined): string | null {
  const text = (value ?? "").trim().replace(/^@/, "");
  if (!/^[^@\s]+(@[^@\s]+)?$/.test(text)) return null;
  return text;
}

/** A problem with a row found while reading the file: the line and why. */
export interface SkippedRow {
  line: number;
  reason: string;
}

export interface ParsedImport {
  rows: { line: number; data: ImportRowData }[];
  skipped: SkippedRow[];
}

/**
 * Reads a file of the given kind. A file that is not CSV at all, or has
 * no usable row, or too many, is refused (invalid); single bad rows are
 * listed as skipped.
 */
export function parseImportCsv(type: ImportType, text: string): ParsedImport {
  let records: string[][];
  try {
    records = parse(text.replace(/^\uFEFF/, ""), { relaxColumnCount: true, skipEmptyLines: true, trim: true, bom: true });
  } catch (error) {
    throw new CoreError("invalid", `the file is not CSV (${(error as Error).message.split("\n")[0]})`);
  }
  const expected = HEADERS[type];
  let columns = expected;
  let start = 0;
  const first = records[0];
  if (first != null && first.length > 0 && Object.values(HEADERS).some((header) => header[0] === first[0])) {
    if (first[0] !== expected[0]) {
      throw new CoreError("invalid", `this file's header (${first.join(",")}) is not that of a ${type.replace("_", " ")} export`);
    }
    columns = first;
    start = 1;
  }
  const body = records.length - start;
  if (body > MAX_IMPORT_ROWS) throw new CoreError("invalid", `the file has ${body} rows; at most ${MAX_IMPORT_ROWS} can be imported at once`);
  const at = (record: string[], name: string): string | undefined => {
    const index = columns.indexOf(name);
    return index < 0 ? undefined : record[index];
  };
  const parsed: ParsedImport = { rows: [], skipped: [] };
  for (let index = start; index < records.length; index++) {
    const record = records[index]!;
    const line = index + 1;
    if (record.every((cell) => cell === "")) continue;
    const skip = (reason: string) => parsed.skipped.push({ line, reason });
    switch (type) {
      case "following": {
        const acct = parseAcct(at(record, "Account address"));
        if (acct == null) {
          skip(`not an account address: ${JSON.stringify(record[0])}`);
          break;
        }
        const languages = (at(record, "Languages") ?? "").split(",").map((language) => language.trim()).filter((language) => language !== "");
        parsed.rows.push({
          line,
          data: {
            acct,
            showReblogs: parseBoolean(at(record, "Show boosts"), true),
            notify: parseBoolean(at(record, "Notify on new posts"), false),
            languages: languages.length === 0 ? null : languages,
          },
        });
        break;
      }
      case "blocking": {
        const acct = parseAcct(at(record, "Account address"));
        if (acct == null) skip(`not an account address: ${JSON.stringify(record[0])}`);
        else parsed.rows.push({ line, data: { acct } });
        break;
      }
      case "muting": {
        const acct = parseAcct(at(record, "Account address"));
        if (acct == null) skip(`not an account address: ${JSON.stringify(record[0])}`);
        else parsed.rows.push({ line, data: { acct, hideNotifications: parseBoolean(at(record, "Hide notifications"), true) } });
        break;
      }
      case "domain_blocking": {
        const domain = (at(record, "#domain") ?? "").trim();
        if (domain === "" || /[\s@/]/.test(domain)) skip(`not a domain: ${JSON.stringify(record[0])}`);
        else parsed.rows.push({ line, data: { domain } });
        break;
      }
      case "bookmarks": {
        const uri = (at(record, "#uri") ?? "").trim();
        if (!/^https?:\/\/\S+$/.test(uri)) skip(`not a status URI: ${JSON.stringify(record[0])}`);
        else parsed.rows.push({ line, data: { uri } });
        break;
      }
      case "lists": {
        const listName = (at(record, "List name") ?? "").trim();
        const acct = parseAcct(at(record, "Account address"));
        if (listName === "") skip("no list name");
        else if (acct == null) skip(`not an account address: ${JSON.stringify(record[1] ?? "")}`);
        else parsed.rows.push({ line, data: { listName, acct } });
        break;
      }
    }
  }
  // Repeated rows are worked once (the last one wins, as applying them in turn would).
  const seen = new Map<string, number>();
  parsed.rows.forEach((row, index) => seen.set(JSON.stringify(rowKey(type, row.data)), index));
  parsed.rows = parsed.rows.filter((row, index) => seen.get(JSON.stringify(rowKey(type, row.data))) === index);
  if (parsed.rows.length === 0 && parsed.skipped.length === 0) throw new CoreError("invalid", "the file has no rows to import");
  return parsed;
}

/** What makes two rows the same target (case-insensitive addresses and domains). */
function rowKey(type: ImportType, data: ImportRowData): unknown[] {
  const d = data as Record<string, unknown>;
  switch (type) {
    case "domain_blocking":
      return [String(d.domain).toLowerCase()];
    case "bookmarks":
      return [d.uri];
    case "lists":
      return [d.listName, String(d.acct).toLowerCase()];
    default:
      return [String(d.acct).toLowerCase()];
  }
}

/** Writes rows as Mastodon exports them (header row for follows and mutes only). */
export function writeExportCsv(type: ImportType, rows: (string | boolean | null)[][]): string {
  const header = exportHeader(type);
  const records = rows.map((row) => row.map((cell) => (cell == null ? "" : typeof cell === "boolean" ? String(cell) : cell)));
  return stringify(header == null ? records : [header, ...records], { record_delimiter: "\n" });
}
