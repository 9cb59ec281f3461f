/**
 * What every core function is given: configuration, database, events, log,
 * and the look-ups on other servers federation does for it.
 */
import type { Config } from "../config.ts";
import type { Database, Db } from "../db/connect.ts";
import type { accounts, statuses } from "../db/schema.ts";
import type { Logger } from "../log.ts";
import type { AccountArchives } from "./account-archives.ts";
import type { EventBus } from "./events.ts";

export interface CoreContext {
  readonly config: Config;
  readonly database: Database;
  readonly db: Db;
  readonly events: EventBus;
  readonly log: Logger;
  /** Accounts and replies fetched from other servers for a request. */
  readonly remote: RemoteLookups;
  /** The owner's account archive, written by federation for a page. */
  readonly archives: AccountArchives;
}

/** A rule of the domain was broken; the message is fit to show a person. */
export class CoreError extends Error {
  readonly code: "not_found" | "conflict" | "invalid" | "forbidden";
  constructor(code: CoreError["code"], message: string) {
    super(message);
    this.name = "CoreError";
    this.code = code;
  }
}

/** What the core may ask of other servers while it serves a request. */
export interface RemoteLookup {
  /**
   * The account a `user@host` handle or an actor URL names: fetched, stored
   * and returned (one seen before as stored, unless `refresh`); not_found
   * when there is none.
   */
  resolveAccount(query: string, options?: { refresh?: boolean }): Promise<typeof accounts.$inferSelect>;
  /** Fetches the replies of a remote post (its IRI), waiting at most `waitMs`. */
  fetchRepliesWithin(uri: string, waitMs?: number): Promise<void>;
  /**
   * What an `https://` URL (a profile or post page, an actor or object id)
   * names, fetched and stored as Mastodon's search resolves a pasted link;
   * null when nothing usable is there.
   */
  resolveUrl(url: string): Promise<ResolvedUrl>;
}

/** What a resolved URL turned out to name. */
export type ResolvedUrl =
  | { kind: "account"; account: typeof accounts.$inferSelect }
  | { kind: "status"; status: typeof statuses.$inferSelect }
  | null;

/**
 * The core's {@link RemoteLookup}: federation connects its implementation
 * when it starts. Until then, and in a process without federation (the
 * admin commands), no remote account is found and no reply fetched.
 */
export class RemoteLookups implements RemoteLookup {
  #lookup: RemoteLookup | null = null;

  connect(lookup: RemoteLookup): void {
    this.#lookup = lookup;
  }

  async resolveAccount(query: string, options?: { refresh?: boolean }): Promise<typeof accounts.$inferSelect> {
    if (this.#lookup == null) throw new CoreError("not_found", `no account found at ${query}`);
    return await this.#lookup.resolveAccount(query, options);
  }

  async fetchRepliesWithin(uri: string, waitMs?: number): Promise<void> {
    await this.#lookup?.fetchRepliesWithin(uri, waitMs);
  }

  async resolveUrl(url: string): Promise<ResolvedUrl> {
    return this.#lookup == null ? null : await this.#lookup.resolveUrl(url);
  }
}
