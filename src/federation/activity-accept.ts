/** Telling an ActivityPub request from a browser's by its Accept header. */

const ACTIVITY_TYPES = new Set(["application/activity+json", "application/ld+json"]);

/**
 * Whether an Accept header asks for ActivityPub JSON rather than a page:
 * an ActivityStreams type is listed (with a non-zero weight) and weighs at
 * least as much as `text/html`, if that is listed too.
 */
export function prefersActivityJson(accept: string | null | undefined): boolean {
  if (accept == null || accept === "") return false;
  let activity = 0;
  let html = 0;
  for (const entry of accept.split(",")) {
    const [type, ...parameters] = entry.split(";").map((part) => part.trim().toLowerCase());
    let q = 1;
    for (const parameter of parameters) {
      const match = /^q=([0-9.]+)$/.exec(parameter);
      if (match != null) q = Number(match[1]);
    }
    if (!Number.isFinite(q)) continue;
    if (ACTIVITY_TYPES.has(type)) activity = Math.max(activity, q);
    else if (type === "text/html") html = Math.max(html, q);
  }
  return activity > 0 && activity >= html;
}
