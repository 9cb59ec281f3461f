/**
 * Archive import: `islet import archive DIR` of a Mastodon archive of
 * 10,000 posts (every tenth a reply in a thread, every hundredth a poll,
 * each with a hashtag; fifty with a small picture), on a fresh instance of
 * its own so that the other rows keep their owner's timeline. Figures: the
 * command's wall time, and its peak RSS (VmHWM, read from /proc while it
 * runs; its last reading before exit).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { ROOT, startNode } from "../lib/children.ts";
import { DEFAULT_ADMIN_URL, prepareTarget } from "../lib/targets.ts";
import type { ProcessBench } from "../lib/types.ts";

const POSTS = 10_000;
const PICTURES = 50;
const LIMIT_MS = 600_000;
const AS = "https://www.w3.org/ns/activitystreams";
const OLD = "https://old.example/users/me";

async function writeArchive(dir: string): Promise<void> {
  mkdirSync(join(dir, "media_attachments"), { recursive: true });
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#369" } }).png().toBuffer();
  const out = createWriteStream(join(dir, "outbox.json"));
  const write = (text: string) => new Promise<void>((resolve) => (out.write(text) ? resolve() : out.once("drain", resolve)));
  await write(`{"@context":"${AS}","id":"outbox.json","type":"OrderedCollection","totalItems":${POSTS},"orderedItems":[`);
  const start = Date.UTC(2018, 0, 1);
  for (let n = 1; n <= POSTS; n++) {
    const published = new Date(start + n * 3_600_000).toISOString();
    const object: Record<string, unknown> = {
      id: `${OLD}/statuses/${n}`,
      type: n % 100 === 0 ? "Question" : "Note",
      attributedTo: OLD,
      published,
      to: [`${AS}#Public`],
      cc: [`${OLD}/followers`],
      content: `<p>Post number ${n}, moved from elsewhere with its <a href="https://old.example/tags/archive${n % 20}" rel="tag">#archive${n % 20}</a> tag. ${"Some words to make it the length of a real post. ".repeat(3)}</p>`,
      tag: [{ type: "Hashtag", href: `https://old.example/tags/archive${n % 20}`, name: `#archive${n % 20}` }],
    };
    if (n % 10 === 0) object.inReplyTo = `${OLD}/statuses/${n - 1}`;
    if (n % 100 === 0) object.oneOf = [{ type: "Note", name: "yes", replies: { totalItems: 2 } }, { type: "Note", name: "no", replies: { totalItems: 1 } }];
    if (n % Math.floor(POSTS / PICTURES) === 1) {
      const name = `media_attachments/${n}.png`;
      writeFileSync(join(dir, name), png);
      object.attachment = [{ type: "Document", mediaType: "image/png", url: name, name: `picture ${n}` }];
    }
    const activity = { id: `${OLD}/statuses/${n}/activity`, type: "Create", actor: OLD, published, to: object.to, cc: object.cc, object };
    await write(`${n === 1 ? "" : ","}${JSON.stringify(activity)}`);
  }
  await write("]}");
  await new Promise<void>((resolve) => out.end(resolve));
  writeFileSync(join(dir, "actor.json"), JSON.stringify({ "@context": AS, id: OLD, type: "Person", name: "Bench", summary: "<p>moved</p>", followers: `${OLD}/followers` }));
}

function peakRss(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match == null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

export const archiveImport: ProcessBench = {
  kind: "process",
  name: "archive import",
  async run(context) {
    const target = await prepareTarget(context.target.database, process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL);
    try {
      const dir = join(target.tempDir, "archive");
      await writeArchive(dir);
      context.progress(`  archive import: ${POSTS} posts written, importing`);
      const begin = performance.now();
      const child = startNode([join(ROOT, "bin", "islet.js"), "import", "archive", dir], target.env);
      let peak: number | null = null;
      const poll = setInterval(() => {
        peak = peakRss(child.pid) ?? peak;
      }, 50);
      const timer = setTimeout(() => void child.stop(), LIMIT_MS);
      const { code, signal } = await child.exited;
      const ms = performance.now() - begin;
      clearInterval(poll);
      clearTimeout(timer);
      if (code !== 0) throw new Error(`islet import archive failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);
      const summary = child.stdout().trim().split("\n").pop() ?? "";
      if (!summary.startsWith(`${POSTS} posts`)) throw new Error(`islet import archive did not import every post: ${summary}`);
      context.record({ id: "archive-import.time", row: `Archive import: ${POSTS.toLocaleString("en")} posts`, value: ms / 1000, unit: "s", how: `islet import archive of an extracted folder; ${PICTURES} pictures, threads, polls, tags` });
      context.record({ id: "archive-import.rss", row: "Archive import: peak RSS", value: peak == null ? null : peak / (1024 * 1024), unit: "MiB", how: "VmHWM of the command, read every 50 ms" });
      context.progress(`  archive import: ${(ms / 1000).toFixed(1)} s, peak ${peak == null ? "?" : (peak / (1024 * 1024)).toFixed(0)} MiB`);
    } finally {
      await target.dispose();
      rmSync(join(target.tempDir, "archive"), { recursive: true, force: true });
    }
  },
};
