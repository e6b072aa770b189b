/**
 * SMS the provider certainly did not take (rate limited, bad credentials, unreachable: "failed") are tried again
 * by later runs, for two days from the first attempt, and only inside the customer's sending window, as mail is.
 * Only the invoices still owed (open, undisputed) are named; when none is, the SMS is dropped with that reason.
 * Anything the provider may have taken (`needs_review`) is never resent.
 */
import { daysBetween } from "../model";
import type { PolicyLevel } from "../model/reminders";
import { baseUrlOf, issuePageToken, linksFor } from "../portal/token";
import type { Organisation } from "../store/orgs";
import { loadPlanRows } from "../store/plan-rows";
import { failedSmsGroups, reclaimSms, recordSms } from "../store/sms";
import { type RunContext, reminderFields } from "./run-context";
import type { ReminderDeps } from "./run-types";
import { deliverSms } from "./send-sms";
import { localMoment, windowVerdict } from "./window";

const RETRY_FOR_MS = 2 * 86_400_000;

export async function retryFailedSms(deps: ReminderDeps, org: Organisation, run: RunContext, now: number) {
  if (!deps.sms) return;
  const { db } = deps.store;
  for (const g of await failedSmsGroups(db, org.id, now - RETRY_FOR_MS, now)) {
    const rows = await loadPlanRows(db, org, { asOf: run.latest, contactId: g.contactId });
    const contact = rows.contacts[0];
    if (!contact) continue;
    const local = localMoment(now, contact.timezone ?? org.timezone);
    if (!windowVerdict(local, run.planSettings.window, run.planSettings.holidays).open) continue;
    if (!(await reclaimSms(db, g.smsId))) continue;
    const owed = rows.invoices.filter(
      (i) =>
        g.invoiceIds.includes(i.id) &&
        i.amountDueMinor > 0 &&
        i.disputedAt === null &&
        (i.status === "authorised" || i.status === "submitted"),
    );
    if (contact.excluded || contact.optedOut || owed.length === 0) {
      await recordSms(db, g.smsId, { status: "refused", reason: "nothing is owed or chased any more" }, now);
      continue;
    }
    const level: PolicyLevel = [...run.policies.values()]
      .flatMap((p) => p.levels)
      .find((l) => l.offsetDays === g.offsetDays) ?? {
      level: g.level,
      offsetDays: g.offsetDays,
      template: "overdue",
      name: "Reminder",
      placeHold: false,
    };
    const token = await issuePageToken(
      db,
      deps.secret,
      { orgId: org.id, contactId: contact.id },
      now,
      deps.config.CUSTOMER_PAGE_DAYS,
    );
    const fields = reminderFields(
      deps,
      org,
      run.settings,
      {
        contact,
        to: [...contact.emails],
        level: { ...level, level: g.level },
        invoices: owed.map((invoice) => ({
          invoice,
          level,
          daysOverdue: daysBetween(invoice.dueDate, local.date),
          due: true,
        })),
        local,
      },
      linksFor(baseUrlOf(deps.config), token),
    );
    await deliverSms(
      deps,
      org,
      { smsId: g.smsId, contactId: contact.id, level: g.level, invoiceIds: owed.map((i) => i.id) },
      fields,
      now,
    );
  }
}
