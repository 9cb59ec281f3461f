/** Mastodon API: polls. Viewing one, and voting. */
import { Hono } from "hono";
import { findAccountById } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findPoll, votePoll, type PollRow } from "../core/polls.ts";
import { findStatus } from "../core/statuses.ts";
import { canView } from "../core/visibility.ts";
import { optionalUser, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializePollFor } from "./entities/poll.ts";
import { ApiError, notFound, unprocessable } from "./errors.ts";
import { bodyParams, pathId, type Params } from "./params.ts";

/** The poll and its status's author, when the viewer may see the status. */
async function visiblePoll(core: CoreContext, id: bigint, viewerId: bigint | null): Promise<{ poll: PollRow; authorId: bigint }> {
  const poll = await findPoll(core, id);
  const status = poll == null ? null : await findStatus(core, poll.statusId);
  if (poll == null || status == null || !(await canView(core, status, viewerId))) throw notFound();
  return { poll, authorId: status.accountId };
}

/** `choices[]`: indices, as numbers or strings of digits. */
function readChoices(params: Params): number[] {
  const raw = params.choices;
  if (raw == null || raw === "") throw unprocessable("choices is missing");
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((item) => {
    const number = typeof item === "number" ? item : typeof item === "string" && /^\s*\d+\s*$/.test(item) ? Number(item) : Number.NaN;
    if (!Number.isInteger(number) || number < 0) throw unprocessable("choices must be a list of option indices");
    return number;
  });
}

export function pollsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/polls/:id", async (c) => {
    const viewerId = optionalUser(c, "read:statuses");
    const { poll, authorId } = await visiblePoll(core, pathId(c), viewerId);
    return c.json(await serializePollFor(core, poll, authorId, viewerId));
  });

  app.post("/api/v1/polls/:id/votes", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const id = pathId(c);
    const { authorId } = await visiblePoll(core, id, viewerId);
    const choices = readChoices(await bodyParams(c));
    const voter = await findAccountById(core, viewerId);
    if (voter == null) throw new ApiError(401, "The access token is invalid");
    const poll = await votePoll(core, voter, id, choices);
    return c.json(await serializePollFor(core, poll, authorId, viewerId));
  });

  return app;
}
