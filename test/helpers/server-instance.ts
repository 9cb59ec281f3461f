/**
 * An instance prepared for `islet serve` in a child process: a throwaway
 * database with an owner made by `islet setup`, an owner token, and
 * optionally remote followers, all written before the server starts (the
 * embedded database lets one process in at a time).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { and, eq, isNull } from "drizzle-orm";
import { hashToken } from "../../src/core/token-hash.ts";
import { newId } from "../../src/core/ids.ts";
import { accounts, follows, oauthApplications, oauthTokens } from "../../src/db/schema.ts";
import { runIslet } from "./cli.ts";
import { createTestDatabase, type DatabaseKind, type TestDatabase } from "./database.ts";
import { freePort } from "./instance.ts";

export interface PreparedInstance {
  database: TestDatabase;
  /** The environment `islet serve` runs with. */
  env: Record<string, string | undefined>;
  port: number;
  /** Where requests go: http://127.0.0.1:PORT. */
  url: string;
  /** The canonical origin: http://localhost:PORT. */
  origin: string;
  /** A bearer token of the owner (read write follow push). */
  token: string;
}

export interface PrepareOptions {
  /** Remote accounts following the owner: one per inbox URL given. */
  followerInboxes?: readonly string[];
  env?: Record<string, string | undefined>;
}

export async function prepareInstance(kind: DatabaseKind, options: PrepareOptions = {}): Promise<PreparedInstance> {
  const database = await createTestDatabase(kind, { migrated: true });
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    DATA_DIR: database.dataDir,
    DATABASE_URL: database.databaseUrl ?? undefined,
    PORT: String(port),
    ALLOW_PRIVATE_ADDRESS: "true",
    LOG_LEVEL: "warn",
    ...options.env,
  };
  const passwordFile = join(database.dataDir, "password");
  writeFileSync(passwordFile, "a long test password\n");
  const setup = await runIslet(["setup", "--username", "owner", "--email", "owner@example.com", "--password-file", passwordFile], { env });
  assert.equal(setup.code, 0, setup.stderr);

  const token = randomBytes(32).toString("base64url");
  const opened = await database.open();
  try {
    const db = opened.db;
    const [owner] = await db.select().from(accounts).where(isNull(accounts.domain));
    const applicationId = newId();
    await db.insert(oauthApplications).values({
      id: applicationId,
      name: "Test client",
      website: null,
      redirectUris: ["urn:ietf:wg:oauth:2.0:oob"],
      scopes: "read write follow push",
      clientId: randomBytes(16).toString("hex"),
      clientSecret: randomBytes(16).toString("hex"),
    });
    await db.insert(oauthTokens).values({ id: newId(), tokenHash: hashToken(token), applicationId, accountId: owner.id, scopes: "read write follow push" });
    const inboxes = options.followerInboxes ?? [];
    for (let start = 0; start < inboxes.length; start += 500) {
      const rows = inboxes.slice(start, start + 500).map((inbox, i) => {
        const n = start + i;
        const domain = `follower${n}.example`;
        return {
          id: newId(),
          username: `follower${n}`,
          domain,
          uri: `https://${domain}/users/follower${n}`,
          url: `https://${domain}/@follower${n}`,
          inboxUrl: inbox,
        };
      });
      await db.insert(accounts).values(rows);
      await db.insert(follows).values(rows.map((row) => ({ id: newId(), accountId: row.id, targetAccountId: owner.id, state: "accepted" as const })));
    }
    const counted = await db.select({ id: follows.id }).from(follows).where(and(eq(follows.targetAccountId, owner.id), eq(follows.state, "accepted")));
    assert.equal(counted.length, inboxes.length);
  } finally {
    await opened.close();
  }
  return { database, env, port, url: `http://127.0.0.1:${port}`, origin: `http://localhost:${port}`, token };
}
