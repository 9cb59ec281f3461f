/**
 * A TCP proxy on loopback that can fail in the ways a database server does.
 * Cut is a stopped server: every open connection is destroyed and new ones
 * are refused, until it is restored. Hang up is a server that accepts each
 * connection and closes it at once, cleanly. Stall is a network that stops carrying
 * bytes: connections stay open and nothing passes either way. Tests put it
 * between Islet and PostgreSQL to take the database away for a while
 * without touching the database server.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** Destroys every connection and refuses new ones. */
  cut(): Promise<void>;
  /** Destroys every connection; new ones are accepted and closed cleanly at once. */
  hangUp(): void;
  /** Keeps connections open but passes no bytes either way, until restored. */
  stall(): void;
  /** Accepts and carries connections again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

type Pair = [client: Socket, upstream: Socket];

export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<Pair>();
  let stalled = false;
  let hangingUp = false;
  let listening: Server | null = null;
  let proxyPort = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const carry = ([client, upstream]: Pair) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const hold = ([client, upstream]: Pair) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const listen = async () => {
    const server = createServer((client) => {
      track(client);
      if (hangingUp) {
        client.end();
        return;
      }
      const upstream = connect(port, host);
      track(upstream);
      const pair: Pair = [client, upstream];
      pairs.add(pair);
      if (!stalled) carry(pair);
      client.on("close", () => {
        pairs.delete(pair);
        upstream.destroy();
      });
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(proxyPort, "127.0.0.1", resolve);
    });
    const address = server.address();
    proxyPort = typeof address === "object" && address != null ? address.port : 0;
    listening = server;
  };
  const stopListening = async () => {
    const server = listening;
    listening = null;
    for (const socket of sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  await listen();
  return {
    port: proxyPort,
    cut: stopListening,
    hangUp() {
      hangingUp = true;
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      stalled = true;
      for (const pair of pairs) hold(pair);
    },
    async restore() {
      hangingUp = false;
      if (stalled) {
        stalled = false;
        for (const pair of pairs) carry(pair);
      }
      if (!listening) await listen();
    },
    close: stopListening,
  };
}
