/**
 * One running Islet: configuration, database, core context, Fedify with its
 * queue and KV store. The HTTP server, the CLI and the tests all start here.
 */
import type { Federation } from "@fedify/fedify";
import type { Config } from "./config.ts";
import { syncOwnerUris } from "./core/accounts.ts";
import { RemoteLookups, type CoreContext } from "./core/context.ts";
import { AccountArchives } from "./core/account-archives.ts";
import { EventBus } from "./core/events.ts";
import { openDatabase, type Database } from "./db/connect.ts";
import { DatabaseKvStore } from "./db/kv-store.ts";
import { DatabaseMessageQueue } from "./db/message-queue.ts";
import { createIsletFederation } from "./federation/federation.ts";
import { createLogger, type Logger } from "./log.ts";
import { registerConversations } from "./core/conversations.ts";
import { createMailer, createMailQueue, type Mailer } from "./mail/mailer.ts";
import { registerMailNotifications } from "./mail/notifications.ts";
import { registerNotifications } from "./core/notifications.ts";
import { publishDueScheduledStatuses } from "./core/scheduled-statuses.ts";
import { announceExpiredPolls } from "./core/polls.ts";
import { createPushQueue, registerWebPush, startPushWorker } from "./push/delivery.ts";
import { registerStreamingRelay } from "./streaming/events.ts";
import { pruneExpiredRemoteMedia } from "./core/media-cache.ts";
import { createLinkVerificationQueue, registerLinkVerification, startLinkVerificationWorker } from "./core/link-verification.ts";
import { createRemoteMediaQueue, registerRemoteMediaCache, startRemoteMediaWorker } from "./media/remote-cache.ts";
import { createImportQueue, startImportWorker } from "./core/imports/bulk-imports.ts";
import { createArchiveImportQueue, startArchiveImportWorker } from "./core/imports/archive-uploads.ts";
import { createImportResolvers } from "./federation/imports.ts";
import { closeStorage, registerMediaUrls } from "./media/storage/index.ts";
import { resumeMediaProcessing } from "./core/media.ts";

export interface Islet {
  readonly config: Config;
  readonly core: CoreContext;
  readonly federation: Federation<void>;
  readonly queue: DatabaseMessageQueue;
  /** Sends mail through its own queue; a no-op logger when SMTP_SERVER is unset. */
  readonly mailer: Mailer;
  /** Starts consuming the durable queue (deliveries, inbox work). */
  startWorker(): void;
  /** Stops the worker, waits for in-flight jobs, closes the database. */
  close(): Promise<void>;
}

export interface OpenIsletOptions {
  /** An already opened database (tests); otherwise opened from the config. */
  database?: Database;
  /** PGlite only: an archive to start an empty data dir from (tests). */
  pgliteTemplate?: Blob;
  /** PGlite only: serve the database to admin commands while open (the server). */
  shareDatabase?: boolean;
  log?: Logger;
}

export interface OpenedCore {
  readonly config: Config;
  readonly core: CoreContext;
  close(): Promise<void>;
}

/**
 * The database and core alone, without federation: what admin commands
 * need, at a fraction of the start-up cost.
 */
export async function openCore(config: Config, options: OpenIsletOptions = {}): Promise<OpenedCore> {
  const log = options.log ?? createLogger(config.logLevel);
  const database = options.database ?? await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    pgliteTemplate: options.pgliteTemplate,
    share: options.shareDatabase,
  });
  const events = new EventBus((event, error) => log.error(`event ${event}: a reaction failed`, error));
  const core: CoreContext = { config, database, db: database.db, events, log, remote: new RemoteLookups(), archives: new AccountArchives() };
  // Media URLs (in the API and ActivityPub) name the bucket from here on when S3_ENABLED=true.
  registerMediaUrls(config);
  try {
    await syncOwnerUris(core);
  } catch (error) {
    await database.close();
    throw error;
  }
  return { config, core, close: () => database.close() };
}

