/** What the digest reads from the store for one organisation and week (asOf and the 7 days before it). */
import { expectedSoon, forecastForOrg } from "../scoring/forecast";
import { agingByCustomer } from "../store/aging";
import { connectionsOf } from "../store/dashboard-orgs";
import { scoresAsOf } from "../store/dashboard-scores";
import type { Db } from "../store/db";
import {
  alertsBetween,
  contactNamesOf,
  emailsLeftForReview,
  holdChangesBetween,
  limitBreaches,
  remindersSentBetween,
} from "../store/digest";
import { overdueAt } from "../store/figures";
import { countOpenProposals } from "../store/holds";
import type { Organisation } from "../store/orgs";
import { lastReconciliation } from "../store/reconcile";
import type { DigestOrgRows } from "./build";
import { AGING_BUCKETS, addDays, type IsoDate, zonedStartOfDay } from "./dates";

export async function loadDigestRows(db: Db, org: Organisation, asOf: IsoDate): Promise<DigestOrgRows> {
  const weekAgo = addDays(asOf, -7);
  const from = zonedStartOfDay(addDays(asOf, -6), org.timezone);
  const to = zonedStartOfDay(addDays(asOf, 1), org.timezone);
  const rec = await lastReconciliation(db, org.id);
  const [
    alerts,
    now,
    before,
    holds,
    aging,
    overdueNow,
    overdueBefore,
    reminders,
    conns,
    limits,
    review,
    proposed,
  ] = await Promise.all([
    alertsBetween(db, org.id, weekAgo, asOf),
    scoresAsOf(db, org.id, asOf),
    scoresAsOf(db, org.id, weekAgo),
    holdChangesBetween(db, org.id, from, to),
    agingByCustomer(db, org.id, asOf),
    overdueAt(db, org.id, asOf),
    overdueAt(db, org.id, weekAgo),
    remindersSentBetween(db, org.id, from, to),
    connectionsOf(db, org.id),
    limitBreaches(db, org),
    // Emails whose delivery is unknown (left for review, never resent): reminders and hold notices to the owner.
    emailsLeftForReview(db, org.id),
    countOpenProposals(db, org.id),
  ]);
  const ref = (r: { contact_id: string; external_id: string; name: string }) => ({
    contactId: r.contact_id,
    customerId: r.external_id,
    name: r.name,
  });
  const names = new Map(aging.map((a) => [a.contactId, { externalId: a.externalId, name: a.name }]));
  for (const c of await contactNamesOf(db, org.id))
    if (!names.has(c.id)) names.set(c.id, { externalId: c.external_id, name: c.name });
  // Cash-in forecast (base currency): the next 4 weeks, and the part from customers graded D or E now.
  const base = (await forecastForOrg(db, org, asOf)).find((f) => f.currency === org.baseCurrency);
  const risky = new Set(
    [...now.values()].filter((s) => s.grade === "D" || s.grade === "E").map((s) => s.contactId),
  );
  const soon = base ? expectedSoon(base, risky) : null;
  const bucketTotals = AGING_BUCKETS.map((b) => ({
    label: b === "current" ? "Not yet due" : `${b} days`,
    minor: aging.filter((a) => a.currency === org.baseCurrency).reduce((n, a) => n + a.buckets[b], 0),
  }));
  return {
    org: { slug: org.slug, name: org.name, baseCurrency: org.baseCurrency },
    alerts: alerts.map((a) => {
      const d = (a.detail ? JSON.parse(a.detail) : {}) as { reasons?: string[]; changeDays?: number | null };
      return { ...ref(a), reasons: d.reasons ?? [], changeDays: d.changeDays ?? null };
    }),
    scoresNow: [...now.values()].map((s) => ({
      contactId: s.contactId,
      customerId: names.get(s.contactId)?.externalId ?? s.contactId,
      name: names.get(s.contactId)?.name ?? s.contactId,
      score: s.score,
      grade: s.grade,
    })),
    scoresBefore: new Map([...before.values()].map((s) => [s.contactId, { score: s.score, grade: s.grade }])),
    holds: holds.map((h) => ({
      ...ref(h),
      action: h.action,
      reason: h.reason,
      date: new Date(h.at).toISOString().slice(0, 10),
    })),
    limitBreaches: limits.map((l) => ({ ...ref(l), owedMinor: l.owed, limitMinor: l.credit_limit_minor })),
    overdueNow,
    overdueBefore,
    topOverdue: aging.slice(0, 5).map((a) => ({
      contactId: a.contactId,
      customerId: a.externalId,
      name: a.name,
      currency: a.currency,
      overdueMinor: a.overdueMinor,
      oldestDays: a.oldestOverdueDays,
    })),
    reminders: reminders.map((r) => ({
      ...ref(r),
      level: r.level,
      invoices: r.invoices,
      paidSince: r.paid_since,
      date: new Date(r.sent_at).toISOString().slice(0, 10),
    })),
    leftForReview: review,
    holdsAwaitingApproval: proposed,
    connections: conns.map((c) => ({
      provider: c.provider,
      status: c.status,
      lastError: c.lastError,
      lastSyncAt: c.lastSyncAt,
    })),
    aging: bucketTotals,
    reconciliation: rec ? { checked: rec.customersChecked, mismatched: rec.mismatched.length } : null,
    cashIn: soon ? { expectedMinor: soon.total, fromRiskyMinor: soon.fromThese } : null,
  };
}
