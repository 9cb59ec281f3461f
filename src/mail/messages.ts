/**
 * The messages Islet mails, each as plain text and as simple HTML built from
 * the same blocks, so the two never say different things. Builders take plain
 * data (not database rows) and return a {@link MailMessage} ready for
 * `mailer.send`.
 */
import type { Config } from "../config.ts";
import { escapeHtml } from "../text/escape-html.ts";
import type { MailMessage } from "./transport.ts";

/** What a message says about an account. */
export interface MailAccount {
  username: string;
  /** Null for the local owner. */
  domain: string | null;
  displayName?: string | null;
  /** The profile page, or the actor IRI. */
  url?: string | null;
  uri?: string | null;
}

type Block =
  | { kind: "paragraph"; text: string }
  | { kind: "quote"; text: string }
  | { kind: "link"; label: string; href: string }
  | { kind: "note"; text: string };

/** The parts of the configuration messages use. */
type MailConfig = Pick<Config, "origin" | "localDomain">;

const MAX_QUOTE_LENGTH = 2000;

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: " " };

/** A post's HTML as plain text: paragraphs and line breaks kept, tags dropped. */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|blockquote|li|h[1-6])>\s*/gi, "\n\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
      if (name[0] === "#") {
        const code = name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    });
  return text.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
}

/** Cuts long text at a word, marking the cut. */
function shorten(text: string, max = MAX_QUOTE_LENGTH): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.8 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Text for a header line: no line breaks, no runs of spaces. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ").replace(/ {2,}/g, " ").trim();
}

/** `@user@domain`, with the local domain for the owner. */
export function handleOf(account: MailAccount, config: MailConfig): string {
  return `@${account.username}@${account.domain ?? config.localDomain}`;
}

/** `Display Name (@user@domain)`, or the handle alone. */
function nameOf(account: MailAccount, config: MailConfig): string {
  const display = oneLine(account.displayName ?? "");
  const handle = handleOf(account, config);
  return display === "" ? handle : `${display} (${handle})`;
}

function profileOf(account: MailAccount): string | null {
  return account.url ?? account.uri ?? null;
}

function render(config: MailConfig, to: string, subject: string, blocks: Block[], footer: string): MailMessage {
  const textParts = blocks.map((block) => {
    switch (block.kind) {
      case "paragraph":
      case "note":
        return block.text;
      case "quote":
        return block.text.split("\n").map((line) => `> ${line}`.trimEnd()).join("\n");
      case "link":
        return `${block.label}: ${block.href}`;
    }
  });
  const text = `${textParts.join("\n\n")}\n\n-- \n${footer}\n${config.origin}\n`;

  const paragraph = (content: string) => `<p style="margin:0 0 16px 0">${content}</p>`;
  const withBreaks = (value: string) => escapeHtml(value).replace(/\n/g, "<br>\n");
  const htmlParts = blocks.map((block) => {
    switch (block.kind) {
      case "paragraph":
        return paragraph(withBreaks(block.text));
      case "note":
        return `<p style="margin:0 0 16px 0;color:#555;font-size:14px">${withBreaks(block.text)}</p>`;
      case "quote":
        return `<blockquote style="margin:0 0 16px 0;padding:8px 12px;border-left:3px solid #8a8ad0;background:#f4f4fb">${withBreaks(block.text)}</blockquote>`;
      case "link":
        return paragraph(`<a href="${escapeHtml(block.href)}" style="color:#3b3bb3">${escapeHtml(block.label)}</a>`);
    }
  });
  const html = [
    "<!DOCTYPE html>",
    `<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(subject)}</title></head>`,
    `<body style="margin:0;padding:24px;background:#ffffff;color:#1a1a1a;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">`,
    `<div style="max-width:560px;margin:0 auto">`,
    ...htmlParts,
    `<hr style="border:none;border-top:1px solid #ddd;margin:24px 0 12px 0">`,
    `<p style="margin:0;color:#777;font-size:13px">${withBreaks(footer)}<br><a href="${escapeHtml(config.origin)}" style="color:#777">${escapeHtml(config.origin)}</a></p>`,
    "</div></body></html>",
    "",
  ].join("\n");
  return { to, subject: oneLine(subject), text, html };
}

const NOTIFICATION_FOOTER = "You get this mail because you switched on mail for this kind of notification on your Islet.";
const ACCOUNT_FOOTER = "Islet sends this mail about your account's security; it cannot be switched off.";

/** Sent by `islet mail test`. */
export function testMessage(config: MailConfig, to: string): MailMessage {
  return render(config, to, "Islet test message", [
    { kind: "paragraph", text: `This is a test message from the Islet server at ${config.origin}.` },
    { kind: "paragraph", text: "If you can read it, mail from your server gets through: notifications and password resets will reach you." },
  ], "Sent by `islet mail test`.");
}

