/**
 * The customer page's data (`/orgs/<slug>/customers/<id>`, JSON at `/api/orgs/<slug>/customers/<id>`): the
 * customer's settings, score, invoices, lateness and timeline; the page adds the open disputes, the reminder
 * address and the open items as the statement shows them. Reads only; the caller has already checked the user
 * may see the organisation.
 */
import type { Deps } from "../deps";
import { NotFoundError } from "../errors";
import { formatDate, formatMoney } from "../format";
import { validAddresses } from "../mail/address";
import { dateInZone, daysBetween, type IsoDate } from "../model";
import { statementTotals } from "../portal/statement-model";
import {
  auditFor,
  type ContactRow,
  contactByExternalId,
  customerDisputes,
  invoicesOf,
  paymentsOf,
} from "../store/dashboard-customers";
import { reminderEmails } from "../store/dashboard-reminders";
import { scoreOf } from "../store/dashboard-scores";
import type { Organisation } from "../store/orgs";
import { openInvoicesOf, reminderEmailOverrides } from "../store/portal";
import { loadPolicies } from "../store/reminder-settings";
import { describeActivity } from "./timeline-words";

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
  const [invs, pays, rems, audits, scored, policies] = await Promise.all([
    invoicesOf(db, contact.id),
    paymentsOf(db, contact.id),
    reminderEmails(db, org.id, { contactId: contact.id, limit: 500 }),
    auditFor(db, org.id, contact.id),
    scoreOf(db, org.id, contact.id, asOf),
    loadPolicies(db, org.id),
  ]);
  const s = scored;
  const dateOf = (ms: number) => dateInZone(ms, org.timezone);
  const day = (d: IsoDate) => formatDate(d, org.locale);
  const money = (minor: number, currency: string) => formatMoney({ minor, currency }, org.locale);
  const ctx = { locale: org.locale };
  const timeline: TimelineEntry[] = [
    ...invs.map((i) => ({
      date: i.issueDate,
      at: null,
      kind: "invoice" as const,
      text: `Invoice ${i.number} issued for ${money(i.totalMinor, i.currency)}, due ${day(i.dueDate)}${i.status === "void" ? " (void)" : ""}`,
    })),
    ...pays.map((p) => ({
      date: p.date,
      at: null,
      kind: "payment" as const,
      text: `Payment of ${money(p.amountMinor, p.currency)} towards invoice ${p.invoiceNumber}`,
    })),
    ...rems.map((r) => ({
      date: dateOf(r.at),
      at: r.at,
      kind: "reminder" as const,
      text: reminderWords(r),
    })),
    // Reminder emails are on the timeline from the emails themselves (above), one line per email.
    ...audits
      .filter((a) => !FROM_EMAILS.has(a.action))
      .map((a) => ({
        date: dateOf(a.at),
        at: a.at,
        kind: kindOf(a.action),
        text: describeActivity(a.action, a.detail, a.actor, ctx),
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

/** Audit actions the timeline shows from the reminder emails instead (one line per email, with its outcome). */
const FROM_EMAILS = new Set(["reminder.sent", "reminder.failed", "reminder.needs_review"]);

function kindOf(action: string): TimelineEntry["kind"] {
  if (action === "credit_hold.placed") return "hold";
  if (action === "credit_hold.released") return "release";
  if (action.startsWith("monitor.") || action === "customer.promise_broken") return "alert";
  if (action.startsWith("reminder.")) return "reminder";
  return "change";
}

/** "Reminder 3 (firm) sent to ap@example.com for INV-1, INV-2 — accepted by the mail server". */
function reminderWords(r: {
  level: number;
  template: string;
  status: string;
  invoiceNumbers: string;
  to: string | null;
  lastError: string | null;
  resolution: string | null;
}): string {
  let to: string[] = [];
  try {
    const parsed: unknown = r.to ? JSON.parse(r.to) : [];
    if (Array.isArray(parsed)) to = parsed.filter((x): x is string => typeof x === "string");
  } catch {
    to = r.to ? [r.to] : [];
  }
  const head = `Reminder ${r.level} (${r.template})`;
  const what = `for ${r.invoiceNumbers}`;
  switch (r.status) {
    case "sent":
      return `${head} sent${to.length ? ` to ${to.join(", ")}` : ""} ${what} — accepted by the mail server`;
    case "failed":
      return `${head} ${what} not delivered${r.lastError ? `: ${r.lastError.slice(0, 200)}` : ""}${r.resolution === "resend" ? "; may be sent again" : ""}`;
    case "rejected":
      return `${head} ${what} refused by the mail server${r.lastError ? `: ${r.lastError.slice(0, 200)}` : ""}`;
    case "needs_review":
      return `${head} ${what}: the mail server's answer is unknown; left for a person to check (never resent automatically)`;
    case "claimed":
      return `${head} ${what}: being sent`;
    default:
      return `${head} ${what}: ${r.status.replace(/_/g, " ")}`;
  }
}
