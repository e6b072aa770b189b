/**
 * What a customer can do on the customers' page, validated (zod) and carried out: each action is recorded on
 * the customer's timeline (audit log, actor "customer") and told to the organisation's owner.
 *
 * - "paid": reminders for the invoice wait CUSTOMER_PAID_PAUSE_DAYS while the payment reaches the books, then
 *   resume unless it arrived;
 * - "promise": reminders wait until the promised date; a promise whose date passes with the invoice unpaid is
 *   flagged once by the next reminder run ("customer.promise_broken");
 * - "dispute": the invoice is neither chased nor counted in the exposure until a bookkeeper resolves it;
 * - "address": reminders go to the new address (the ledger's addresses are kept);
 * - "stop": the customer opts out of reminders.
 */

import { z } from "zod";
import { formatDate, formatMoney } from "../format";
import { isValidAddress } from "../mail/address";
import { addDays, dateInZone, type IsoDate, isIsoDate } from "../model";
import { audit, CUSTOMER_ACTIONS, CUSTOMER_ACTOR } from "../store/audit";
import { optOutContact } from "../store/contacts";
import { recordDispute } from "../store/disputes";
import { addPause } from "../store/pauses";
import { findOpenInvoice, type PortalContact, setReminderEmail } from "../store/portal";
import { type NoticeDeps, notifyOwner } from "./notify";

export const DISPUTE_REASONS = {
  not_received: "Goods or services not received",
  wrong_amount: "The amount is wrong",
  faulty: "Faulty or not as ordered",
  not_ordered: "We did not order this",
  duplicate: "Duplicate invoice",
  other: "Something else",
} as const;
export type DisputeReason = keyof typeof DISPUTE_REASONS;

/** How far ahead a promise to pay may reach. */
export const MAX_PROMISE_DAYS = 90;

const invoiceId = z.string().regex(/^inv_[0-9a-z]{1,40}$/, "choose an invoice");
const date = z.string().trim().refine(isIsoDate, "enter a date (YYYY-MM-DD)");
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .optional()
    .transform((v) => (v ? v : null));

export const actionSchemas = {
  paid: z.object({ invoice: invoiceId, paid_on: date, reference: optionalText(100) }),
  promise: z.object({ invoice: invoiceId, pay_by: date }),
  dispute: z.object({
    invoice: invoiceId,
    reason: z.enum(Object.keys(DISPUTE_REASONS) as [DisputeReason, ...DisputeReason[]], {
      message: "choose a reason",
    }),
    comment: optionalText(2000),
  }),
  address: z.object({
    email: z
      .string()
      .trim()
      .max(254)
      .refine((v) => isValidAddress(v), "enter one email address, like accounts@example.com"),
  }),
  stop: z.object({}),
} as const;

export type ActionKind = keyof typeof actionSchemas;
export const ACTION_KINDS = Object.keys(actionSchemas) as ActionKind[];

export interface ActionDeps extends NoticeDeps {}

export type ActionResult = { ok: true } | { ok: false; errors: string[] };

function fail(...errors: string[]): ActionResult {
  return { ok: false, errors };
}

