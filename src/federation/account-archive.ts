/**
 * The owner's account archive in Mastodon's format (what its "Request
 * your archive" gives, and what importers for Mastodon's archives read):
 * outbox.json, an OrderedCollection of every post as a Create and every
 * boost as an Announce, oldest first, with media URLs pointing into the
 * archive; actor.json with `avatar.EXT` and `header.EXT` beside it;
 * likes.json and bookmarks.json, collections of the posts' IRIs; and the
 * media files under their keys. Written as a .tar.gz (gzip'd tar, as
 * Mastodon wrote it before it switched to zip).
 *
 * Posts are read from the database a page at a time and written as they
 * come, so memory stays flat however long the outbox.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import type { Federation } from "@fedify/fedify";
import { and, asc, count, eq, gt } from "drizzle-orm";
import { requireOwner } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { bookmarks, favourites, statuses } from "../db/schema.ts";
import { keyPath } from "../media/storage.ts";
import { personFromAccount } from "./actors.ts";
import { announceOf, createOf } from "./collections.ts";
import { loadFederatedStatus, objectFromStatus } from "./objects.ts";

const PAGE = 200;
const CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"];

export interface ArchiveExportReport {
  posts: number;
  boosts: number;
  media: number;
  favourites: number;
  bookmarks: number;
}

function write(stream: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.write(text)) resolve();
    else {
      stream.once("drain", resolve);
      stream.once("error", reject);
    }
  });
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((error?: Error | null) => (error == null ? resolve() : reject(error))));
}

/** Links a media file into the archive folder under its key; false when it is missing. */
async function linkMedia(core: CoreContext, dir: string, key: string, name = key): Promise<boolean> {
  const source = keyPath(core.config, key);
  if (source == null) return false;
  const target = join(dir, name);
  await mkdir(dirname(target), { recursive: true });
  await symlink(source, target).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  return true;
}

/**
 * Writes the archive to `file` (.tar.gz). `onProgress` hears how many of
 * the owner's statuses have been written.
 */
export async function writeAccountArchive(
  federation: Federation<void>,
  core: CoreContext,
  file: string,
  onProgress?: (done: number, total: number) => void,
): Promise<ArchiveExportReport> {
  const { account: owner } = await requireOwner(core);
  const ctx = federation.createContext(new URL(core.config.origin), undefined);
  const origin = core.config.origin;
  const parent = join(core.config.dataDir, "tmp");
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(parent, "export-"));
  const report: ArchiveExportReport = { posts: 0, boosts: 0, media: 0, favourites: 0, bookmarks: 0 };
  try {
    const total = Number((await core.db.select({ n: count() }).from(statuses).where(eq(statuses.accountId, owner.id)))[0]?.n ?? 0);
    const outbox = createWriteStream(join(dir, "outbox.json"));
    await write(outbox, `{"@context":${JSON.stringify(CONTEXT)},"id":"outbox.json","type":"OrderedCollection","totalItems":${total},"orderedItems":[`);
    let first = true;
    let after = 0n;
    let done = 0;
    for (;;) {
      const page = await core.db
        .select()
        .from(statuses)
        .where(and(eq(statuses.accountId, owner.id), gt(statuses.id, after)))
        .orderBy(asc(statuses.id))
        .limit(PAGE);
      for (const status of page) {
        let activity: Record<string, unknown> | null = null;
        if (status.reblogOfId != null) {
          const original = await core.db.select({ uri: statuses.uri }).from(statuses).where(eq(statuses.id, status.reblogOfId)).limit(1);
          if (original[0] != null) {
            activity = (await announceOf(ctx, owner.username, status.uri, original[0].uri, status.createdAt).toJsonLd({ format: "compact" })) as Record<string, unknown>;
            report.boosts++;
          }
        } else {
          const data = await loadFederatedStatus(core, status.id);
          if (data != null) {
            activity = (await createOf(ctx, owner.username, objectFromStatus(ctx, data)).toJsonLd({ format: "compact" })) as Record<string, unknown>;
            // Media point into the archive, as in Mastodon's: their keys, without /system/.
            const object = activity.object as Record<string, unknown>;
            const attachments = Array.isArray(object.attachment) ? object.attachment : object.attachment == null ? [] : [object.attachment];
            for (const [index, media] of data.media.entries()) {
              const entry = attachments[index] as Record<string, unknown> | undefined;
              if (media.fileKey == null || entry == null) continue;
              if (await linkMedia(core, dir, media.fileKey)) {
                entry.url = media.fileKey;
                report.media++;
              }
            }
            if (attachments.length > 0) object.attachment = attachments;
            report.posts++;
          }
        }
        done++;
        if (activity != null) {
          delete activity["@context"];
          await write(outbox, `${first ? "" : ","}${JSON.stringify(activity)}`);
          first = false;
        }
        onProgress?.(done, total);
      }
      if (page.length < PAGE) break;
      after = page.at(-1)!.id;
    }
    await write(outbox, "]}");
    await close(outbox);

    for (const [name, table] of [["likes.json", favourites], ["bookmarks.json", bookmarks]] as const) {
      const rows = await core.db
        .select({ uri: statuses.uri })
        .from(table)
        .innerJoin(statuses, eq(statuses.id, table.statusId))
        .where(eq(table.accountId, owner.id))
        .orderBy(asc(table.id));
      if (table === favourites) report.favourites = rows.length;
      else report.bookmarks = rows.length;
      await writeFile(
        join(dir, name),
        JSON.stringify({ "@context": CONTEXT[0], id: name, type: "OrderedCollection", totalItems: rows.length, orderedItems: rows.map((row) => row.uri) }),
      );
    }

    const actor = (await (await personFromAccount(ctx, owner)).toJsonLd({ format: "compact" })) as Record<string, unknown>;
    // The owner's pictures are local media: their URLs name their keys.
    const localKey = (url: string | null) => (url != null && url.startsWith(`${origin}/system/`) ? url.slice(`${origin}/system/`.length) : null);
    for (const [kind, field, key] of [["avatar", "icon", localKey(owner.avatarUrl)], ["header", "image", localKey(owner.headerUrl)]] as const) {
      if (key == null) {
        delete actor[field];
        continue;
      }
      const name = `${kind}${extname(key)}`;
      if (await linkMedia(core, dir, key, name)) {
        const image = (typeof actor[field] === "object" && actor[field] != null ? actor[field] : { type: "Image" }) as Record<string, unknown>;
        actor[field] = { ...image, url: name };
      }
    }
    Object.assign(actor, { outbox: "outbox.json", likes: "likes.json", bookmarks: "bookmarks.json" });
    await writeFile(join(dir, "actor.json"), JSON.stringify(actor));

    const { c } = await import("tar");
    const { readdir } = await import("node:fs/promises");
    await mkdir(dirname(file), { recursive: true });
    // Media are linked in; the archive holds the files themselves.
    await c({ gzip: true, file, cwd: dir, follow: true, portable: true }, await readdir(dir));
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