export interface MentionMail {
  to: string;
  author: MailAccount;
  status: {
    /** The post's page, or its IRI. */
    url: string | null;
    uri: string;
    /** The post's HTML. */
    content: string;
    spoilerText?: string | null;
    visibility?: string;
  };
}

export function mentionMessage(config: MailConfig, input: MentionMail): MailMessage {
  const author = nameOf(input.author, config);
  const direct = input.status.visibility === "direct";
  const blocks: Block[] = [
    { kind: "paragraph", text: direct ? `${author} sent you a private mention:` : `${author} mentioned you:` },
  ];
  const spoiler = oneLine(input.status.spoilerText ?? "");
  if (spoiler !== "") blocks.push({ kind: "note", text: `Content warning: ${spoiler}` });
  const body = shorten(htmlToText(input.status.content));
  if (body !== "") blocks.push({ kind: "quote", text: body });
  blocks.push({ kind: "link", label: "See the post", href: input.status.url ?? input.status.uri });
  const subject = direct
    ? `Private mention from ${handleOf(input.author, config)}`
    : `${handleOf(input.author, config)} mentioned you`;
  return render(config, input.to, subject, blocks, NOTIFICATION_FOOTER);
}

export interface FollowMail {
  to: string;
  follower: MailAccount;
}

export function followMessage(config: MailConfig, input: FollowMail): MailMessage {
  const blocks: Block[] = [{ kind: "paragraph", text: `${nameOf(input.follower, config)} is now following you.` }];
  const profile = profileOf(input.follower);
  if (profile != null) blocks.push({ kind: "link", label: "Their profile", href: profile });
  return render(config, input.to, `${handleOf(input.follower, config)} followed you`, blocks, NOTIFICATION_FOOTER);
}

export function followRequestMessage(config: MailConfig, input: FollowMail): MailMessage {
  const blocks: Block[] = [
    { kind: "paragraph", text: `${nameOf(input.follower, config)} asks to follow you.` },
    { kind: "paragraph", text: "Your account is locked, so they see your followers-only posts only once you accept. Accept or reject the request in your app's follow requests." },
  ];
  const profile = profileOf(input.follower);
  if (profile != null) blocks.push({ kind: "link", label: "Their profile", href: profile });
  return render(config, input.to, `${handleOf(input.follower, config)} asks to follow you`, blocks, NOTIFICATION_FOOTER);
}

export interface ReportMail {
  to: string;
  reporter: MailAccount;
  target: MailAccount;
  comment?: string | null;
  category?: string | null;
  /** How many posts the report points at. */
  statusCount?: number;
}

export function reportMessage(config: MailConfig, input: ReportMail): MailMessage {
  const targetIsOwner = input.target.domain == null;
  const reporterServer = input.reporter.domain ?? config.localDomain;
  const blocks: Block[] = [
    {
      kind: "paragraph",
      text: targetIsOwner
        ? `${nameOf(input.reporter, config)} (a moderator or user at ${reporterServer}) reported your account.`
        : `${nameOf(input.reporter, config)} reported ${nameOf(input.target, config)}.`,
    },
  ];
  const details: string[] = [];
  if (input.category != null && input.category !== "") details.push(`Category: ${input.category}`);
  if (input.statusCount != null && input.statusCount > 0) {
    details.push(`Posts named in the report: ${input.statusCount}`);
  }
  if (details.length > 0) blocks.push({ kind: "note", text: details.join("\n") });
  const comment = (input.comment ?? "").trim();
  if (comment !== "") blocks.push({ kind: "quote", text: shorten(comment) });
  const profile = profileOf(input.reporter);
  if (profile != null) blocks.push({ kind: "link", label: "The reporter's profile", href: profile });
  return render(config, input.to, `New report from ${reporterServer}`, blocks, NOTIFICATION_FOOTER);
}

export interface AppAuthorizedMail {
  to: string;
  /** The application's name as it registered. */
  appName: string;
  website?: string | null;
  /** The scopes granted, as given in the request. */
  scopes: readonly string[] | string;
  at?: Date;
  /** The address the authorization came from, when known. */
  ip?: string | null;
}

