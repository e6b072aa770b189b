/**
 * The data behind each dashboard page, as plain objects: the pages render them and /api/ returns them as JSON,
 * so both always agree. Reads only; the caller has already checked the user may see the organisation.
 */
import { sql } from "drizzle-orm";
import type { OrgAccess } from "../auth/accounts";
import type { Deps } from "../deps";
import { validAddresses } from "../mail/address";
import { AGING_BUCKETS, type AgingBucket, addDays, dateInZone, daysBetween, type IsoDate } from "../model";
import { reminderFields } from "../reminders/dispatch";
import type { PlanContact } from "../reminders/plan";
import type { ReminderFields } from "../reminders/render";
import { localMoment } from "../reminders/window";
import { dashboardFigures, dashboardSummary } from "../store/dashboard-summary";
import type { Organisation } from "../store/orgs";
import { defaultSettings, loadPolicies, loadReminderSettings } from "../store/reminders";
import {
  atRisk,
  atRiskCount,
  auditFor,
  type ContactRow,
  connectionsOf,
  holdsOf,
  IN_CHUNK,
  invoicesOf,
  paymentsOf,
  reasonsOf,
  reminderEmails,
  riskAsOf,
  scoreOf,
} from "./queries";

export const asOfFor = (deps: Deps, org: Organisation): IsoDate => dateInZone(deps.clock.now(), org.timezone);

export interface PortfolioRow {
  slug: string;
  name: string;
  role: string;
  is_demo: boolean;
  provider: string;
  as_of: IsoDate;
  totals: { currency: string; outstanding: number; overdue: number; customers: number }[];
  dso: number | null;
  at_risk: number;
  /** Change in overdue (base currency, minor units) since the same day last week. */
  overdue_change_week: number;
  base_currency: string;
  /** Change in the number of at-risk customers since the scores of a week before. */
  at_risk_change_week: number;
}

export async function portfolio(deps: Deps, orgs: OrgAccess[]): Promise<PortfolioRow[]> {
  const { db } = deps.store;
  return Promise.all(
    orgs.map(async ({ org, role }) => {
      const now = deps.clock.now(); // read once: the as-of date and the cache's computed_at agree
      const asOf = dateInZone(now, org.timezone);
      const weekAgo = addDays(asOf, -7);
      // Whole-ledger figures from the summary cache (computed and stored on a miss); scores read live.
      const [figures, riskNow, riskBefore] = await Promise.all([
        dashboardFigures(deps.store, org, asOf, now),
        atRiskCount(db, org.id, asOf),
        atRiskCount(db, org.id, weekAgo),
      ]);
      return {
        slug: org.slug,
        name: org.name,
        role,
        is_demo: org.isDemo,
        provider: org.provider,
        as_of: asOf,
        totals: figures.totals.map((t) => ({
          currency: t.currency,
          outstanding: t.outstandingMinor,
          overdue: t.overdueMinor,
          customers: t.customers,
        })),
        dso: figures.dso.at(-1)?.dso ?? null,
        at_risk: riskNow,
        at_risk_change_week: riskNow - riskBefore,
        base_currency: org.baseCurrency,
        overdue_change_week:
          (figures.overdue[org.baseCurrency] ?? 0) - (figures.overdueWeekAgo[org.baseCurrency] ?? 0),
      };
    }),
  );
}

export interface CustomerSummary {
  id: string;
  name: string;
  grade: string | null;
  score: number | null;
  trend: string | null;
  reasons: string[];
  on_hold: boolean;
  currency: string;
  outstanding: number;
  overdue: number;
  buckets: Record<AgingBucket, number>;
  oldest_overdue_days: number;
}

export interface CustomerFilters {
  q?: string;
  grade?: string;
  trend?: string;
  overdue?: boolean;
  risk?: boolean;
}

export const PAGE_SIZE = 100;

