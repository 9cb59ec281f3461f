/**
 * Actors: the owner as an ActivityPub Person, and remote actors turned into
 * rows Islet stores.
 */
import type { Context, Federation } from "@fedify/fedify";
import {
  Application,
  Endpoints,
  Image,
  Link,
  Person,
  PropertyValue,
  Service,
  type Actor,
} from "@fedify/vocab";
import { toInstant, toInstantOrNull } from "./time.ts";
import { findAccountById, findLocalAccount, getKeyPairs, upsertRemoteAccount, type Account, type RemoteActor } from "../core/accounts.ts";
import { CoreError, type CoreContext } from "../core/context.ts";
import { getPreferences } from "../core/profile.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { mayFetch } from "./authorized-fetch.ts";
import { guardedLoader } from "./domain-policy.ts";

/** Registers the owner's actor, its key pairs and its handle. */
export function registerActor(federation: Federation<void>, core: CoreContext): void {
  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      const account = await findLocalAccount(core, identifier);
      if (account == null || account.username !== identifier) return null;
      if (core.config.authorizedFetch && !(await mayFetch(core, ctx))) return await reducedPerson(ctx, account);
      const moved = account.movedToAccountId == null ? null : await findAccountById(core, account.movedToAccountId);
      return await personFromAccount(ctx, account, { movedToUri: moved?.uri ?? null, ...(await getPreferences(core, account.id)) });
    })
    .setKeyPairsDispatcher(async (_ctx, identifier) => {
      const account = await findLocalAccount(core, identifier);
      if (account == null) return [];
      const keys = await getKeyPairs(core, account.id);
      return [keys.rsa, keys.ed25519];
    })
    .mapHandle(async (_ctx, username) => {
      const account = await findLocalAccount(core, username);
      return account?.username ?? null;
    })
    // Mastodon also answers for handles on WEB_DOMAIN and for the profile URL.
    .mapAlias(async (_ctx, resource) => {
      let username: string | null = null;
      if (resource.protocol === "acct:") {
        const at = resource.pathname.lastIndexOf("@");
        if (at > 0 && resource.pathname.slice(at + 1).toLowerCase() === core.config.webDomain) {
          username = resource.pathname.slice(0, at);
        }
      } else if (resource.origin === core.config.origin) {
        username = /^\/@([^/@]+)$/.exec(resource.pathname)?.[1] ?? null;
      }
      if (username == null) return null;
      const account = await findLocalAccount(core, username);
      return account == null ? null : { identifier: account.username };
    });
}

/**
 * What an unsigned request sees under AUTHORIZED_FETCH: enough to verify
 * the owner's signatures and address it, as Mastodon's secure mode serves.
 */
async function reducedPerson(ctx: Context<void>, account: Account): Promise<Person> {
  const identifier = account.username;
  const keys = await ctx.getActorKeyPairs(identifier);
  return new Person({
    id: ctx.getActorUri(identifier),
    preferredUsername: account.username,
    inbox: ctx.getInboxUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    publicKey: keys[0]?.cryptographicKey,
    assertionMethods: keys.map((key) => key.multikey),
  });
}

/** What a Person says beyond the account row. */
export interface PersonExtras {
  /** The account it moved to, if it did. */
  movedToUri?: string | null;
  /** Text descriptions of the avatar and header, as the pictures' `name`. */
  avatarDescription?: string;
  headerDescription?: string;
}

/** The owner as a Person. */
export async function personFromAccount(ctx: Context<void>, account: Account, extras: PersonExtras = {}): Promise<Person> {
  const movedToUri = extras.movedToUri ?? null;
  const picture = (url: string | null, description: string | undefined) =>
    url == null ? null : new Image({ url: new URL(url), name: description == null || description === "" ? null : description });
  const identifier = account.username;
  const keys = await ctx.getActorKeyPairs(identifier);
  return new Person({
    id: ctx.getActorUri(identifier),
    preferredUsername: account.username,
    name: account.displayName,
    summary: account.note,
    url: new URL(account.url ?? ctx.getActorUri(identifier)),
    icon: picture(account.avatarUrl, extras.avatarDescription),
    image: picture(account.headerUrl, extras.headerDescription),
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    followers: ctx.getFollowersUri(identifier),
    following: ctx.getFollowingUri(identifier),
    featured: ctx.getFeaturedUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    publicKey: keys[0]?.cryptographicKey,
    assertionMethods: keys.map((key) => key.multikey),
    manuallyApprovesFollowers: account.locked,
    discoverable: account.discoverable,
    indexable: account.indexable,
    published: toInstantOrNull(account.publishedAt),
    attachments: account.fields.map((field) => new PropertyValue({ name: field.name, value: field.value })),
    aliases: account.alsoKnownAs.map((uri) => new URL(uri)),
    successor: movedToUri == null ? null : new URL(movedToUri),
  });
}

