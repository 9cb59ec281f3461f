/**
 * The subscriptions of every streaming client of this process (WebSocket
 * or server-sent events), and the dispatch of events to them. Events are
 * handled one at a time, in the order they arrive, so that a client sees an
 * update before the delete that follows it. Each event is rendered once
 * per stream and viewer, however many clients subscribed to it.
 */
import type { CoreContext } from "../core/context.ts";
import { subscribeStreamingEvents, type StreamingEvent } from "./events.ts";
import { EventRenderer, type StreamMessage } from "./render.ts";
import type { Stream, StreamViewer } from "./streams.ts";

/** A connected client, whatever its transport. */
export interface StreamClient {
  readonly viewer: StreamViewer;
  /** Sends one message of one of its streams. */
  send(stream: Stream, message: StreamMessage): void;
}

export class StreamingHub {
  readonly #ctx: CoreContext;
  readonly #clients = new Map<StreamClient, Map<string, Stream>>();
  /** How to close each open connection, by the access token it was opened with. */
  readonly #closers = new Map<bigint, Set<() => void>>();
  #queue: Promise<void> = Promise.resolve();
  #started: Promise<() => Promise<void>> | null = null;
  #users = 0;

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  /** Starts receiving events; each call must be matched by one {@link release}. */
  async acquire(): Promise<void> {
    this.#users++;
    this.#started ??= subscribeStreamingEvents(this.#ctx, (event) => this.#enqueue(event));
    try {
      await this.#started;
    } catch (error) {
      this.#users--;
      this.#started = null;
      throw error;
    }
  }

  /** Stops receiving events once every acquirer has released. */
  async release(): Promise<void> {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users > 0 || this.#started == null) return;
    const started = this.#started;
    this.#started = null;
    const unsubscribe = await started;
    await unsubscribe();
    await this.#queue;
  }

  /** Adds a subscription; false when the client already has this stream. */
  subscribe(client: StreamClient, stream: Stream): boolean {
    let streams = this.#clients.get(client);
    if (streams == null) this.#clients.set(client, (streams = new Map()));
    if (streams.has(stream.key)) return false;
    streams.set(stream.key, stream);
    return true;
  }

  unsubscribe(client: StreamClient, streamKey: string): void {
    const streams = this.#clients.get(client);
    if (streams == null) return;
    streams.delete(streamKey);
    if (streams.size === 0) this.#clients.delete(client);
  }

  /**
   * Registers how to close a connection opened with `tokenId`: it is closed
   * when that token is revoked, as Mastodon does. Returns the unregisterer.
   */
  closeOnRevoke(tokenId: bigint | undefined, close: () => void): () => void {
    if (tokenId == null) return () => {};
    let set = this.#closers.get(tokenId);
    if (set == null) this.#closers.set(tokenId, (set = new Set()));
    set.add(close);
    return () => {
      set.delete(close);
      if (set.size === 0 && this.#closers.get(tokenId) === set) this.#closers.delete(tokenId);
    };
  }

  /** Forgets a client that went away. */
  remove(client: StreamClient): void {
    this.#clients.delete(client);
  }

  /** How many clients have at least one subscription. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Resolves once every event received so far has been dispatched. */
  async drained(): Promise<void> {
    await this.#queue;
  }

  #enqueue(event: StreamingEvent): void {
    this.#queue = this.#queue.then(() => this.#dispatch(event)).catch((error) => {
      this.#ctx.log.error(`streaming: could not dispatch ${event.type}`, error);
    });
  }

  async #dispatch(event: StreamingEvent): Promise<void> {
    if (event.type === "tokens.revoked") {
      for (const tokenId of event.tokenIds) {
        for (const close of [...(this.#closers.get(tokenId) ?? [])]) close();
      }
      return;
    }
    if (this.#clients.size === 0) return;
    const renderer = new EventRenderer(this.#ctx, event);
    const deliveries: { client: StreamClient; stream: Stream; message: Promise<StreamMessage | null> }[] = [];
    for (const [client, streams] of this.#clients) {
      for (const stream of streams.values()) {
        deliveries.push({ client, stream, message: renderer.render(client.viewer, stream) });
      }
    }
    const messages = await Promise.all(deliveries.map((delivery) => delivery.message));
    deliveries.forEach(({ client, stream }, i) => {
      const message = messages[i];
      // A client that unsubscribed meanwhile gets nothing more of that stream.
      if (message == null || !this.#clients.get(client)?.has(stream.key)) return;
      try {
        client.send(stream, message);
      } catch (error) {
        this.#ctx.log.warn("streaming: could not send to a client", error);
      }
    });
  }
}
