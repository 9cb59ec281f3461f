/** Islet's version, and the Mastodon API version it is compatible with. */
export const ISLET_VERSION = "0.1.0";
export const MASTODON_VERSION = "4.5.0";
export const MASTODON_API_VERSION = 6;
/** What `/api/v1/instance` reports as `version`; clients pick features by it. */
export const COMPATIBLE_VERSION = `${MASTODON_VERSION} (compatible; Islet ${ISLET_VERSION})`;
export const SOURCE_URL = "https://github.com/islet-social/islet";