export async function openIslet(config: Config, options: OpenIsletOptions = {}): Promise<Islet> {
  const { core } = await openCore(config, options);
  const { database, log } = core;
  const kv = new DatabaseKvStore(database);
  const queue = new DatabaseMessageQueue(database, {
    visibilityTimeoutSeconds: config.queueVisibilityTimeoutSeconds,
    logger: { warn: (message, error) => log.warn(message, error) },
  });
  const federation = createIsletFederation(core, { kv, queue });
  // Reactions to core events run in every process, wherever the event is raised.
  registerNotifications(core);
  registerConversations(core);
  // On PostgreSQL, streaming events reach the streaming clients of every process.
  registerStreamingRelay(core);
  const mailer = createMailer(config, createMailQueue(database, { log }), log);
  registerMailNotifications(core, mailer);
  // Web Push: notifications go onto their own queue ("push"); the worker sends them.
  const pushQueue = createPushQueue(database, { log });
  registerWebPush(core, pushQueue);
  // Remote media cache: received posts' files are downloaded on their own queue ("remote_media").
  const remoteMediaQueue = createRemoteMediaQueue(database, { log });
  registerRemoteMediaCache(core, remoteMediaQueue);
  // Profile links: a saved field with a link is checked for rel="me" on its own queue ("link_verification").
  const linkVerificationQueue = createLinkVerificationQueue(database, { log });
  registerLinkVerification(core, linkVerificationQueue);
  const stop = new AbortController();
  let worker: Promise<void> | null = null;
  let mailWorker: Promise<void> | null = null;
  let pushWorker: Promise<void> | null = null;
  let remoteMediaWorker: Promise<void> | null = null;
  let linkVerificationWorker: Promise<void> | null = null;
  let importWorker: Promise<void> | null = null;
  let archiveImportWorker: Promise<void> | null = null;
  return {
    config,
    core,
    federation,
    queue,
    mailer,
    startWorker() {
      if (worker != null) return;
      worker = federation.startQueue(undefined, { signal: stop.signal });
      mailWorker = mailer.start(stop.signal);
      pushWorker = startPushWorker(core, pushQueue, stop.signal);
      remoteMediaWorker = startRemoteMediaWorker(core, remoteMediaQueue, stop.signal);
      linkVerificationWorker = startLinkVerificationWorker(core, linkVerificationQueue, stop.signal);
      // CSV imports: their rows are worked on their own queue ("imports").
      importWorker = startImportWorker(core, createImportQueue(database, { log }), createImportResolvers(federation, core), stop.signal);
      // Account archives uploaded on the settings pages: one at a time, on their own queue ("archive_imports").
      archiveImportWorker = startArchiveImportWorker(core, createArchiveImportQueue(database, { log }), createImportResolvers(federation, core), stop.signal);
      // Video and audio conversions a stop interrupted.
      resumeMediaProcessing(core).catch((error) => log.warn("could not resume media conversions", error));
      // Expired cache entries (fetched documents, keys) are dropped hourly.
      const sweep = setInterval(() => {
        kv.deleteExpired().catch((error) => log.warn("could not delete expired cache entries", error));
      }, 60 * 60 * 1000);
      sweep.unref();
      // Scheduled posts are published within half a minute of their time.
      const publish = setInterval(() => {
        publishDueScheduledStatuses(core).catch((error) => log.warn("could not publish scheduled posts", error));
      }, 30 * 1000);
      publish.unref();
      // Closed polls the owner made or voted in notify within a minute.
      const polls = setInterval(() => {
        announceExpiredPolls(core).catch((error) => log.warn("could not check for closed polls", error));
      }, 60 * 1000);
      polls.unref();
      // Cached files of remote media older than MEDIA_CACHE_RETENTION_DAYS are deleted every six hours.
      const pruneMedia = setInterval(() => {
        pruneExpiredRemoteMedia(core).catch((error) => log.warn("could not prune the remote media cache", error));
      }, 6 * 60 * 60 * 1000);
      pruneMedia.unref();
      stop.signal.addEventListener("abort", () => {
        clearInterval(sweep);
        clearInterval(publish);
        clearInterval(polls);
        clearInterval(pruneMedia);
      });
    },
    async close() {
      stop.abort();
      await Promise.all([worker, mailWorker, pushWorker, remoteMediaWorker, linkVerificationWorker, importWorker, archiveImportWorker]);
      closeStorage(config);
      await database.close();
    },
  };
}
