/**
 * A stand-in for many remote inboxes on one loopback port: every POST to
 * `/inbox/N` is recorded under its path, whatever N is. Tests point remote
 * accounts' inbox URLs at it to watch a fan-out arrive.
 */
import { createServer, type ServerResponse } from "node:http";
import { closeHttpServer } from "./http-server.ts";

export interface InboxSink {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** The inbox URL of recipient `n`. */
  inbox(n: number): string;
  /** Activity ids received, by path (`/inbox/N`). */
  received: Map<string, string[]>;
  /** POSTs answered so far. */
  answered: number;
  /**
   * How many more POSTs to answer before holding the rest open (never
   * answered until close); Infinity answers everything.
   */
  answerBudget: number;
  /** Paths whose inbox holds the activity with this id. */
  pathsWith(activityId: string): Set<string>;
  close(): Promise<void>;
}

export async function startInboxSink(): Promise<InboxSink> {
  const held: ServerResponse[] = [];
  const sink: InboxSink = {
    origin: "",
    inbox: (n) => `${sink.origin}/inbox/${n}`,
    received: new Map(),
    answered: 0,
    answerBudget: Number.POSITIVE_INFINITY,
    pathsWith(activityId) {
      const paths = new Set<string>();
      for (const [path, ids] of sink.received) if (ids.includes(activityId)) paths.add(path);
      return paths;
    },
    async close() {
      await closeHttpServer(server, held);
    },
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? "/", "http://sink").pathname;
    if (req.method !== "POST" || !/^\/inbox\/\d+$/.test(path)) {
      res.writeHead(404).end();
      return;
    }
    if (sink.answerBudget <= 0) {
      held.push(res);
      return;
    }
    sink.answerBudget--;
    let id = "";
    try {
      id = String((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: unknown }).id ?? "");
    } catch {
      // Recorded without an id.
    }
    const list = sink.received.get(path) ?? [];
    list.push(id);
    sink.received.set(path, list);
    sink.answered++;
    res.writeHead(202).end();
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  sink.origin = `http://127.0.0.1:${typeof address === "object" && address != null ? address.port : 0}`;
  return sink;
}
