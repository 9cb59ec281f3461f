/**
 * The public pages a browser opens, rendered in full each time (no
 * conditional headers): a post's page (`GET /@owner/:id`, a post with a
 * poll and a content warning, in a thread of three) and the owner's
 * profile page (`GET /@owner`, the first 20 public posts). The thread is
 * posted through the API first and each page checked once; then each page
 * is loaded at 1 connection (the p50 is the time to render one page) and at
 * 10. Runs after status creation, so the profile lists the posts it made.
 */
import { ownerHeaders } from "../lib/fixtures.ts";
import { measureLoad } from "../lib/http-load.ts";
import type { ServerBench, ServerContext } from "../lib/types.ts";

const CONNECTIONS = [1, 10];
const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

async function post(context: ServerContext, body: unknown): Promise<{ id: string; url: string }> {
  const response = await fetch(`${context.server.url}/api/v1/statuses`, {
    method: "POST",
    headers: ownerHeaders(context.target, { "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /api/v1/statuses answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as { id: string; url: string };
}

async function checkPage(context: ServerContext, path: string, expect: string): Promise<void> {
  const response = await fetch(`${context.server.url}${path}`, { headers: BROWSER });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  if (!text.includes(expect)) throw new Error(`GET ${path} does not show ${JSON.stringify(expect)}`);
}

export const publicPages: ServerBench = {
  kind: "server",
  name: "public pages",
  async run(context) {
    const root = await post(context, { status: "Benchmark thread: where should the ferry stop? #islet" });
    const middle = await post(context, {
      status: "Vote below; the reasons are behind the warning. #islet",
      spoiler_text: "Long reasons",
      in_reply_to_id: root.id,
      poll: { options: ["North pier", "South pier", "Both"], expires_in: 86_400 },
    });
    await post(context, { status: "Answering myself, to make a thread of three.", in_reply_to_id: middle.id });
    const username = new URL(middle.url).pathname.split("/")[1];
    const statusPath = `/${username}/${middle.id}`;
    const profilePath = `/${username}`;
    await checkPage(context, statusPath, "Long reasons");
    await checkPage(context, profilePath, "Benchmark thread");
    for (const [id, name, path] of [["post-page", "Post page (thread of 3, poll, CW)", statusPath], ["profile-page", "Profile page (20 posts)", profilePath]] as const) {
      for (const connections of CONNECTIONS) {
        await measureLoad(context, { id: `${id}.c${connections}`, name: `${name}, ${connections} conn${connections === 1 ? "" : "s"}`, path, headers: BROWSER, connections });
      }
    }
  },
};
