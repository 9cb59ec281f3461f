/**
 * The in-process event bus. Core functions emit an event after their
 * transaction commits; federation delivery, streaming and mail subscribe.
 * `emit` waits for the listeners, so a reaction that enqueues durable work
 * (a delivery) has done so before the caller answers; a listener's error is
 * logged, never thrown back into the action that emitted it.
 */
export interface IsletEvents {
  /** A remote account now follows the owner (or asked to). */
  "follow.received": { followId: bigint; accountId: bigint; targetAccountId: bigint; pending: boolean };
  /** The owner asked to follow someone. */
  "follow.created": { followId: bigint; accountId: bigint; targetAccountId: bigint };
  /** A follow of the owner was accepted (automatically or by the owner). */
  "follow.accepted": { followId: bigint; accountId: bigint; targetAccountId: bigint };
  /** A follow ended: unfollowed, rejected or undone. */
  "follow.removed": {
    followId: bigint;
    accountId: bigint;
    targetAccountId: bigint;
    uri: string | null;
    reason: "undone" | "rejected" | "unfollowed";
  };
  /** The owner's profile changed. */
  "account.updated": { accountId: bigint };
}

export type EventName = keyof IsletEvents;
type Listener<K extends EventName> = (payload: IsletEvents[K]) => void | Promise<void>;

export class EventBus {
  #listeners = new Map<EventName, Set<Listener<EventName>>>();
  #onError: (event: EventName, error: unknown) => void;

  constructor(onError: (event: EventName, error: unknown) => void = (event, error) => {
    console.error(`event ${event}: listener failed:`, error);
  }) {
    this.#onError = onError;
  }

  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(event);
    if (set == null) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<EventName>);
    return () => set.delete(listener as Listener<EventName>);
  }

  /** Calls every listener; resolves when all have finished. */
  async emit<K extends EventName>(event: K, payload: IsletEvents[K]): Promise<void> {
    const set = this.#listeners.get(event);
    if (set == null) return;
    await Promise.all([...set].map(async (listener) => {
      try {
        await listener(payload);
      } catch (error) {
        this.#onError(event, error);
      }
    }));
  }
}