/** Validates `form` for `kind` and carries the action out for this customer. */
export async function takeAction(
  deps: ActionDeps & { config: { CUSTOMER_PAID_PAUSE_DAYS: number } },
  who: PortalContact,
  kind: ActionKind,
  form: Record<string, unknown>,
  now: number,
): Promise<ActionResult> {
  const parsed = actionSchemas[kind].safeParse(form);
  if (!parsed.success) return fail(...parsed.error.issues.map((i) => i.message));
  const { org, contact } = who;
  const { store } = deps;
  const db = store.db;
  const today: IsoDate = dateInZone(now, org.timezone);
  const fmt = (d: IsoDate) => formatDate(d, org.locale);
  const who_ = { id: contact.id, externalId: contact.externalId, name: contact.name };
  const record = (action: string, invoice: string | null, detail: Record<string, unknown>) =>
    audit(
      db,
      { orgId: org.id, contactId: contact.id, invoiceId: invoice, actor: CUSTOMER_ACTOR, action, detail },
      now,
    );

  if (kind === "paid" || kind === "promise" || kind === "dispute") {
    const data = parsed.data as { invoice: string };
    const inv = await findOpenInvoice(db, org.id, contact.id, data.invoice);
    if (!inv) return fail("That invoice is not open any more.");
    const money = formatMoney({ minor: inv.amountDueMinor, currency: inv.currency }, org.locale);
    const base = { invoiceNumber: inv.number, amountDueMinor: inv.amountDueMinor, currency: inv.currency };
    if (inv.disputedAt !== null && kind !== "dispute")
      return fail("This invoice is under dispute: we will be in touch.");

    if (kind === "paid") {
      const d = parsed.data as z.infer<typeof actionSchemas.paid>;
      if (d.paid_on > today) return fail("The payment date cannot be in the future.");
      if (d.paid_on < addDays(today, -366)) return fail("The payment date is more than a year ago.");
      const until = addDays(today, deps.config.CUSTOMER_PAID_PAUSE_DAYS);
      const pauseId = await addPause(
        db,
        {
          orgId: org.id,
          contactId: contact.id,
          invoiceId: inv.id,
          kind: "paid",
          until,
          paidOn: d.paid_on,
          reference: d.reference,
        },
        now,
      );
      await record(CUSTOMER_ACTIONS.paid, inv.id, {
        ...base,
        paidOn: d.paid_on,
        reference: d.reference,
        pausedUntil: until,
        pauseId,
      });
      await notifyOwner(
        deps,
        {
          org,
          contact: who_,
          invoiceId: inv.id,
          headline: `says invoice ${inv.number} is already paid`,
          facts: [
            ["Invoice", `${inv.number} (${money} due)`],
            ["Paid on", fmt(d.paid_on)],
            ["Reference", d.reference ?? "(none given)"],
            ["Reminders for it wait until", fmt(until)],
          ],
        },
        now,
      );
      return { ok: true };
    }

    if (kind === "promise") {
      const d = parsed.data as z.infer<typeof actionSchemas.promise>;
      if (d.pay_by < today) return fail("The date to pay by cannot be in the past.");
      if (d.pay_by > addDays(today, MAX_PROMISE_DAYS))
        return fail(`Please choose a date within ${MAX_PROMISE_DAYS} days, or contact us to agree terms.`);
      const pauseId = await addPause(
        db,
        { orgId: org.id, contactId: contact.id, invoiceId: inv.id, kind: "promise", until: d.pay_by },
        now,
      );
      await record(CUSTOMER_ACTIONS.promised, inv.id, { ...base, payBy: d.pay_by, pauseId });
      await notifyOwner(
        deps,
        {
          org,
          contact: who_,
          invoiceId: inv.id,
          headline: `promises to pay invoice ${inv.number} by ${fmt(d.pay_by)}`,
          facts: [
            ["Invoice", `${inv.number} (${money} due)`],
            ["Will pay by", fmt(d.pay_by)],
          ],
        },
        now,
      );
      return { ok: true };
    }

    const d = parsed.data as z.infer<typeof actionSchemas.dispute>;
    if (inv.disputedAt !== null) return fail("This invoice is already under dispute: we will be in touch.");
    const disputeId = await recordDispute(
      store,
      { orgId: org.id, contactId: contact.id, invoiceId: inv.id, reason: d.reason, comment: d.comment },
      now,
    );
    await record(CUSTOMER_ACTIONS.disputed, inv.id, {
      ...base,
      reason: d.reason,
      comment: d.comment,
      disputeId,
    });
    await notifyOwner(
      deps,
      {
        org,
        contact: who_,
        invoiceId: inv.id,
        headline: `disputes invoice ${inv.number}`,
        facts: [
          ["Invoice", `${inv.number} (${money} due)`],
          ["Reason", DISPUTE_REASONS[d.reason]],
          ["Comment", d.comment ?? "(none)"],
          ["Until you resolve it", "no reminders, and it is left out of the credit exposure"],
        ],
      },
      now,
    );
    return { ok: true };
  }

  if (kind === "address") {
    const d = parsed.data as z.infer<typeof actionSchemas.address>;
    await setReminderEmail(db, org.id, contact.id, d.email, now);
    const previous = contact.reminderEmail ? [contact.reminderEmail] : contact.emails;
    await record(CUSTOMER_ACTIONS.addressChanged, null, { email: d.email, previous });
    await notifyOwner(
      deps,
      {
        org,
        contact: who_,
        headline: "asks for reminders to go to someone else",
        facts: [
          ["New reminder address", d.email],
          ["Before", previous.join(", ") || "(none)"],
          ["Your ledger", "unchanged: only Creditpulse's reminders use the new address"],
        ],
      },
      now,
    );
    return { ok: true };
  }

  await optOut(deps, who, now, "page");
  return { ok: true };
}

/** Opts the customer out (page button or one-click List-Unsubscribe); records and tells the owner once. */
export async function optOut(deps: ActionDeps, who: PortalContact, now: number, via: "page" | "one_click") {
  const changed = await optOutContact(deps.store.db, who.org.id, who.contact.id, now);
  if (!changed) return;
  await audit(
    deps.store.db,
    {
      orgId: who.org.id,
      contactId: who.contact.id,
      actor: CUSTOMER_ACTOR,
      action: CUSTOMER_ACTIONS.optedOut,
      detail: { via },
    },
    now,
  );
  await notifyOwner(
    deps,
    {
      org: who.org,
      contact: { id: who.contact.id, externalId: who.contact.externalId, name: who.contact.name },
      headline: "asks not to receive any more reminder emails",
      facts: [
        ["How", via === "one_click" ? "the unsubscribe link in a reminder" : "the customers' page"],
        ["From now on", "no reminders are emailed to this customer; contact them yourself if needed"],
      ],
    },
    now,
  );
}
