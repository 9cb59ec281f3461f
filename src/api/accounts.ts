/**
 * Mastodon API: accounts and the owner's relations with them.
 *
 * - the owner's profile: verify_credentials, update_credentials (with
 *   avatar and header as multipart files), GET and PATCH /api/v1/profile,
 *   DELETE /api/v1/profile/avatar|header
 * - any account: GET /api/v1/accounts/:id, ?id[]=, lookup, search, and its
 *   statuses, followers and following
 * - relations: relationships, follow, unfollow, remove_from_followers,
 *   block, unblock, mute, unmute, note, familiar_followers
 * - lists of them: follow_requests (with authorize and reject), mutes, blocks
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { findAccountById, type Account } from "../core/accounts.ts";
import { CoreError } from "../core/context.ts";
import {
  authorizeFollowRequest,
  listFollowPage,
  listFollowRequests,
  rejectFollowRequest,
  removeFromFollowers,
  unfollow,
} from "../core/follows.ts";
import type { UploadedFile } from "../core/media.ts";
import { getPreferences, listAccountStatuses, updateProfile, type ProfileUpdate } from "../core/profile.ts";
import {
  block,
  followAccount,
  getRelationships,
  listBlocks,
  listMutes,
  mute,
  setAccountNote,
  unblock,
  unmute,
} from "../core/relationships.ts";
import { findAccountByHandle, isRemoteHandle, searchAccounts } from "../core/search.ts";
import { MEDIA_LIMITS } from "../media/limits.ts";
import { tooLargeMessage } from "../media/errors.ts";
import { lazyUploadTmpDir } from "../media/storage.ts";
import { BodyTooLargeError, isMultipart, receiveMultipart } from "../media/upload.ts";
import { optionalUser, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccount, serializeAccounts } from "./entities/account.ts";
import { serializeCredentialAccount } from "./entities/credential-account.ts";
import { serializeProfile } from "./entities/profile.ts";
import { serializeRelationship } from "./entities/relationship.ts";
import { serializeStatuses } from "./entities/status.ts";
import { notFound, unprocessable } from "./errors.ts";
import { requireAccount } from "./lookups.ts";
import { readPage, setLinkHeader } from "./pagination.ts";
import { bodyParams, nest, pathId, queryParams, read, type Params } from "./params.ts";

/** A profile update's body at most: two pictures and the text fields. */
const MAX_PROFILE_BODY = 2 * MEDIA_LIMITS.imageSizeLimit + 1024 * 1024;

/** Account ids in paths are numbers: other words fall through to the routers mounted later. */
const ID = ":id{[0-9]+}";

/**
 * `fields_attributes` as clients send it: `{"0": {name, value}, ...}`
 * (form or JSON), or a JSON array of `{name, value}`. A form's
 * `fields_attributes[][name]` and `[][value]` arrive as separate items and
 * are paired again.
 */
function readFields(params: Params): { name: string; value: string }[] | undefined {
  const raw = params.fields_attributes;
  if (raw == null || raw === "") return undefined;
  let entries: unknown[];
  if (Array.isArray(raw)) {
    entries = raw;
  } else if (typeof raw === "object") {
    entries = Object.entries(raw as Record<string, unknown>)
      .sort(([a], [b]) => (Number(a) - Number(b)) || a.localeCompare(b))
      .map(([, value]) => value);
  } else {
    throw unprocessable("fields_attributes must be a list of fields with name and value");
  }
  const fields: { name?: string; value?: string }[] = [];
  for (const entry of entries) {
    if (entry == null || typeof entry !== "object" || Array.isArray(entry)) {
      throw unprocessable("fields_attributes must be a list of fields with name and value");
    }
    const name = read.string(entry as Params, "name");
    const value = read.string(entry as Params, "value");
    const previous = fields[fields.length - 1];
    if (name == null && value != null && previous != null && previous.value == null) previous.value = value;
    else fields.push({ name, value });
  }
  return fields.map((field) => ({ name: field.name ?? "", value: field.value ?? "" }));
}

