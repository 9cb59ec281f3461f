/**
 * What every API router is given. Remote look-ups (search with
 * resolve=true, a remote thread's replies) go through `core.remote`.
 */
import type { CoreContext } from "../core/context.ts";

export interface ApiDeps {
  readonly core: CoreContext;
}
