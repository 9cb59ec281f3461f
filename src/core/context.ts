/** What every core function is given: configuration, database, events, log. */
import type { Config } from "../config.ts";
import type { Database, Db } from "../db/connect.ts";
import type { Logger } from "../log.ts";
import type { EventBus } from "./events.ts";

export interface CoreContext {
  readonly config: Config;
  readonly database: Database;
  readonly db: Db;
  readonly events: EventBus;
  readonly log: Logger;
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
