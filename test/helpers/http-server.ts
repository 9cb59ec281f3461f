/** Shared pieces of the stand-in HTTP servers tests start. */
import type { Server, ServerResponse } from "node:http";

/** Stops `server` at once: answers still held open are dropped, and every connection closed. */
export async function closeHttpServer(server: Server, held: Iterable<ServerResponse> = []): Promise<void> {
  for (const response of held) response.destroy();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