export function accountsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const origin = core.config.origin;
  const app = new Hono<ApiEnv>();

  const relationshipOf = async (ownerId: bigint, target: Account) =>
    serializeRelationship((await getRelationships(core, ownerId, [target]))[0]);

  const tmpDir = lazyUploadTmpDir(core.config);

  /** The update's fields, and its pictures when it is multipart. */
  async function readProfileForm(c: Context<ApiEnv>): Promise<{ params: Params; files: Record<string, UploadedFile>; cleanup(): Promise<void> } | Response> {
    if (!isMultipart(c.req.header("Content-Type"))) return { params: await bodyParams(c), files: {}, cleanup: async () => {} };
    const tooLarge = () => {
      c.header("Connection", "close");
      return c.json({ error: `Validation failed: ${tooLargeMessage(MEDIA_LIMITS.imageSizeLimit)}` }, 422);
    };
    const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > MAX_PROFILE_BODY) return tooLarge();
    try {
      const limit = () => MEDIA_LIMITS.imageSizeLimit;
      const form = await receiveMultipart(c.req.raw, { tmpDir: await tmpDir(), files: { avatar: limit, header: limit }, maxBodyBytes: MAX_PROFILE_BODY });
      // A file part with an empty filename is a picture the user did not
      // pick (browsers and Phanpy send one); Mastodon ignores it.
      const files = Object.fromEntries(Object.entries(form.files).filter(([, file]) => file.filename !== ""));
      return { params: { ...queryParams(c), ...nest(form.fields) }, files, cleanup: form.cleanup };
    } catch (error) {
      if (error instanceof BodyTooLargeError) return tooLarge();
      throw error;
    }
  }

  // The owner's own account.

  app.get("/api/v1/accounts/verify_credentials", async (c) => {
    const accountId = requireUser(c, "profile", "read:accounts");
    return c.json(await serializeCredentialAccount(core, await requireAccount(core, accountId)));
  });

  /** The profile update a form asks for; `source[...]` only on update_credentials, the descriptions and tabs on /api/v1/profile. */
  function readProfileUpdate(params: Params, files: Record<string, UploadedFile>): ProfileUpdate {
    const source = read.object(params, "source") ?? {};
    const update: ProfileUpdate = {
      displayName: read.string(params, "display_name"),
      note: read.string(params, "note"),
      locked: read.boolean(params, "locked"),
      bot: read.boolean(params, "bot"),
      discoverable: read.boolean(params, "discoverable"),
      indexable: read.boolean(params, "indexable"),
      hideCollections: read.boolean(params, "hide_collections"),
      fields: readFields(params),
      privacy: read.string(source, "privacy"),
      sensitive: read.boolean(source, "sensitive"),
      language: read.string(source, "language"),
      avatarDescription: read.string(params, "avatar_description"),
      headerDescription: read.string(params, "header_description"),
      showMedia: read.boolean(params, "show_media"),
      showMediaReplies: read.boolean(params, "show_media_replies"),
      showFeatured: read.boolean(params, "show_featured"),
    };
    if (files.avatar != null) update.avatar = files.avatar;
    if (files.header != null) update.header = files.header;
    return update;
  }

  app.patch("/api/v1/accounts/update_credentials", async (c) => {
    const accountId = requireUser(c, "write:accounts");
    const form = await readProfileForm(c);
    if (form instanceof Response) return form;
    try {
      const account = await updateProfile(core, accountId, readProfileUpdate(form.params, form.files));
      return c.json(await serializeCredentialAccount(core, account));
    } finally {
      await form.cleanup();
    }
  });

  // Mastodon 4.6's profile resource: the same update, answered with the values as typed.

  app.get("/api/v1/profile", async (c) => {
    const accountId = requireUser(c, "profile", "read:accounts");
    return c.json(await serializeProfile(core, await requireAccount(core, accountId)));
  });

  app.patch("/api/v1/profile", async (c) => {
    const accountId = requireUser(c, "write:accounts");
    const form = await readProfileForm(c);
    if (form instanceof Response) return form;
    try {
      const account = await updateProfile(core, accountId, readProfileUpdate(form.params, form.files));
      return c.json(await serializeProfile(core, account));
    } finally {
      await form.cleanup();
    }
  });

  for (const kind of ["avatar", "header"] as const) {
    app.delete(`/api/v1/profile/${kind}`, async (c) => {
      const accountId = requireUser(c, "write:accounts");
      const account = await updateProfile(core, accountId, { [kind]: null });
      return c.json(await serializeCredentialAccount(core, account));
    });
  }

  // Static paths before /:id.

  app.get("/api/v1/accounts/relationships", async (c) => {
    const ownerId = requireUser(c, "read:follows");
    const ids = read.ids(queryParams(c), "id", { max: 100 }) ?? [];
    const targets: Account[] = [];
    for (const id of new Set(ids)) {
      const account = await findAccountById(core, id);
      if (account != null) targets.push(account);
    }
    const relationships = await getRelationships(core, ownerId, targets);
    return c.json(relationships.map(serializeRelationship));
  });

  app.get("/api/v1/accounts/familiar_followers", async (c) => {
    requireUser(c, "read:follows");
    const ids = read.ids(queryParams(c), "id", { max: 100 }) ?? [];
    // Familiar followers are accounts the owner follows that follow the
    // given account. Islet stores only the follows the owner is part of,
    // never those between two remote accounts, so there are none to show.
    return c.json([...new Set(ids)].map((id) => ({ id: id.toString(), accounts: [] })));
  });

  app.get("/api/v1/accounts/lookup", async (c) => {
    optionalUser(c, "read:accounts");
    const acct = read.string(queryParams(c), "acct", { required: true })!;
    const account = await findAccountByHandle(core, acct);
    if (account == null) throw notFound();
    return c.json(await serializeAccount(core, account));
  });

  app.get("/api/v1/accounts/search", async (c) => {
    const viewerId = requireUser(c, "read:accounts");
    const params = queryParams(c);
    const q = (read.string(params, "q") ?? "").trim();
    const limit = Math.min(Math.max(read.integer(params, "limit") ?? 40, 1), 80);
    const offset = read.integer(params, "offset", { min: 0 }) ?? 0;
    const resolve = read.boolean(params, "resolve") ?? false;
    const following = read.boolean(params, "following") ?? false;
    if (q === "") return c.json([]);
    let results = await searchAccounts(core, { q, limit, offset, following, viewerId });
    if (resolve && offset === 0 && isRemoteHandle(q, core.config.localDomain) && !results.some((a) => matchesHandle(a, q))) {
      const found = await core.remote.resolveAccount(q.replace(/^@/, "")).catch(() => null);
      if (found != null) results = [found, ...results.filter((a) => a.id !== found.id)].slice(0, limit);
    }
    return c.json(await serializeAccounts(core, results));
  });

  app.get("/api/v1/accounts", async (c) => {
    optionalUser(c, "read:accounts");
    const ids = read.ids(queryParams(c), "id", { max: 100 }) ?? [];
    const found: Account[] = [];
    for (const id of new Set(ids)) {
      const account = await findAccountById(core, id);
      if (account != null) found.push(account);
    }
    return c.json(await serializeAccounts(core, found));
  });

  // One account.

  app.get(`/api/v1/accounts/${ID}`, async (c) => {
    optionalUser(c, "read:accounts");
    return c.json(await serializeAccount(core, await requireAccount(core, pathId(c))));
  });

  app.get(`/api/v1/accounts/${ID}/statuses`, async (c) => {
    const viewerId = optionalUser(c, "read:statuses");
    const account = await requireAccount(core, pathId(c));
    const params = queryParams(c);
    const page = readPage(c, 20, 40);
    const { rows, filtered } = await listAccountStatuses(core, account, viewerId, {
      ...page,
      pinned: read.boolean(params, "pinned"),
      onlyMedia: read.boolean(params, "only_media"),
      excludeReplies: read.boolean(params, "exclude_replies"),
      excludeReblogs: read.boolean(params, "exclude_reblogs"),
      tagged: read.string(params, "tagged", { max: 200 }) || undefined,
    });
    setLinkHeader(c, origin, rows.map((row) => row.id));
    return c.json(await serializeStatuses(core, rows, viewerId, { filtered }));
  });

  for (const direction of ["followers", "following"] as const) {
    app.get(`/api/v1/accounts/${ID}/${direction}`, async (c) => {
      const viewerId = optionalUser(c, "read:accounts");
      const account = await requireAccount(core, pathId(c));
      const page = readPage(c, 40, 80);
      if (account.domain == null && account.id !== viewerId && (await getPreferences(core, account.id)).hideCollections) {
        return c.json([]);
      }
      const rows = await listFollowPage(core, account.id, direction, page);
      setLinkHeader(c, origin, rows.map((row) => row.followId));
      return c.json(await serializeAccounts(core, rows.map((row) => row.account)));
    });
  }

  app.post(`/api/v1/accounts/${ID}/follow`, async (c) => {
    const ownerId = requireUser(c, "write:follows");
    const [owner, target] = await Promise.all([requireAccount(core, ownerId), requireAccount(core, pathId(c))]);
    const params = await bodyParams(c);
    const languages = read.strings(params, "languages", { max: 100 });
    await followAccount(core, owner, target, {
      showReblogs: read.boolean(params, "reblogs"),
      notify: read.boolean(params, "notify"),
      ...(languages === undefined ? {} : { languages }),
    });
    return c.json(await relationshipOf(ownerId, target));
  });

  app.post(`/api/v1/accounts/${ID}/unfollow`, async (c) => {
    const ownerId = requireUser(c, "write:follows");
    const target = await requireAccount(core, pathId(c));
    await unfollow(core, ownerId, target.id);
    return c.json(await relationshipOf(ownerId, target));
  });

  app.post(`/api/v1/accounts/${ID}/remove_from_followers`, async (c) => {
    const ownerId = requireUser(c, "write:follows");
    const target = await requireAccount(core, pathId(c));
    await removeFromFollowers(core, ownerId, target.id);
    return c.json(await relationshipOf(ownerId, target));
  });

  app.post(`/api/v1/accounts/${ID}/block`, async (c) => {
    const ownerId = requireUser(c, "write:blocks");
    const [owner, target] = await Promise.all([requireAccount(core, ownerId), requireAccount(core, pathId(c))]);
    if (owner.id === target.id) throw new CoreError("forbidden", "This action is not allowed");
    await block(core, owner, target);
    return c.json(await relationshipOf(ownerId, target));
  });

  app.post(`/api/v1/accounts/${ID}/unblock`, async (c) => {
    const ownerId = requireUser(c, "write:blocks");
    const target = await requireAccount(core, pathId(c));
    await unblock(core, ownerId, target.id);
    return c.json(await relationshipOf(ownerId, target));
  });

  app.post(`/api/v1/accounts/${ID}/mute`, async (c) => {
    const ownerId = requireUser(c, "write:mutes");
    const [owner, target] = await Promise.all([requireAccount(core, ownerId), requireAccount(core, pathId(c))]);
    if (owner.id === target.id) throw new CoreError("forbidden", "This action is not allowed");
    const params = await bodyParams(c);
    await mute(core, owner, target, {
      notifications: read.boolean(params, "notifications"),
      duration: read.integer(params, "duration", { min: 0, max: 2 ** 31 - 1 }),
    });
    return c.json(await relationshipOf(ownerId, target));
  });

  app.post(`/api/v1/accounts/${ID}/unmute`, async (c) => {
    const ownerId = requireUser(c, "write:mutes");
    const target = await requireAccount(core, pathId(c));
    await unmute(core, ownerId, target.id);
    return c.json(await relationshipOf(ownerId, target));
  });

  app.post(`/api/v1/accounts/${ID}/note`, async (c) => {
    const ownerId = requireUser(c, "write:accounts");
    const target = await requireAccount(core, pathId(c));
    const params = await bodyParams(c);
    await setAccountNote(core, ownerId, target.id, read.string(params, "comment") ?? "");
    return c.json(await relationshipOf(ownerId, target));
  });

  // Follow requests, mutes, blocks.

  app.get("/api/v1/follow_requests", async (c) => {
    const ownerId = requireUser(c, "read:follows");
    const rows = await listFollowRequests(core, ownerId, readPage(c, 40, 80));
    setLinkHeader(c, origin, rows.map((row) => row.followId));
    return c.json(await serializeAccounts(core, rows.map((row) => row.account)));
  });

  app.post("/api/v1/follow_requests/:account_id{[0-9]+}/authorize", async (c) => {
    const ownerId = requireUser(c, "write:follows");
    const requester = await requireAccount(core, pathId(c, "account_id"));
    await authorizeFollowRequest(core, ownerId, requester.id);
    return c.json(await relationshipOf(ownerId, requester));
  });

  app.post("/api/v1/follow_requests/:account_id{[0-9]+}/reject", async (c) => {
    const ownerId = requireUser(c, "write:follows");
    const requester = await requireAccount(core, pathId(c, "account_id"));
    await rejectFollowRequest(core, ownerId, requester.id);
    return c.json(await relationshipOf(ownerId, requester));
  });

  app.get("/api/v1/mutes", async (c) => {
    const ownerId = requireUser(c, "read:mutes");
    const rows = await listMutes(core, ownerId, readPage(c, 40, 80));
    setLinkHeader(c, origin, rows.map((row) => row.mute.id));
    const accounts = await serializeAccounts(core, rows.map((row) => row.account));
    return c.json(accounts.map((account, i) => ({ ...account, mute_expires_at: rows[i].mute.expiresAt?.toISOString() ?? null })));
  });

  app.get("/api/v1/blocks", async (c) => {
    const ownerId = requireUser(c, "read:blocks");
    const rows = await listBlocks(core, ownerId, readPage(c, 40, 80));
    setLinkHeader(c, origin, rows.map((row) => row.blockId));
    return c.json(await serializeAccounts(core, rows.map((row) => row.account)));
  });

  return app;
}

/** Whether an account is the one a handle query names exactly. */
function matchesHandle(account: Account, q: string): boolean {
  const [username, domain] = q.replace(/^@/, "").toLowerCase().split("@");
  return account.username.toLowerCase() === username && (account.domain ?? "").toLowerCase() === (domain ?? "");
}
