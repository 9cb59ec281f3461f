/**
 * `/api/v1/instance` and `/api/v2/instance`, in Mastodon's shapes. Clients
 * choose features by `version` and `api_versions`, so both are reported as a
 * Mastodon of the matching API level.
 */
import { Hono } from "hono";
import { getOwner } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { instanceStats } from "../core/instance.ts";
import { POLL_LIMITS } from "../core/polls.ts";
import { MAX_MEDIA_ATTACHMENTS } from "../core/statuses/media.ts";
import { MEDIA_LIMITS } from "../media/limits.ts";
import { vapidPublicKey } from "../push/vapid.ts";
import { COMPATIBLE_VERSION, MASTODON_API_VERSION, SOURCE_URL } from "../version.ts";
import { serializeAccount } from "./entities/account.ts";

/** Limits clients read to shape their composers and uploaders. */
export const LIMITS = {
  maxCharacters: 5000,
  maxMediaAttachments: MAX_MEDIA_ATTACHMENTS,
  charactersReservedPerUrl: 23,
  imageSizeLimit: MEDIA_LIMITS.imageSizeLimit,
  imageMatrixLimit: MEDIA_LIMITS.imageMatrixLimit,
  videoSizeLimit: MEDIA_LIMITS.videoSizeLimit,
  videoFrameRateLimit: MEDIA_LIMITS.videoFrameRateLimit,
  videoMatrixLimit: MEDIA_LIMITS.videoMatrixLimit,
  pollMaxOptions: POLL_LIMITS.maxOptions,
  pollMaxCharactersPerOption: POLL_LIMITS.maxCharactersPerOption,
  pollMinExpiration: POLL_LIMITS.minExpiration,
  pollMaxExpiration: POLL_LIMITS.maxExpiration,
  maxFeaturedTags: 10,
  maxPinnedStatuses: 5,
  maxProfileFields: 4,
} as const;

/**
 * What uploads may be. No HEIC/HEIF: this build cannot decode it, and
 * clients convert what the list leaves out before uploading.
 */
export const SUPPORTED_MIME_TYPES = [
  "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif",
  "video/mp4", "video/webm", "video/quicktime", "audio/mpeg", "audio/ogg", "audio/wav", "audio/flac", "audio/mp4", "audio/webm",
];

/**
 * Where clients connect for streaming, as a ws(s):// base URL:
 * STREAMING_API_BASE_URL when set; for a local development instance with
 * STREAMING_PORT, that port on the same host (nothing stands in front of
 * it); otherwise the web origin, which serves streaming too (behind a
 * proxy, the proxy decides where `/api/v1/streaming` goes).
 */
export function streamingBaseUrl(ctx: CoreContext): string {
  const { config } = ctx;
  if (config.streamingApiBaseUrl != null) {
    return config.streamingApiBaseUrl.replace(/^http/, "ws").replace(/\/+$/, "");
  }
  if (config.development && config.streamingPort != null) {
    const origin = new URL(config.origin);
    origin.port = String(config.streamingPort);
    return origin.origin.replace(/^http/, "ws");
  }
  return config.origin.replace(/^http/, "ws");
}

/** Before the owner exists there is no contact address; name the postmaster. */
function fallbackEmail(ctx: CoreContext): string {
  const host = ctx.config.webDomain.replace(/:\d+$/, "");
  return host.includes(".") ? `postmaster@${host}` : `postmaster@${host}.invalid`;
}

async function common(ctx: CoreContext) {
  const owner = await getOwner(ctx);
  const contact = owner == null ? null : await serializeAccount(ctx, owner.account);
  const title = owner?.account.displayName || (owner == null ? ctx.config.localDomain : `@${owner.account.username}`);
  const description = owner == null
    ? "A single-user fediverse server"
    : `The fediverse home of @${owner.account.username}@${ctx.config.localDomain}`;
  return { owner, contact, title, description, email: owner?.user.email ?? fallbackEmail(ctx) };
}

function statusesConfiguration() {
  return {
    max_characters: LIMITS.maxCharacters,
    max_media_attachments: LIMITS.maxMediaAttachments,
    characters_reserved_per_url: LIMITS.charactersReservedPerUrl,
  };
}

function mediaConfiguration() {
  return {
    supported_mime_types: SUPPORTED_MIME_TYPES,
    image_size_limit: LIMITS.imageSizeLimit,
    image_matrix_limit: LIMITS.imageMatrixLimit,
    video_size_limit: LIMITS.videoSizeLimit,
    video_frame_rate_limit: LIMITS.videoFrameRateLimit,
    video_matrix_limit: LIMITS.videoMatrixLimit,
  };
}

function pollsConfiguration() {
  return {
    max_options: LIMITS.pollMaxOptions,
    max_characters_per_option: LIMITS.pollMaxCharactersPerOption,
    min_expiration: LIMITS.pollMinExpiration,
    max_expiration: LIMITS.pollMaxExpiration,
  };
}

export async function instanceV2(ctx: CoreContext) {
  const { contact, title, description, email } = await common(ctx);
  const stats = await instanceStats(ctx);
  return {
    domain: ctx.config.localDomain,
    title,
    version: COMPATIBLE_VERSION,
    source_url: SOURCE_URL,
    description,
    usage: { users: { active_month: stats.userCount } },
    thumbnail: { url: `${ctx.config.origin}/instance/thumbnail.png`, blurhash: null, versions: {} },
    icon: [],
    languages: ["en"],
    configuration: {
      urls: {
        streaming: streamingBaseUrl(ctx),
        status: null,
        about: `${ctx.config.origin}/about`,
        privacy_policy: null,
        terms_of_service: null,
      },
      vapid: { public_key: vapidPublicKey(ctx.config) },
      accounts: {
        max_featured_tags: LIMITS.maxFeaturedTags,
        max_pinned_statuses: LIMITS.maxPinnedStatuses,
        max_profile_fields: LIMITS.maxProfileFields,
      },
      statuses: statusesConfiguration(),
      media_attachments: { ...mediaConfiguration(), description_limit: 1500 },
      polls: pollsConfiguration(),
      translation: { enabled: false },
      limited_federation: false,
    },
    registrations: { enabled: false, approval_required: false, reason_required: false, message: null, min_age: null, url: null },
    api_versions: { mastodon: MASTODON_API_VERSION },
    contact: { email, account: contact },
    rules: [],
  };
}

export async function instanceV1(ctx: CoreContext) {
  const { contact, title, description, email } = await common(ctx);
  const stats = await instanceStats(ctx);
  return {
    uri: ctx.config.localDomain,
    title,
    short_description: description,
    description,
    email,
    version: COMPATIBLE_VERSION,
    urls: { streaming_api: streamingBaseUrl(ctx) },
    stats: { user_count: stats.userCount, status_count: stats.statusCount, domain_count: stats.domainCount },
    thumbnail: `${ctx.config.origin}/instance/thumbnail.png`,
    languages: ["en"],
    registrations: false,
    approval_required: false,
    invites_enabled: false,
    configuration: {
      accounts: { max_featured_tags: LIMITS.maxFeaturedTags },
      statuses: statusesConfiguration(),
      media_attachments: mediaConfiguration(),
      polls: pollsConfiguration(),
    },
    contact_account: contact,
    rules: [],
  };
}

export function instanceRoutes(ctx: CoreContext): Hono {
  const app = new Hono();
  app.get("/api/v1/instance", async (c) => c.json(await instanceV1(ctx)));
  app.get("/api/v2/instance", async (c) => c.json(await instanceV2(ctx)));
  return app;
}