function href(value: URL | Link | null | undefined): string | null {
  if (value == null) return null;
  if (value instanceof URL) return value.href;
  return value.href?.href ?? null;
}

function text(value: unknown): string {
  return value == null ? "" : String(value);
}

/**
 * What Islet keeps of a remote actor document, as the document says it;
 * upsertRemoteAccount sanitises the bio and field values when it stores them.
 */
export async function remoteActorFromObject(actor: Actor, documentLoader?: Context<void>["documentLoader"]): Promise<RemoteActor> {
  if (actor.id == null) throw new Error("the actor has no id");
  const id = actor.id;
  const options = documentLoader == null ? {} : { documentLoader };
  const icon = await actor.getIcon(options).catch(() => null);
  const image = await actor.getImage(options).catch(() => null);
  const fields: { name: string; value: string }[] = [];
  for await (const attachment of actor.getAttachments(options)) {
    if (attachment instanceof PropertyValue) {
      // The name is plain text; core sanitises the value (HTML) when it stores it.
      fields.push({ name: text(attachment.name), value: text(attachment.value) });
    }
  }
  return {
    uri: id.href,
    username: text(actor.preferredUsername) || id.pathname.split("/").filter(Boolean).pop() || id.host,
    domain: id.host,
    url: href(actor.url as URL | Link | null) ?? id.href,
    actorType: actor.constructor.name,
    displayName: text(actor.name),
    note: text(actor.summary),
    avatarUrl: href(icon?.url as URL | Link | null | undefined),
    headerUrl: href(image?.url as URL | Link | null | undefined),
    inboxUrl: actor.inboxId?.href ?? null,
    sharedInboxUrl: actor.endpoints?.sharedInbox?.href ?? null,
    outboxUrl: actor.outboxId?.href ?? null,
    followersUrl: actor.followersId?.href ?? null,
    followingUrl: actor.followingId?.href ?? null,
    featuredUrl: actor.featuredId?.href ?? null,
    locked: actor.manuallyApprovesFollowers ?? false,
    bot: actor instanceof Service || actor instanceof Application,
    discoverable: actor.discoverable ?? false,
    indexable: actor.indexable ?? false,
    fields,
    alsoKnownAs: actor.aliasIds.map((alias) => alias.href),
    followersCount: 0,
    followingCount: 0,
    statusesCount: 0,
    publishedAt: actor.published == null ? null : new Date(actor.published.epochMilliseconds),
    movedToUri: actor.successorId?.href ?? null,
  };
}

/** Stores (or refreshes) a remote actor and returns its account row. */
export async function persistActor(core: CoreContext, actor: Actor, ctx?: Context<void>): Promise<Account> {
  // Nothing is kept of an actor on a suspended domain.
  if (await isUrlSuspended(core, actor.id)) throw new CoreError("forbidden", `${actor.id?.host} is a blocked domain`);
  return await upsertRemoteAccount(core, await remoteActorFromObject(actor, ctx == null ? undefined : guardedLoader(core, ctx.documentLoader)));
}

/** The shape Fedify's sendActivity wants for a stored account. */
export function recipientOf(account: Account) {
  if (account.inboxUrl == null) throw new Error(`${account.uri} has no inbox`);
  return {
    id: new URL(account.uri),
    inboxId: new URL(account.inboxUrl),
    endpoints: account.sharedInboxUrl == null ? null : { sharedInbox: new URL(account.sharedInboxUrl) },
  };
}
