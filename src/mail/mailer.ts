/**
 * Mail goes out through the durable queue: `send` only enqueues (a request
 * never waits on SMTP), and the worker's consumer sends each message, the
 * queue retrying with back-off while the SMTP server is down and giving up
 * after its maximum attempts. Mail has a queue of its own ("mail") in the
 * same table, so a slow SMTP server never holds up federation deliveries.
 *
 * Without SMTP_SERVER, mail is disabled: `send` logs at debug level what it
 * would have sent and keeps nothing.
 */
import type { Config } from "../config.ts";
import type { Database } from "../db/connect.ts";
import { createJobQueue, type JobQueue, type JobQueueOptions } from "../db/job-queue.ts";
import type { DatabaseMessageQueue } from "../db/message-queue.ts";
import type { Logger } from "../log.ts";
import {
  describeSmtpError,
  isPermanentSmtpFailure,
  sendNow,
  smtpEndpoint,
  verifySmtp,
  type MailMessage,
  type TransportTimeouts,
} from "./transport.ts";

export type { MailMessage } from "./transport.ts";

/** The queue's name in `queue_messages`. */
export const MAIL_QUEUE = "mail";
/**
 * Attempts before a message is given up: with the queue's back-off (2^n
 * seconds, at most six hours) the last one comes some seven hours after the
 * first.
 */
export const MAIL_MAX_ATTEMPTS = 15;

/** What the mailer needs of a queue. */
export type MailQueue = JobQueue;

/** The "mail" queue over the shared table: one message at a time. */
export function createMailQueue(database: Database, options: JobQueueOptions = {}): DatabaseMessageQueue {
  // A send is bounded by the transport's timeouts (about two minutes).
  return createJobQueue(database, { name: MAIL_QUEUE, maxAttempts: MAIL_MAX_ATTEMPTS, visibilityTimeoutSeconds: 180, concurrency: 1 }, options);
}

export interface Mailer {
  /** False when SMTP_SERVER is unset: `send` only logs. */
  readonly enabled: boolean;
  /** Queues a message; resolves once it is stored, never waiting on SMTP. */
  send(message: MailMessage): Promise<void>;
  /** Sends queued messages until `signal` aborts; resolves once stopped. */
  start(signal: AbortSignal): Promise<void>;
  /** Connects to the SMTP server and logs in; rejects with a {@link MailError}. */
  verify(): Promise<void>;
}

/** Talking to the SMTP server failed; the message is one plain sentence. */
export class MailError extends Error {
  override readonly cause: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.name = "MailError";
    this.cause = cause;
  }
}

export interface MailerOptions {
  /** Shorter SMTP timeouts (tests). */
  timeouts?: TransportTimeouts;
}

/** The queued payload. */
interface QueuedMail {
  mail: MailMessage;
}

const EMAIL_PATTERN = /^[^\s@<>]+@[^\s@<>]+$/;

function checkMessage(message: MailMessage): void {
  for (const field of ["to", "subject", "text", "html"] as const) {
    if (typeof message?.[field] !== "string") throw new TypeError(`a mail message needs a string ${field}`);
  }
  if (!EMAIL_PATTERN.test(message.to)) throw new TypeError(`${JSON.stringify(message.to)} is not an email address`);
}

function isQueuedMail(payload: unknown): payload is QueuedMail {
  const mail = (payload as QueuedMail | null)?.mail;
  return mail != null && ["to", "subject", "text", "html"].every((field) => typeof (mail as unknown as Record<string, unknown>)[field] === "string");
}

export function createMailer(config: Config, queue: MailQueue, log: Logger, options: MailerOptions = {}): Mailer {
  const enabled = config.smtp.server != null;
  const endpoint = smtpEndpoint(config.smtp);

  async function deliver(payload: unknown): Promise<void> {
    if (!isQueuedMail(payload)) {
      // Retrying cannot mend it.
      log.error("mail: dropped a queued message that is not a mail", payload);
      return;
    }
    const { mail } = payload;
    try {
      await sendNow(config, mail, options.timeouts);
      log.info(`mail: sent "${mail.subject}" to ${mail.to} via ${endpoint}`);
    } catch (error) {
      const reason = describeSmtpError(error, config);
      if (isPermanentSmtpFailure(error)) {
        log.error(`mail: gave up on "${mail.subject}" to ${mail.to}: ${reason}`);
        return;
      }
      log.warn(`mail: could not send "${mail.subject}" to ${mail.to}: ${reason}; trying again later`);
      throw new MailError(reason, error);
    }
  }

  return {
    enabled,
    async send(message) {
      checkMessage(message);
      if (!enabled) {
        log.debug(`mail is disabled (no SMTP_SERVER); would have sent "${message.subject}" to ${message.to}:\n${message.text}`);
        return;
      }
      const payload: QueuedMail = { mail: { to: message.to, subject: message.subject, text: message.text, html: message.html } };
      await queue.enqueue(payload);
    },
    async start(signal) {
      if (!enabled) {
        log.debug("mail is disabled (no SMTP_SERVER): no mail consumer");
        return;
      }
      await queue.listen(deliver, { signal });
    },
    async verify() {
      if (!enabled) throw new MailError("SMTP_SERVER is not set: mail is disabled");
      try {
        await verifySmtp(config, options.timeouts);
      } catch (error) {
        throw new MailError(describeSmtpError(error, config), error);
      }
    },
  };
}
