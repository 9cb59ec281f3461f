/** What every API router is given. */
import type { Federation } from "@fedify/fedify";
import type { CoreContext } from "../core/context.ts";

export interface ApiDeps {
  readonly core: CoreContext;
  /** For looking up remote accounts and posts (search with resolve=true). */
  readonly federation: Federation<void>;
}