/** "A new app was authorized on your account": sent after an OAuth grant. */
export function appAuthorizedMessage(config: MailConfig, input: AppAuthorizedMail): MailMessage {
  const scopes = typeof input.scopes === "string" ? input.scopes.split(/\s+/).filter((s) => s !== "") : [...input.scopes];
  const name = oneLine(input.appName) || "An application";
  const at = (input.at ?? new Date()).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const details = [`Permissions: ${scopes.length === 0 ? "read" : scopes.join(", ")}`];
  if (input.ip != null && input.ip !== "") details.push(`Authorized from the address ${oneLine(input.ip)}`);
  const blocks: Block[] = [
    { kind: "paragraph", text: `${name} was given access to your account on ${at}.` },
    { kind: "note", text: details.join("\n") },
  ];
  if (input.website != null && input.website !== "") blocks.push({ kind: "link", label: "The app's website", href: input.website });
  blocks.push({
    kind: "paragraph",
    text: "If this was not you, revoke the app's access and change your password at once: someone may know it.",
  });
  return render(config, input.to, `A new application was authorized on your account: ${name}`, blocks, ACCOUNT_FOOTER);
}

export interface PasswordResetMail {
  to: string;
  username: string;
  /** The reset token, exactly as the reset page expects it. */
  token: string;
  /** How long the link works, for the text (default 1 hour). */
  validForMinutes?: number;
}

/** The link in a password reset mail. */
export function passwordResetUrl(origin: string, token: string): string {
  return `${origin}/auth/password/edit?reset_password_token=${encodeURIComponent(token)}`;
}

export function passwordResetMessage(config: MailConfig, input: PasswordResetMail): MailMessage {
  const minutes = input.validForMinutes ?? 60;
  const validity = minutes % 60 === 0 ? `${minutes / 60} hour${minutes === 60 ? "" : "s"}` : `${minutes} minutes`;
  return render(config, input.to, "Reset your Islet password", [
    { kind: "paragraph", text: `Someone asked to reset the password of @${input.username}@${config.localDomain}.` },
    { kind: "link", label: "Choose a new password", href: passwordResetUrl(config.origin, input.token) },
    { kind: "note", text: `The link works once, for ${validity}. If you did not ask for it, ignore this mail: your password stays as it is.` },
  ], ACCOUNT_FOOTER);
}

export interface EmailConfirmationMail {
  to: string;
  username: string;
  token: string;
}

/** The link in an address confirmation mail. */
export function emailConfirmationUrl(origin: string, token: string): string {
  return `${origin}/settings/account/confirm_email?confirmation_token=${encodeURIComponent(token)}`;
}

export function emailConfirmationMessage(config: MailConfig, input: EmailConfirmationMail): MailMessage {
  return render(config, input.to, "Confirm your new e-mail address", [
    { kind: "paragraph", text: `This address was given as the new e-mail address of @${input.username}@${config.localDomain}.` },
    { kind: "link", label: "Confirm the address", href: emailConfirmationUrl(config.origin, input.token) },
    { kind: "note", text: "The link works for 24 hours. Until it is followed, mail keeps going to the old address. If you did not ask for this, ignore this mail." },
  ], ACCOUNT_FOOTER);
}

export interface SignInLockedMail {
  to: string;
  username: string;
  /** Failed attempts in a row that led to the lock-out. */
  failures: number;
  /** The latest few addresses they came from. */
  addresses: readonly string[];
  /** Whether they came from more addresses than those. */
  moreAddresses?: boolean;
  lockedAt?: Date;
  lockedUntil: Date;
}

function utcTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** "Sign-in to your account is paused": sent once when failed sign-ins lock the account. */
export function signInLockedMessage(config: MailConfig, input: SignInLockedMail): MailMessage {
  const minutes = Math.max(1, Math.round((input.lockedUntil.getTime() - (input.lockedAt ?? new Date()).getTime()) / 60_000));
  const length = minutes < 120 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : `${Math.round(minutes / 60)} hours`;
  const addresses = input.addresses.map(oneLine).filter((a) => a !== "");
  const from = addresses.length === 0
    ? "The addresses they came from are unknown."
    : `They came from ${addresses.length === 1 && input.moreAddresses !== true ? "the address" : "these addresses"}: ${addresses.join(", ")}${input.moreAddresses === true ? ", and others" : ""}.`;
  return render(config, input.to, `Sign-in to your account is paused after ${input.failures} failed attempts`, [
    {
      kind: "paragraph",
      text: `${input.failures} attempts in a row to sign in to @${input.username}@${config.localDomain} used a wrong password, so signing in is paused for ${length}, until ${utcTime(input.lockedUntil)}. Until then even the right password is refused.`,
    },
    { kind: "note", text: from },
    {
      kind: "paragraph",
      text: "If this was you, wait, or choose a new password by email: that works during the pause, and ends it. If it was not you, someone may be guessing your password: make sure it is long and used nowhere else.",
    },
    { kind: "link", label: "Reset your password", href: `${config.origin}/auth/password/new` },
  ], ACCOUNT_FOOTER);
}
