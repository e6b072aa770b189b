/**
 * The credit holds page's data (`/orgs/<slug>/holds`, JSON at `/api/orgs/<slug>/holds`) and what a member does
 * there: approve or dismiss a proposed hold, place or release one by hand (src/reminders/hold-actions.ts, which
 * audits who did it and writes it back to the ledger).
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { dateInZone } from "../model";
import {
  actOnHold,
  type HoldActionResult,
  holdActionDeps,
  holdEntryJson,
  type ManualHoldAction,
} from "../reminders/hold-actions";
import { runOutlook } from "../reminders/outlook";
import { contactForHold, listHolds } from "../store/holds";
import type { Organisation } from "../store/orgs";
import { loadReminderSettings } from "../store/reminder-settings";
import type { Member } from "./member";

export async function holdsView(deps: Deps, org: Organisation) {
  const now = deps.clock.now();
  const [lists, settings, outlook] = await Promise.all([
    listHolds(deps.store.db, org.id, dateInZone(now, org.timezone)),
    loadReminderSettings(deps.store.db, org),
    runOutlook(deps, org, now),
  ]);
  return {
    org: { slug: org.slug, name: org.name },
    mode: settings.holdMode ?? "approve",
    notice_days: deps.config.HOLD_NOTICE_DAYS,
    proposed: lists.proposed.map(holdEntryJson),
    active: lists.active.map(holdEntryJson),
    released: lists.released.map(holdEntryJson),
    needs_attention: outlook.attention,
  };
}

/** One hold action on the customer with this ledger id (a 404 when the organisation has no such customer). */
export async function holdAction(
  deps: Deps,
  org: Organisation,
  action: ManualHoldAction,
  input: { customer: string; reason: string | null },
  member: Member,
): Promise<HoldActionResult> {
  const contact = await contactForHold(deps.store.db, org.id, input.customer);
  if (!contact) throw new UserError("not_found", `No customer ${input.customer} in ${org.name}.`, 404);
  const { config } = deps;
  // Loaded on use, as Send now does: the mail transport is not part of every deployment's bundle.
  const mailer = (await (await import("../mail/mailer-for")).transportFor(config)) ?? undefined;
  try {
    return await actOnHold(
      holdActionDeps(deps, org, mailer),
      org,
      contact,
      action,
      { actor: `user:${member.id}`, who: member.email, reason: input.reason },
      deps.clock.now(),
    );
  } finally {
    await mailer?.close();
  }
}
