/**
 * CSV imports in Mastodon's export formats, with accounts resolved through
 * WebFinger on stand-in servers; and export → import into an empty
 * instance giving the same follows, blocks, mutes, domain blocks,
 * bookmarks and lists.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { exportCsv } from "../../../src/core/exports/csv-exports.ts";
import { importProgress, importReport, startImport, type ImportType } from "../../../src/core/imports/bulk-imports.ts";
import { parseImportCsv } from "../../../src/core/imports/csv-formats.ts";
import { accounts, bookmarks, follows, listAccounts, lists, mutes, statuses, blocks, userDomainBlocks } from "../../../src/db/schema.ts";
import { databaseKinds } from "../../helpers/database.ts";
import { startDocumentServer, type DocumentServer } from "../../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../../helpers/instance.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

async function runImport(instance: TestInstance, type: ImportType, csv: string, overwrite = false) {
  const core = instance.islet.core;
  const started = await startImport(core, { type, csv, overwrite });
  await eventually(async () => (await importProgress(core, started.import.id)).state === "finished", `the ${type} import to finish`);
  return { started, report: await importReport(core, started.import.id), progress: await importProgress(core, started.import.id) };
}

/** The rows of an export, sorted, without its header. */
async function exportedRows(instance: TestInstance, type: ImportType): Promise<string[]> {
  const csv = await exportCsv(instance.islet.core, type);
  const lines = csv.split("\n").filter((line) => line !== "");
  const body = type === "following" || type === "muting" ? lines.slice(1) : lines;
  return body.sort();
}

function followActivities(server: DocumentServer, actor: string, type = "Follow") {
  return server.received.filter((entry) => entry.body.type === type && (type === "Follow" ? entry.body.object === actor : (entry.body.object as Record<string, unknown>)?.object === actor));
}

describe("reading Mastodon's CSV formats", () => {
  test("following_accounts.csv with its header: addresses, boosts, notifications, languages", () => {
    const parsed = parseImportCsv("following", "Account address,Show boosts,Notify on new posts,Languages\nalice@a.example,true,false,\n@bob@b.example,false,true,\"en, de\"\n");
    assert.deepEqual(parsed.rows.map((row) => row.data), [
      { acct: "alice@a.example", showReblogs: true, notify: false, languages: null },
      { acct: "bob@b.example", showReblogs: false, notify: true, languages: ["en", "de"] },
    ]);
  });

  test("files without a header, short rows and bad rows", () => {
    assert.deepEqual(parseImportCsv("following", "alice@a.example\n").rows[0]!.data, { acct: "alice@a.example", showReblogs: true, notify: false, languages: null });
    assert.deepEqual(parseImportCsv("muting", "Account address,Hide notifications\nbob@b.example,false\ncarol@c.example\n").rows.map((row) => row.data), [
      { acct: "bob@b.example", hideNotifications: false },
      { acct: "carol@c.example", hideNotifications: true },
    ]);
    const lists = parseImportCsv("lists", "Friends,alice@a.example\nFriends,not an address\n");
    assert.deepEqual(lists.rows.map((row) => row.data), [{ listName: "Friends", acct: "alice@a.example" }]);
    assert.equal(lists.skipped[0]!.line, 2);
    assert.deepEqual(parseImportCsv("bookmarks", "https://a.example/notes/1\n").rows[0]!.data, { uri: "https://a.example/notes/1" });
    assert.deepEqual(parseImportCsv("domain_blocking", "spam.example\n").rows[0]!.data, { domain: "spam.example" });
  });

  test("a file of another kind, or with nothing in it, is refused", () => {
    assert.throws(() => parseImportCsv("blocking", "List name,Account address\nFriends,bob@b.example\n"), /not that of a blocking export/);
    assert.throws(() => parseImportCsv("blocking", "\n\n"), /no rows/);
  });
});

