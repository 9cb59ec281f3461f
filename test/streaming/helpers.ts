/**
 * Streaming clients for tests: a raw WebSocket and a server-sent-events
 * reader, each keeping every message it received, with waits for the next
 * one that matches.
 */
import WebSocket from "ws";

/** A message as it arrived, parsed. */
export type Frame = Record<string, any>;

const WAIT_MS = 15_000;

class Inbox<T> {
  readonly items: T[] = [];
  #cursor = 0;
  #waiters = new Set<() => void>();
  #closed: string | null = null;

  push(item: T): void {
    this.items.push(item);
    for (const wake of this.#waiters) wake();
  }

  close(why: string): void {
    this.#closed = why;
    for (const wake of this.#waiters) wake();
  }

  /**
   * The first item after those already taken that matches, taking it and
   * everything before it; fails after a while or when the stream ends.
   */
  async next(match: (item: T) => boolean, what: string, timeoutMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.#cursor; i < this.items.length; i++) {
        if (match(this.items[i])) {
          this.#cursor = i + 1;
          return this.items[i];
        }
      }
      if (this.#closed != null) throw new Error(`stream ended (${this.#closed}) before ${what}; got ${JSON.stringify(this.items.slice(this.#cursor))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.items.slice(this.#cursor))}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /** Items not taken yet. */
  rest(): T[] {
    return this.items.slice(this.#cursor);
  }
}

/** The WebSocket URL of an instance: ws://127.0.0.1:PORT/api/v1/streaming. */
export function streamingUrl(base: string, query: Record<string, string> = {}): string {
  const url = new URL("/api/v1/streaming", base.replace(/^http/, "ws"));
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.href;
}

export interface WsOptions {
  protocols?: string[];
  headers?: Record<string, string>;
}

export class WsClient {
  readonly socket: WebSocket;
  readonly inbox = new Inbox<Frame>();
  pings = 0;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data) => this.inbox.push(JSON.parse(data.toString())));
    socket.on("ping", () => this.pings++);
    socket.on("close", (code) => this.inbox.close(`closed with ${code}`));
  }

  static async open(url: string, options: WsOptions = {}): Promise<WsClient> {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
      socket.once("unexpected-response", (_request, response) => {
        reject(new Error(`upgrade refused with ${response.statusCode}`));
        response.resume();
      });
    });
    return new WsClient(socket);
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The next event (not an error frame) matching. */
  event(match: (frame: Frame) => boolean, what: string): Promise<Frame> {
    return this.inbox.next((frame) => frame.event != null && match(frame), what);
  }

  /** The next error frame. */
  error(what: string): Promise<Frame> {
    return this.inbox.next((frame) => frame.error != null, what);
  }

  /**
   * Subscribes and waits until the server has taken the subscription: an
   * unknown stream asked right after is answered with an error only once
   * the messages before it were handled (the server takes them in order).
   */
  async subscribe(stream: string, params: Record<string, string> = {}): Promise<void> {
    this.send({ type: "subscribe", stream, ...params });
    await this.barrier();
  }

  async unsubscribe(stream: string, params: Record<string, string> = {}): Promise<void> {
    this.send({ type: "unsubscribe", stream, ...params });
    await this.barrier();
  }

  /** Waits until the server has handled every message sent so far. */
  async barrier(): Promise<void> {
    const marker = `barrier-${Math.random().toString(36).slice(2)}`;
    this.send({ type: "subscribe", stream: marker });
    // Refused as unknown, or for the scopes first when the token may not read statuses.
    const answers = ["Unknown stream type", "Access token does not have the required scopes"];
    await this.inbox.next((frame) => answers.includes(frame.error), `the answer to ${marker}`);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.socket.once("close", () => resolve()));
    this.socket.close();
    await closed;
  }
}

/** What an upgrade was answered with when the server refused it. */
export async function refusedUpgrade(url: string, options: WsOptions = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  return await new Promise((resolve, reject) => {
    socket.once("open", () => {
      socket.close();
      reject(new Error("the upgrade was accepted"));
    });
    socket.once("unexpected-response", (_request, response) => {
      resolve({ status: response.statusCode ?? 0, headers: response.headers });
      response.resume();
      socket.terminate();
    });
    socket.once("error", () => {});
  });
}

export interface SseEvent {
  event: string;
  data: string;
}

/** A server-sent-events stream read with fetch. */
export class SseClient {
  readonly response: Response;
  readonly inbox = new Inbox<SseEvent>();
  readonly comments: string[] = [];
  readonly #abort: AbortController;

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
    void this.#read();
  }

  static async open(url: string, token: string | null): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: token == null ? {} : { Authorization: `Bearer ${token}` }, signal: abort.signal });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
    return new SseClient(response, abort);
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    let event = "message";
    let data: string[] = [];
    try {
      for await (const chunk of this.response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === "") {
            if (data.length > 0) this.inbox.push({ event, data: data.join("\n") });
            event = "message";
            data = [];
          } else if (line.startsWith(":")) {
            this.comments.push(line.slice(1));
          } else if (line.startsWith("event: ")) {
            event = line.slice(7);
          } else if (line.startsWith("data: ")) {
            data.push(line.slice(6));
          }
        }
      }
      this.inbox.close("the response ended");
    } catch {
      this.inbox.close("aborted");
    }
  }

  next(match: (event: SseEvent) => boolean, what: string): Promise<SseEvent> {
    return this.inbox.next(match, what);
  }

  close(): void {
    this.#abort.abort();
  }
}
