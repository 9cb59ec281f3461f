/**
 * The smallest HTTP server node:http makes: answers every request with a
 * two-byte 200. The loopback baseline loads it to show what this machine,
 * Node and bench/load.ts can do at all, as a ceiling for the Islet rows.
 * Prints "listening PORT" once ready; stops on SIGTERM.
 */
import { createServer } from "node:http";

const server = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": "2" });
  response.end("OK");
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address != null ? address.port : 0}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