for (const kind of databaseKinds()) {
  describe(`CSV imports and exports (${kind})`, () => {
    let source: TestInstance;
    let target: TestInstance;
    let one: DocumentServer;
    let two: DocumentServer;
    let hostOne: string;
    let hostTwo: string;
    const actor = (server: DocumentServer, name: string) => `${server.origin}/users/${name}`;

    before(async () => {
      [source, target, one, two] = await Promise.all([startInstance(kind), startInstance(kind), startDocumentServer(), startDocumentServer()]);
      for (const name of ["alice", "bob", "carol", "erin"]) await one.addActor(name);
      await two.addActor("dave");
      hostOne = new URL(one.origin).host;
      hostTwo = new URL(two.origin).host;
      one.documents.set("/notes/1", {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${one.origin}/notes/1`,
        type: "Note",
        attributedTo: actor(one, "alice"),
        content: "<p>worth keeping</p>",
        published: "2024-03-01T12:00:00Z",
        to: [PUBLIC],
      });
    });
    after(async () => {
      await Promise.all([source?.close(), target?.close(), one?.close(), two?.close()]);
    });

    const owner = () => source.owner!.account;

    test("following_accounts.csv: accounts found by WebFinger are followed with their options; an unknown one is reported", async () => {
      const csv = [
        "Account address,Show boosts,Notify on new posts,Languages",
        `alice@${hostOne},true,false,`,
        `bob@${hostOne},false,true,"en, de"`,
        `nobody@${hostOne},true,false,`,
        "",
      ].join("\n");
      const { report, progress } = await runImport(source, "following", csv);
      assert.deepEqual({ imported: progress.imported, failed: progress.failed }, { imported: 2, failed: 1 });
      const failed = report.find((row) => row.outcome === "failed")!;
      assert.equal(failed.line, 4);
      assert.match(failed.error ?? "", /no account found/);
      const rows = await source.islet.core.db
        .select({ uri: accounts.uri, follow: follows })
        .from(follows)
        .innerJoin(accounts, eq(accounts.id, follows.targetAccountId))
        .where(eq(follows.accountId, owner().id));
      const byUri = new Map(rows.map((row) => [row.uri, row.follow]));
      assert.equal(byUri.size, 2);
      assert.equal(byUri.get(actor(one, "alice"))!.showReblogs, true);
      const bob = byUri.get(actor(one, "bob"))!;
      assert.deepEqual([bob.showReblogs, bob.notify, bob.languages], [false, true, ["en", "de"]]);
      await eventually(async () => followActivities(one, actor(one, "bob")).length === 1, "the Follow to reach bob's server");
    });

    test("the same file again changes nothing: no second Follow (a later follow's delivery is the sentinel)", async () => {
      const csv = `Account address,Show boosts,Notify on new posts,Languages\nalice@${hostOne},true,false,\nbob@${hostOne},false,true,"en, de"\n`;
      const { progress } = await runImport(source, "following", csv);
      assert.equal(progress.imported, 2);
      await runImport(source, "following", `erin@${hostOne}\n`);
      await eventually(async () => followActivities(one, actor(one, "erin")).length === 1, "the sentinel Follow to reach erin's server");
      assert.equal(followActivities(one, actor(one, "alice")).length, 1);
      assert.equal(followActivities(one, actor(one, "bob")).length, 1);
    });

    test("overwrite unfollows what the file does not list", async () => {
      const { progress } = await runImport(source, "following", `alice@${hostOne}\nbob@${hostOne},false,true,"en, de"\n`, true);
      assert.equal(progress.imported, 2);
      const targets = await source.islet.core.db
        .select({ uri: accounts.uri })
        .from(follows)
        .innerJoin(accounts, eq(accounts.id, follows.targetAccountId))
        .where(eq(follows.accountId, owner().id));
      assert.deepEqual(targets.map((row) => row.uri).sort(), [actor(one, "alice"), actor(one, "bob")]);
      await eventually(async () => followActivities(one, actor(one, "erin"), "Undo").length === 1, "the Undo of erin's follow");
    });

    test("blocks, mutes, domain blocks, bookmarks and lists", async () => {
      const core = source.islet.core;
      assert.equal((await runImport(source, "blocking", `carol@${hostOne}\n`)).progress.imported, 1);
      assert.equal((await runImport(source, "muting", `Account address,Hide notifications\ndave@${hostTwo},false\n`)).progress.imported, 1);
      assert.equal((await runImport(source, "domain_blocking", "spam.example\n")).progress.imported, 1);
      assert.equal((await runImport(source, "bookmarks", `${one.origin}/notes/1\n`)).progress.imported, 1);
      assert.equal((await runImport(source, "lists", `Friends,alice@${hostOne}\nFriends,dave@${hostTwo}\nWork,bob@${hostOne}\n`)).progress.imported, 3);

      const blocked = await core.db.select({ uri: accounts.uri }).from(blocks).innerJoin(accounts, eq(accounts.id, blocks.targetAccountId));
      assert.deepEqual(blocked.map((row) => row.uri), [actor(one, "carol")]);
      const muted = await core.db.select({ uri: accounts.uri, hide: mutes.hideNotifications }).from(mutes).innerJoin(accounts, eq(accounts.id, mutes.targetAccountId));
      assert.deepEqual(muted, [{ uri: actor(two, "dave"), hide: false }]);
      const domains = await core.db.select({ domain: userDomainBlocks.domain }).from(userDomainBlocks);
      assert.deepEqual(domains, [{ domain: "spam.example" }]);
      const marked = await core.db.select({ uri: statuses.uri, content: statuses.content }).from(bookmarks).innerJoin(statuses, eq(statuses.id, bookmarks.statusId));
      assert.equal(marked.length, 1);
      assert.equal(marked[0]!.uri, `${one.origin}/notes/1`);
      const members = await core.db
        .select({ title: lists.title, uri: accounts.uri })
        .from(listAccounts)
        .innerJoin(lists, eq(lists.id, listAccounts.listId))
        .innerJoin(accounts, eq(accounts.id, listAccounts.accountId));
      assert.deepEqual(members.map((row) => `${row.title} ${row.uri}`).sort(), [`Friends ${actor(one, "alice")}`, `Friends ${actor(two, "dave")}`, `Work ${actor(one, "bob")}`].sort());
      // A list holds followed accounts: dave is followed for it.
      const daveFollow = await core.db
        .select({ id: follows.id })
        .from(follows)
        .innerJoin(accounts, eq(accounts.id, follows.targetAccountId))
        .where(and(eq(follows.accountId, owner().id), eq(accounts.uri, actor(two, "dave"))));
      assert.equal(daveFollow.length, 1);
    });

    test("lists overwrite: a list the file does not name goes, the others hold what the file says", async () => {
      const { progress } = await runImport(source, "lists", `Friends,alice@${hostOne}\n`, true);
      assert.equal(progress.imported, 1);
      const members = await source.islet.core.db
        .select({ title: lists.title, uri: accounts.uri })
        .from(listAccounts)
        .innerJoin(lists, eq(lists.id, listAccounts.listId))
        .innerJoin(accounts, eq(accounts.id, listAccounts.accountId));
      assert.deepEqual(members.map((row) => `${row.title} ${row.uri}`), [`Friends ${actor(one, "alice")}`]);
      const titles = await source.islet.core.db.select({ title: lists.title }).from(lists);
      assert.deepEqual(titles, [{ title: "Friends" }]);
      // Put Work back for the round trip.
      await runImport(source, "lists", `Work,bob@${hostOne}\nFriends,dave@${hostTwo}\n`);
    });

    test("export in Mastodon's formats, import into an empty instance: the same follows, blocks, mutes, domain blocks, bookmarks and lists", async () => {
      const kinds: ImportType[] = ["following", "blocking", "muting", "domain_blocking", "bookmarks", "lists"];
      const exported = new Map<ImportType, string>();
      for (const type of kinds) exported.set(type, await exportCsv(source.islet.core, type));
      assert.match(exported.get("following")!, /^Account address,Show boosts,Notify on new posts,Languages\n/);
      assert.match(exported.get("muting")!, /^Account address,Hide notifications\n/);
      assert.ok(exported.get("following")!.includes(`bob@${hostOne},false,true,"en, de"`));
      for (const type of kinds) {
        const { progress } = await runImport(target, type, exported.get(type)!);
        assert.equal(progress.failed, 0, `${type}: no row failed`);
      }
      for (const type of kinds) {
        assert.deepEqual(await exportedRows(target, type), await exportedRows(source, type), `${type} is the same`);
      }
      assert.equal((await exportedRows(target, "following")).length, 3);
      assert.equal((await exportedRows(target, "lists")).length, 3);
    });
  });
}
