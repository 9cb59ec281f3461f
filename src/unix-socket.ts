/** Listening on a Unix socket: clearing what a stopped server left behind. */
import { lstatSync, unlinkSync } from "node:fs";
import { connect } from "node:net";

/**
 * Removes the socket file at `path` when no server answers on it (a server
 * that stopped without closing it), so that listening there works again.
 * A live socket is left alone (listening then fails with EADDRINUSE), and
 * so is anything at `path` that is not a socket.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) return;
  const live = await new Promise<boolean>((done) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      done(true);
    });
    probe.once("error", () => done(false));
  });
  if (!live) {
    try {
      unlinkSync(path);
    } catch {
      // Gone already, or not ours to remove: listening reports it.
    }
  }
}
