/**
 * The embedded database shared with admin commands while the server runs.
 *
 * PGlite lives inside one process, and two processes must never open its
 * files. So the server that has it open also answers the PostgreSQL wire
 * protocol on a Unix socket in DATA_DIR (readable by DATA_DIR's owner
 * only), and `islet backup`, `islet domain block` and the other commands
 * connect there instead of failing with "in use".
 *
 * PGlite is a single session: every statement of the server and of an
 * admin command runs in it. A command's messages therefore run while the
 * server's queries wait, and the server gets the database back only when
 * the command is between transactions (a ReadyForQuery saying idle), so a
 * transaction of either side never sees a statement of the other. A command
 * that goes quiet while holding the database is disconnected and its
 * transaction rolled back.
 */
import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

/** The socket's file name in DATA_DIR. */
export const EMBEDDED_SOCKET = "db.sock";

/** How long a command may hold the database without sending anything, by default. */
const IDLE_HOLD_MS = 30_000;

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const GSS_REQUEST = 80877104;
const PROTOCOL_3 = 196608;

export interface SharedDatabase {
  readonly path: string;
  close(): Promise<void>;
}

/** Takes the session for one side: resolves to its release once the server's queries and transactions are out. */
function holdSession(pg: PGlite): Promise<() => void> {
  return new Promise((held) => {
    void pg._runExclusiveTransaction(() =>
      pg.runExclusive(() => new Promise<void>((release) => held(release))),
    );
  });
}

/** A Query message running `text` (simple protocol). */
function queryMessage(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, "utf8");
  const message = Buffer.alloc(5 + body.length);
  message.write("Q", 0, "latin1");
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

/** The transaction status of the last ReadyForQuery in `output` ('I' idle, 'T' in a transaction, 'E' failed one), if it ends with one. */
function readyStatus(output: Uint8Array): string | null {
  const n = output.length;
  if (n < 6 || output[n - 6] !== 0x5a /* Z */) return null;
  const length = (output[n - 5]! << 24) | (output[n - 4]! << 16) | (output[n - 3]! << 8) | output[n - 2]!;
  return length === 5 ? String.fromCharCode(output[n - 1]!) : null;
}

class Session {
  readonly #pg: PGlite;
  readonly #socket: Socket;
  #pending = Buffer.alloc(0);
  #started = false;
  #release: (() => void) | null = null;
  #status = "I";
  #work: Promise<void> = Promise.resolve();
  #idleTimer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #idleHoldMs: number;

  constructor(pg: PGlite, socket: Socket, idleHoldMs: number) {
    this.#pg = pg;
    this.#socket = socket;
    this.#idleHoldMs = idleHoldMs;
    socket.on("data", (data) => {
      this.#pending = Buffer.concat([this.#pending, data]);
      this.#work = this.#work.then(() => this.#drain()).catch(() => {
        this.#socket.destroy();
      });
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.#closed = true;
      this.#work = this.#work.then(() => this.#end());
    });
  }

  /** Runs every complete message received so far, in order. */
  async #drain(): Promise<void> {
    while (!this.#closed) {
      const message = this.#next();
      if (message == null) return;
      await this.#handle(message);
    }
  }

  /** Cuts the next whole message off the buffer (the first ones have no type byte). */
  #next(): Buffer | null {
    const buffer = this.#pending;
    const headerLength = this.#started ? 5 : 4;
    if (buffer.length < headerLength) return null;
    const length = this.#started ? 1 + buffer.readInt32BE(1) : buffer.readInt32BE(0);
    if (length < headerLength - 1 || length > 1 << 30) throw new Error("malformed message");
    if (buffer.length < length) return null;
    this.#pending = buffer.subarray(length);
    return buffer.subarray(0, length);
  }

  async #handle(message: Buffer): Promise<void> {
    if (!this.#started) {
      const code = message.readInt32BE(4);
      // No TLS or GSS on a local socket: 'N' and the client goes on in plain text.
      if (code === SSL_REQUEST || code === GSS_REQUEST) {
        this.#socket.write("N");
        return;
      }
      if (code === CANCEL_REQUEST || code !== PROTOCOL_3) {
        this.#socket.destroy();
        return;
      }
      this.#started = true;
    } else if (message[0] === 0x58 /* X: Terminate */) {
      this.#socket.end();
      return;
    }
    this.#release ??= await holdSession(this.#pg);
    this.#watchIdle();
    const output = await this.#pg.execProtocolRaw(new Uint8Array(message));
    this.#status = readyStatus(output) ?? this.#status;
    if (output.length > 0 && !this.#socket.destroyed) this.#socket.write(output);
    // Between transactions, with nothing left half-sent: the server's turn.
    if (readyStatus(output) === "I") this.#letGo();
  }

  /** Disconnects a command that holds the database and says nothing. */
  #watchIdle(): void {
    if (this.#idleTimer != null) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#socket.destroy(), this.#idleHoldMs);
    this.#idleTimer.unref();
  }

  #letGo(): void {
    if (this.#idleTimer != null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  /** The command went away: roll back what it left open, and give the database back. */
  async #end(): Promise<void> {
    if (this.#release == null) return;
    try {
      if (this.#status !== "I") await this.#pg.execProtocolRaw(queryMessage("ROLLBACK"));
    } finally {
      this.#letGo();
    }
  }
}

/**
 * Serves `pg` on DATA_DIR/db.sock until closed. A socket file left by a
 * process that died is replaced (the caller holds DATA_DIR's lock).
 */
export async function shareEmbeddedDatabase(pg: PGlite, path: string, options: { idleHoldMs?: number } = {}): Promise<SharedDatabase> {
  if (existsSync(path)) unlinkSync(path);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    new Session(pg, socket, options.idleHoldMs ?? IDLE_HOLD_MS);
  });
  const previousMask = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousMask);
  }
  server.unref();
  return {
    path,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    },
  };
}
