/** Islet's version, and the Mastodon API version it is compatible with. */
export const ISLET_VERSION = "0.1.0";
export const MASTODON_VERSION = "4.5.0";
/**
 * The API level of `api_versions.mastodon`: 7 is Mastodon 4.5's, the level
 * at which clients offer quote posts (served as 4.5 serves them).
 */
export const MASTODON_API_VERSION = 7;
/** What `/api/v1/instance` reports as `version`; clients pick features by it. */
export const COMPATIBLE_VERSION = `${MASTODON_VERSION} (compatible; Islet ${ISLET_VERSION})`;
export const SOURCE_URL = "https://github.com/islet-social/islet";
