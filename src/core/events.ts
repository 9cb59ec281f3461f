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
  /** A follow was accepted: of the owner (automatically or by the owner), or the owner's by the remote account. */
  "follow.accepted": { followId: bigint; accountId: bigint; targetAccountId: bigint };
  /** A follow ended: unfollowed, rejected or undone. */
  "follow.removed": {
    followId: bigint;
    accountId: bigint;
    targetAccountId: bigint;
    uri: string | null;
    reason: "undone" | "rejected" | "unfollowed";
  };
  /** An account's profile changed (the owner's, or a remote one refreshed). */
  "account.updated": { accountId: bigint };
  /** A remote account was stored from its actor document: first seen, or fetched again. */
  "account.stored": { accountId: bigint };
  /** A status was stored: posted locally, or received. Boosts too (`reblogOfId` set). */
  "status.created": { statusId: bigint; accountId: bigint };
  /** A status was edited. */
  "status.updated": { statusId: bigint; accountId: bigint };
  /**
   * A status was deleted. The row is gone: what reactions need is carried
   * here (its IRI, visibility, and who was mentioned, for delivery).
   */
  "status.deleted": {
    statusId: bigint;
    accountId: bigint;
    uri: string;
    visibility: "public" | "unlisted" | "private" | "direct";
    reblogOfId: bigint | null;
    mentionedAccountIds: bigint[];
  };
  /** The owner quoted a remote post: its author is asked to approve (QuoteRequest). */
  "quote.requested": { quoteId: bigint; statusId: bigint; quotedStatusId: bigint };
  /** The owner approved a remote account's quote (answer its QuoteRequest `requestUri` with the stamp). */
  "quote.authorized": { quoteId: bigint; requestUri: string; accountId: bigint; quotedStatusId: bigint };
  /** The owner's post may not be quoted by that account (answer with Reject). */
  "quote.rejected": { quoteId: bigint; requestUri: string; accountId: bigint; quotedStatusId: bigint };
  /** The owner withdrew the stamp of a quote of their post (`authorizationUri`). */
  "quote.revoked": { quoteId: bigint; statusId: bigint; quotedStatusId: bigint; authorizationUri: string | null };
  /** A quote became accepted (`statusId` quotes `quotedStatusId`). */
  "quote.accepted": { quoteId: bigint; statusId: bigint; quotedStatusId: bigint | null };
  "favourite.created": { favouriteId: bigint; accountId: bigint; statusId: bigint };
  "favourite.removed": { favouriteId: bigint; accountId: bigint; statusId: bigint; uri: string | null };
  /** A vote in a poll was cast (locally or received). */
  "poll.voted": { pollId: bigint; statusId: bigint; accountId: bigint; choices: number[] };
  /** A poll the owner made or voted in has closed. */
  "poll.expired": { pollId: bigint; statusId: bigint };
  "account.blocked": { blockId: bigint; accountId: bigint; targetAccountId: bigint };
  "account.unblocked": { blockId: bigint; accountId: bigint; targetAccountId: bigint; uri: string | null };
  "account.muted": { accountId: bigint; targetAccountId: bigint };
  /** The owner moved to another account (federation sends Move to the followers). */
  "account.moved": { accountId: bigint; targetAccountId: bigint };
  /** A report was filed: by the owner (to forward), or received (a Flag). */
  "report.created": { reportId: bigint; accountId: bigint; targetAccountId: bigint };
  /** A notification was stored for the owner. */
  "notification.created": { notificationId: bigint; accountId: bigint };
  /** The owner's filters changed. */
  "filters.changed": { accountId: bigint };
  /**
   * A direct-message conversation of a local account was written (a direct
   * status stored in it); `conversationId` is the account_conversations row.
   */
  "conversation.updated": { conversationId: bigint; accountId: bigint };
  /** The owner authorized an app on the consent page (an authorization code was issued). */
  /** Access tokens were revoked: their open streaming connections are closed. */
  "oauth.tokens_revoked": { tokenIds: bigint[] };
  "oauth.authorized": { applicationId: bigint; accountId: bigint; scopes: string[]; ip: string | null; authorizedAt: Date };
  /**
   * A password reset was asked for the owner's address. `token` is the
   * secret for the emailed link (only its hash is stored); keep it in process.
   */
  "password_reset.requested": { accountId: bigint; token: string; expiresAt: Date };
  /**
   * The owner asked to change their address to `email`, which gets a
   * confirmation link; `token` is its secret (only the hash is stored).
   */
  "email_change.requested": { accountId: bigint; email: string; token: string; expiresAt: Date };
  /**
   * Too many sign-ins failed in a row: signing in to the account is refused
   * until `lockedUntil`. Emitted once per lock-out; `addresses` are the
   * latest few the failures came from.
   */
  "sign_in.locked": {
    accountId: bigint;
    failures: number;
    addresses: string[];
    moreAddresses: boolean;
    lockedAt: Date;
    lockedUntil: Date;
  };
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
