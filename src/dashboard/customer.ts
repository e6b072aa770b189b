/**
 * The customer page's data (`/orgs/<slug>/customers/<id>`, JSON at `/api/orgs/<slug>/customers/<id>`): the
 * customer's settings, score, invoices, lateness and timeline; the page adds the open disputes, the reminder
 * address and the open items as the statement shows them. Reads only; the caller has already checked the user
 * may see the organisation.
 */
import type { Deps } from "../deps";
import { NotFoundError } from "../errors";
import { validAddresses } from "../mail/address";
import { dateInZone, daysBetween, type IsoDate } from "../model";
import { statementTotals } from "../portal/statement-model";
import {
  auditFor,
  type ContactRow,
  contactByExternalId,
  customerDisputes,
  holdsOf,
  invoicesOf,
  paymentsOf,
} from "../store/dashboard-customers";
import { reminderEmails } from "../store/dashboard-reminders";
import { scoreOf } from "../store/dashboard-scores";
import type { Organisation } from "../store/orgs";
import { openInvoicesOf, reminderEmailOverrides } from "../store/portal";
import { loadPolicies } from "../store/reminder-settings";

/** A live customer of this organisation by its ledger id; any other (or a deleted one) is a 404. */
export async function findCustomer(deps: Deps, org: Organisation, externalId: string): Promise<ContactRow> {
  const contact = await contactByExternalId(deps.store.db, org.id, externalId);
  if (!contact || contact.deleted) throw new NotFoundError("customer");
  return contact;
}

/** The customer's data as the JSON API returns it. */
export async function customerView(deps: Deps, org: Organisation, externalId: string) {
  return customer(deps, org, await findCustomer(deps, org, externalId));
}

/**
 * The customer page: the view, the customer's open disputes, where reminders go (the address the customer or a
 * member set, else the ledger's valid ones) and the open items as the customer's statement totals them.
 */
export async function customerPage(deps: Deps, org: Organisation, externalId: string) {
  const { db } = deps.store;
  const contact = await findCustomer(deps, org, externalId);
  const view = await customer(deps, org, contact);
  const disputes = await customerDisputes(db, org.id, contact.id);
  const reminderEmail = (await reminderEmailOverrides(db, org.id, contact.id)).get(contact.id) ?? null;
  const sendsTo = validAddresses(reminderEmail ? [reminderEmail] : contact.emails);
  const openItems = statementTotals(await openInvoicesOf(db, org.id, contact.id, view.as_of));
  return { contact, view, disputes, reminderEmail, sendsTo, openItems };
}

interface TimelineEntry {
  date: IsoDate;
  at: number | null;
  kind: "invoice" | "payment" | "reminder" | "hold" | "release" | "change" | "alert";
  text: string;
}

async function customer(deps: Deps, org: Organisation, contact: ContactRow) {
  const { db } = deps.store;
  const asOf = dateInZone(deps.clock.now(), org.timezone);
  const [invs, pays, rems, holds, audits, scored, policies] = await Promise.all([
    invoicesOf(db, contact.id),
    paymentsOf(db, contact.id),
    reminderEmails(db, org.id, { contactId: contact.id, limit: 500 }),
    holdsOf(db, contact.id),
    auditFor(db, org.id, contact.id),
    scoreOf(db, org.id, contact.id, asOf),
    loadPolicies(db, org.id),
  ]);
  const s = scored;
  const dateOf = (ms: number) => dateInZone(ms, org.timezone);
  const timeline: TimelineEntry[] = [
    ...invs.map((i) => ({
      date: i.issueDate,
      at: null,
      kind: "invoice" as const,
      text: `Invoice ${i.number} issued, due ${i.dueDate}${i.status === "void" ? " (void)" : ""}`,
    })),
    ...pays.map((p) => ({
      date: p.date,
      at: null,
      kind: "payment" as const,
      text: `Payment towards ${p.invoiceNumber}`,
    })),
    ...rems.map((r) => ({
      date: dateOf(r.at),
      at: r.at,
      kind: "reminder" as const,
      text: `Reminder level ${r.level} (${r.template}) for ${r.invoiceNumbers}: ${r.status}`,
    })),
    ...holds.map((h) => ({
      date: dateOf(h.at),
      at: h.at,
      kind: h.action === "place" ? ("hold" as const) : ("release" as const),
      text: `Credit hold ${h.action === "place" ? "placed" : "released"}: ${h.reason}`,
    })),
    ...audits
      .filter((a) => a.action.startsWith("customer.") || a.action === "monitor.deteriorating")
      .map((a) => ({
        date: dateOf(a.at),
        at: a.at,
        kind: a.action === "monitor.deteriorating" ? ("alert" as const) : ("change" as const),
        text:
          a.action === "monitor.deteriorating"
            ? "Flagged as deteriorating"
            : describeChange(a.action, a.detail, a.actor),
      })),
  ].sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : (b.at ?? 0) - (a.at ?? 0)));
  // Days beyond terms per invoice: settled invoices at their settlement, open overdue ones as of today.
  const lateness = invs
    .filter(
      (i) =>
        i.status !== "void" &&
        i.disputedAt === null &&
        (i.paidOn || (i.amountDueMinor > 0 && i.dueDate < asOf)),
    )
    .map((i) => ({
      x: daysBetween("2000-01-01", i.dueDate),
      y: Math.max(0, daysBetween(i.dueDate, i.paidOn ?? asOf)),
      label: `${i.number} due ${i.dueDate}${i.paidOn ? `, paid ${i.paidOn}` : ", unpaid"}`,
    }));
  return {
    org: { slug: org.slug, name: org.name, base_currency: org.baseCurrency },
    as_of: asOf,
    customer: {
      id: contact.externalId,
      name: contact.name,
      emails: contact.emails,
      credit_limit: contact.creditLimitMinor,
      chasing_paused_until: contact.chasingPausedUntil,
      opted_out: contact.optedOut,
      excluded: contact.excluded,
      policy_id: contact.policyId,
      on_hold: contact.holdState === "on_hold",
    },
    score: s
      ? {
          as_of: s.asOf,
          score: s.score,
          grade: s.grade,
          trend: s.trend,
          trend_change_days: s.trendChangeDays,
          reasons: s.reasons,
          late_probability: s.lateProbability,
        }
      : null,
    policies: [...policies.policies.values()].map((p) => ({ id: p.id, name: p.name })),
    invoices: invs.map((i) => ({
      number: i.number,
      issue_date: i.issueDate,
      due_date: i.dueDate,
      currency: i.currency,
      total: i.totalMinor,
      amount_due: i.amountDueMinor,
      status: i.status,
      paid_on: i.paidOn,
      disputed: i.disputedAt !== null,
    })),
    lateness,
    timeline,
  };
}

function describeChange(action: string, detail: Record<string, unknown> | null, actor: string): string {
  const d = detail ?? {};
  const who = typeof d.by === "string" ? ` by ${d.by}` : actor.startsWith("user:") ? "" : ` by ${actor}`;
  switch (action) {
    case "customer.chasing_paused":
      return `Chasing paused until ${String(d.until)}${who}`;
    case "customer.chasing_resumed":
      return `Chasing resumed${who}`;
    case "customer.opted_out":
      return `Opted out of reminders${who}`;
    case "customer.opted_in":
      return `Reminders switched back on${who}`;
    case "customer.credit_limit":
      return `Credit limit set to ${d.limit ?? "none"}${who}`;
    case "customer.policy":
      return `Reminder policy set to ${d.policy ?? "automatic"}${who}`;
    default:
      return `${action}${who}`;
  }
}