/** Names and hold states of some customers, by contact id. */
async function contactNames(db: Deps["store"]["db"], orgId: string, ids: string[]) {
  const out = new Map<string, { external_id: string; name: string; hold_state: string }>();
  for (let k = 0; k < ids.length; k += IN_CHUNK) {
    const part = ids.slice(k, k + IN_CHUNK);
    const rows = await db.all<{ id: string; external_id: string; name: string; hold_state: string }>(
      sql`select id, external_id, name, hold_state from contacts where org_id = ${orgId} and id in (${sql.join(
        part.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );
    for (const r of rows) out.set(r.id, r);
  }
  return out;
}

export async function organisation(deps: Deps, org: Organisation, filters: CustomerFilters, page = 1) {
  const { db } = deps.store;
  const now = deps.clock.now(); // read once: the as-of date and the cache's computed_at agree
  const asOf = dateInZone(now, org.timezone);
  // Whole-ledger figures from the summary cache (computed and stored on a miss); scores read live.
  const [summary, scored] = await Promise.all([
    dashboardSummary(deps.store, org, asOf, now),
    riskAsOf(db, org.id, asOf),
  ]);
  const aging = summary.customers;
  const dso = summary.dso;
  const empty = (): Record<AgingBucket, number> => ({
    current: 0,
    "1-30": 0,
    "31-60": 0,
    "61-90": 0,
    "90+": 0,
  });
  const seen = new Set<string>();
  // Reasons are read for the page shown only; each summary remembers its contact for that.
  const contactOf = new Map<CustomerSummary, string>();
  const rows: CustomerSummary[] = aging.map((a) => {
    seen.add(a.contactId);
    const s = scored.get(a.contactId);
    const row: CustomerSummary = {
      id: a.externalId,
      name: a.name,
      grade: s?.grade ?? null,
      score: s?.score ?? null,
      trend: s?.trend ?? null,
      reasons: [],
      on_hold: a.holdState === "on_hold",
      currency: a.currency,
      outstanding: a.outstandingMinor,
      overdue: a.overdueMinor,
      buckets: a.buckets,
      oldest_overdue_days: a.oldestOverdueDays,
    };
    contactOf.set(row, a.contactId);
    return row;
  });
  // At-risk customers who owe nothing right now still belong on the list.
  if (scored.size > 0) {
    const missing = [...scored.values()].filter((s) => !seen.has(s.contactId) && atRisk(s));
    if (missing.length > 0) {
      const byId = await contactNames(
        db,
        org.id,
        missing.map((s) => s.contactId),
      );
      for (const s of missing) {
        const c = byId.get(s.contactId);
        if (!c) continue;
        const row: CustomerSummary = {
          id: c.external_id,
          name: c.name,
          grade: s.grade,
          score: s.score,
          trend: s.trend,
          reasons: [],
          on_hold: c.hold_state === "on_hold",
          currency: org.baseCurrency,
          outstanding: 0,
          overdue: 0,
          buckets: empty(),
          oldest_overdue_days: 0,
        };
        contactOf.set(row, s.contactId);
        rows.push(row);
      }
    }
  }
  // Riskiest first: lowest score, then most overdue; unscored customers after scored ones.
  rows.sort(
    (a, b) =>
      (a.score ?? 1e9) - (b.score ?? 1e9) ||
      b.overdue - a.overdue ||
      b.outstanding - a.outstanding ||
      (a.id < b.id ? -1 : 1),
  );
  const q = filters.q?.trim().toLowerCase();
  const filtered = rows.filter(
    (r) =>
      (!q || r.name.toLowerCase().includes(q) || r.id.toLowerCase() === q) &&
      (!filters.grade || r.grade === filters.grade) &&
      (!filters.trend || r.trend === filters.trend) &&
      (!filters.overdue || r.overdue > 0) &&
      (!filters.risk || r.grade === "D" || r.grade === "E" || r.trend === "deteriorating"),
  );
  const totals = summary.totals.map((t) => ({
    currency: t.currency,
    outstanding: t.outstandingMinor,
    overdue: t.overdueMinor,
    customers: t.customers,
  }));
  const agingTotals = empty();
  for (const a of aging)
    if (a.currency === org.baseCurrency) for (const b of AGING_BUCKETS) agingTotals[b] += a.buckets[b];
  const pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
  const p = Math.min(Math.max(1, page), pages);
  const shown = filtered.slice((p - 1) * PAGE_SIZE, p * PAGE_SIZE);
  const run = [...scored.values()][0]?.asOf;
  if (run) {
    const ids = shown.filter((r) => r.score !== null).map((r) => contactOf.get(r)!);
    const reasons = await reasonsOf(db, org.id, run, ids);
    for (const r of shown) r.reasons = reasons.get(contactOf.get(r)!) ?? [];
  }
  return {
    org: {
      slug: org.slug,
      name: org.name,
      timezone: org.timezone,
      base_currency: org.baseCurrency,
      is_demo: org.isDemo,
    },
    as_of: asOf,
    scored_on: [...scored.values()][0]?.asOf ?? null,
    totals,
    aging: agingTotals,
    dso,
    customer_count: filtered.length,
    page: p,
    pages,
    customers: shown,
  };
}

export interface TimelineEntry {
  date: IsoDate;
  at: number | null;
  kind: "invoice" | "payment" | "reminder" | "hold" | "release" | "change" | "alert";
  text: string;
}

export async function customer(deps: Deps, org: Organisation, contact: ContactRow) {
  const { db } = deps.store;
  const asOf = asOfFor(deps, org);
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

export async function settingsPage(deps: Deps, org: Organisation) {
  const { db } = deps.store;
  const [settings, policies, conns] = await Promise.all([
    loadReminderSettings(db, org),
    loadPolicies(db, org.id),
    connectionsOf(db, org.id),
  ]);
  return {
    org: { slug: org.slug, name: org.name, timezone: org.timezone, provider: org.provider },
    window: settings.window,
    policies: [...policies.policies.values()].map((p) => ({
      id: p.id,
      name: p.name,
      levels: p.levels.map((l) => ({
        level: l.level,
        offset_days: l.offsetDays,
        template: l.template,
        name: l.name,
        place_hold: l.placeHold,
      })),
    })),
    connections: conns.map((c) => ({
      provider: c.provider,
      tenant: c.tenantName ?? c.tenantId,
      status: c.status,
      last_sync_at: c.lastSyncAt,
      last_error: c.lastError,
    })),
  };
}

/** One sample invoice for template previews and checks: due `due` days from today (negative = overdue). */
export interface SampleInvoice {
  due: number;
  minor: number;
  currency?: string;
  payUrl?: string | null;
}

/** A sample customer for template previews (no real customer data leaves the page). */
export function sampleFields(
  deps: Deps,
  org: Organisation,
  level: { level: number; name: string; template: string },
  sample: { invoices?: SampleInvoice[]; hold?: ReminderFields["hold"]; owner?: boolean } = {},
): ReminderFields {
  const today = asOfFor(deps, org);
  const contact: PlanContact = {
    id: "sample",
    externalId: "SAMPLE",
    name: "Sample Customer Ltd",
    emails: ["accounts@sample.example"],
    timezone: null,
    policyId: null,
    chasingPausedUntil: null,
    excluded: false,
    optedOut: false,
    holdState: sample.hold ? "on_hold" : "none",
    creditLimitMinor: null,
    deleted: false,
    grade: null,
  };
  const inv = (n: string, s: SampleInvoice) => ({
    invoice: {
      id: n,
      contactId: "sample",
      externalId: n,
      number: n,
      issueDate: addDays(today, s.due - 30),
      dueDate: addDays(today, s.due),
      currency: s.currency ?? org.baseCurrency,
      totalMinor: s.minor,
      amountCreditedMinor: 0,
      amountDueMinor: s.minor,
      status: "authorised" as const,
      disputedAt: null,
      payUrl: s.payUrl ?? null,
    },
    daysOverdue: -s.due,
    level: { ...level, offsetDays: 0, placeHold: false },
    due: true,
  });
  const list = sample.invoices ?? [
    { due: -12, minor: 125_000 },
    { due: -3, minor: 48_050 },
  ];
  const fields = reminderFields({ config: deps.config }, org, defaultSettings(org), {
    contact,
    to: validAddresses(contact.emails),
    level: { ...level, offsetDays: 0, placeHold: false },
    invoices: list.map((s, i) => inv(`INV-${1001 + i}`, s)),
    local: localMoment(deps.clock.now(), org.timezone),
  });
  return {
    ...fields,
    hold: sample.hold ?? null,
    ...(sample.owner ? { links: { customer_page: null, unsubscribe: null } } : {}),
  };
}

/**
 * The sample customers a template must render for before it is saved: 1, 3 and 12 invoices; with and without
 * a credit hold; the base currency, several currencies together, and one without minor units (JPY).
 */
export function templateSamples(
  deps: Deps,
  org: Organisation,
  template: string,
): { label: string; fields: ReminderFields }[] {
  const owner = template.startsWith("owner-");
  const currencies = [org.baseCurrency, "EUR", "USD", "JPY"];
  const invoices = (n: number, mixed: boolean): SampleInvoice[] =>
    Array.from({ length: n }, (_, i) => ({
      due: 5 - i * 9,
      minor: 10_000 + i * 12_345,
      currency: mixed ? currencies[i % currencies.length] : org.baseCurrency,
      payUrl: i % 2 === 0 ? "https://pay.example/invoice" : null,
    }));
  const hold = (action: "place" | "release"): NonNullable<ReminderFields["hold"]> => ({
    action,
    reason: action === "place" ? "an invoice reached the credit-hold level" : "the overdue balance was paid",
    date_formatted: "1 Jan 2026",
    writeback: "The hold is recorded in Creditpulse only.",
  });
  const level = (onHold: boolean) =>
    owner
      ? { level: 0, name: onHold ? "Credit hold" : "Hold released", template: "owner" }
      : onHold
        ? { level: 6, name: "Credit hold", template }
        : { level: 2, name: "Overdue", template };
  const cases: { label: string; n: number; mixed: boolean; onHold: boolean }[] = [
    { label: `1 invoice in ${org.baseCurrency}, no credit hold`, n: 1, mixed: false, onHold: false },
    { label: "3 invoices in several currencies, on credit hold", n: 3, mixed: true, onHold: true },
    { label: "12 invoices in several currencies, no credit hold", n: 12, mixed: true, onHold: false },
    { label: `12 invoices in ${org.baseCurrency}, on credit hold`, n: 12, mixed: false, onHold: true },
  ];
  return cases.map((k) => ({
    label: k.label,
    fields: sampleFields(deps, org, level(k.onHold), {
      invoices: invoices(k.n, k.mixed),
      // Owner notices always describe a hold (placed or released); customers' emails never carry one.
      hold: owner ? hold(k.onHold ? "place" : "release") : k.onHold ? hold("place") : null,
      owner,
    }),
  }));
}
