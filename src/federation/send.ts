/**
 * The one way Islet hands an activity to Fedify's queue: recipients on
 * suspended or unreachable domains are left out first.
 */
import type { Context } from "@fedify/fedify";
import type { Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { recipientOf } from "./actors.ts";
import { deliverableAccounts } from "./domain-policy.ts";

type Activity = Parameters<Context<void>["sendActivity"]>[2];

/**
 * Sends `activity` from the local account `sender` to each account of `to` that may
 * receive it (to shared inboxes, once each, with `preferSharedInbox`).
 */
export async function deliver(
  core: CoreContext,
  ctx: Context<void>,
  sender: Pick<Account, "username">,
  to: readonly Account[],
  activity: Activity,
  options: { preferSharedInbox?: boolean } = {},
): Promise<void> {
  const recipients = await deliverableAccounts(core, to);
  if (recipients.length === 0) return;
  await ctx.sendActivity({ identifier: sender.username }, recipients.map(recipientOf), activity, {
    preferSharedInbox: options.preferSharedInbox ?? false,
  });
}
