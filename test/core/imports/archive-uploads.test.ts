/**
 * Uploaded account archives, below the page: a file that is not an
 * archive is refused before anything is stored; an import stopped with its
 * process is left to run again (its file kept, the stop not counted as a
 * failed run), and the next run finishes it, skipping nothing twice and
 * deleting the file.
 */
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { and, eq, isNull } from "drizzle-orm";
import { archiveKind, findArchiveImport, processArchiveImport, scheduleArchiveImport, type ArchiveImportJob } from "../../../src/core/imports/archive-uploads.ts";
import { CoreError } from "../../../src/core/context.ts";
import { archiveImports, statuses } from "../../../src/db/schema.ts";
import { createImportResolvers } from "../../../src/federation/imports.ts";
import { writeZip } from "../../helpers/archives.ts";
import { databaseKinds } from "../../helpers/database.ts";
import { startInstance, type TestInstance } from "../../helpers/instance.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const OLD = "https://old.example/users/me";

for (const kind of databaseKinds()) {
  describe(`uploaded account archives (${kind})`, () => {
    let instance: TestInstance;
    let work: string;
    /** Jobs the tests run themselves, so the server's worker never sees them. */
    const queued: ArchiveImportJob[] = [];
    const queue = { enqueue: async (job: unknown) => void queued.push(job as ArchiveImportJob) };

    before(async () => {
      instance = await startInstance(kind);
      work = await mkdtemp(join(tmpdir(), "islet-archive-uploads-"));
    });
    after(async () => {
      await instance?.close();
      if (work != null) await rm(work, { recursive: true, force: true });
    });

    test("archives are known by their first bytes; anything else is refused and nothing stored", async () => {
      assert.equal(archiveKind(new Uint8Array([0x50, 0x4b, 0x03, 0x04])), ".zip");
      assert.equal(archiveKind(new Uint8Array([0x1f, 0x8b, 0x08])), ".tar.gz");
      const tar = new Uint8Array(512);
      tar.set(new TextEncoder().encode("ustar"), 257);
      assert.equal(archiveKind(tar), ".tar");
      assert.equal(archiveKind(new TextEncoder().encode("{}")), null);

      const file = join(work, "outbox.json");
      await writeFile(file, "{}");
      await assert.rejects(scheduleArchiveImport(instance.islet.core, { path: file, size: 2, filename: "outbox.json" }, queue), (error: unknown) => error instanceof CoreError && error.code === "invalid" && /not an account archive/.test(error.message));
      assert.deepEqual(await instance.islet.core.db.select().from(archiveImports), []);
      assert.deepEqual(queued, []);
      await access(file);
    });

    test("an import stopped with its process runs again from where the file is, and ends once", async () => {
      const core = instance.islet.core;
      const dir = join(work, "archive");
      await mkdir(dir, { recursive: true });
      const items = [1, 2, 3].map((n) => ({
        id: `${OLD}/statuses/${n}/activity`,
        type: "Create",
        actor: OLD,
        published: `2022-01-0${n}T12:00:00Z`,
        to: [`${AS}#Public`],
        object: { id: `${OLD}/statuses/${n}`, type: "Note", attributedTo: OLD, published: `2022-01-0${n}T12:00:00Z`, to: [`${AS}#Public`], content: `<p>archived post ${n}</p>` },
      }));
      await writeFile(join(dir, "outbox.json"), JSON.stringify({ "@context": AS, type: "OrderedCollection", totalItems: 3, orderedItems: items }));
      const zip = join(work, "upload.zip");
      await writeZip(dir, zip);
      const size = (await stat(zip)).size;

      const scheduled = await scheduleArchiveImport(core, { path: zip, size, filename: "archive.zip" }, queue);
      assert.equal(scheduled.state, "scheduled");
      assert.equal(scheduled.size, size);
      assert.deepEqual(queued, [{ importId: scheduled.id.toString() }]);
      // The upload was moved under DATA_DIR.
      await assert.rejects(access(zip));
      assert.ok(scheduled.filePath?.startsWith(join(core.config.dataDir, "imports")));
      await access(scheduled.filePath!);

      const resolvers = createImportResolvers(instance.islet.federation, core);
      const stopped = new AbortController();
      stopped.abort();
      await assert.rejects(processArchiveImport(core, resolvers, scheduled.id, stopped.signal));
      let row = (await findArchiveImport(core, scheduled.id))!;
      assert.deepEqual({ state: row.state, attempts: row.attempts, filePath: row.filePath }, { state: "in_progress", attempts: 0, filePath: scheduled.filePath });
      await access(scheduled.filePath!);

      await processArchiveImport(core, resolvers, scheduled.id);
      row = (await findArchiveImport(core, scheduled.id))!;
      assert.equal(row.state, "finished");
      assert.equal(row.filePath, null);
      assert.ok(row.finishedAt != null);
      assert.deepEqual({ posts: (row.report as { posts: number }).posts, error: row.error }, { posts: 3, error: null });
      await assert.rejects(access(scheduled.filePath!));
      const posts = await core.db.select().from(statuses).where(and(eq(statuses.accountId, instance.owner!.account.id), isNull(statuses.reblogOfId)));
      assert.equal(posts.length, 3);

      // The job handed out again (at least once delivery) changes nothing.
      await processArchiveImport(core, resolvers, scheduled.id);
      assert.deepEqual((await findArchiveImport(core, scheduled.id))!.report, row.report);
      assert.equal((await core.db.select().from(statuses).where(eq(statuses.accountId, instance.owner!.account.id))).length, 3);
    });
  });
}
