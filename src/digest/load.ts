/** What the digest reads from the store for one organisation and week (asOf and the 7 days before it). */
import { sql } from "drizzle-orm";
import { expectedSoon, forecastForOrg } from "../scoring/forecast";
import { agingByCustomer } from "../store/aging";
import { connectionsOf } from "../store/dashboard-orgs";
import { scoresAsOf } from "../store/dashboard-scores";
import type { Db } from "../store/db";
import { overdueAt } from "../store/figures";
import { countOpenProposals } from "../store/holds";
import { DETERIORATION_ALERT } from "../store/monitor";
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
    db.all<{ contact_id: string; external_id: string; name: string; detail: string | null }>(sql`
      select a.contact_id, c.external_id, c.name, a.detail from audit_log a join contacts c on c.id = a.contact_id
      where a.org_id = ${org.id} and a.action = ${DETERIORATION_ALERT}
        and coalesce(json_extract(a.detail, '$.asOf'), '') > ${weekAgo} and coalesce(json_extract(a.detail, '$.asOf'), '') <= ${asOf}
      order by c.name`),
    scoresAsOf(db, org.id, asOf),
    scoresAsOf(db, org.id, weekAgo),
    db.all<{
      contact_id: string;
      external_id: string;
      name: string;
      action: "place" | "release";
      reason: string;
      at: number;
    }>(sql`
      select h.contact_id, c.external_id, c.name, h.action, h.reason, h.at from credit_holds h join contacts c on c.id = h.contact_id
      where h.org_id = ${org.id} and h.at >= ${from} and h.at < ${to} order by h.at`),
    agingByCustomer(db, org.id, asOf),
    overdueAt(db, org.id, asOf),
    overdueAt(db, org.id, weekAgo),
    db.all<{
      contact_id: string;
      external_id: string;
      name: string;
      level: number;
      invoices: number;
      paid_since: number;
      sent_at: number;
    }>(sql`
      select r.contact_id, c.external_id, c.name, max(r.level) as level, count(*) as invoices,
             sum(case when i.status = 'paid' or i.amount_due_minor = 0 then 1 else 0 end) as paid_since, max(r.sent_at) as sent_at
      from reminders r join contacts c on c.id = r.contact_id join invoices i on i.id = r.invoice_id
      where r.org_id = ${org.id} and r.status = 'sent' and r.sent_at >= ${from} and r.sent_at < ${to}
      group by r.email_id order by c.name`),
    connectionsOf(db, org.id),
    db.all<{
      contact_id: string;
      external_id: string;
      name: string;
      owed: number;
      credit_limit_minor: number;
    }>(sql`
      select c.id as contact_id, c.external_id, c.name, c.credit_limit_minor, sum(i.amount_due_minor) as owed
      from contacts c join invoices i on i.contact_id = c.id
      where c.org_id = ${org.id} and c.credit_limit_minor is not null and c.deleted = 0
        and i.status in ('authorised', 'submitted') and i.currency = ${org.baseCurrency} and i.disputed_at is null
      group by c.id having owed > c.credit_limit_minor order by owed - c.credit_limit_minor desc`),
    // Emails whose delivery is unknown (left for review, never resent): reminders and hold notices to the owner.
    db.all<{ n: number }>(sql`
      select (select count(distinct email_id) from reminders where org_id = ${org.id} and status = 'needs_review')
           + (select count(*) from credit_holds where org_id = ${org.id} and owner_notice = 'needs_review') as n`),
    countOpenProposals(db, org.id),
  ]);
  const ref = (r: { contact_id: string; external_id: string; name: string }) => ({
    contactId: r.contact_id,
    customerId: r.external_id,
    name: r.name,
  });
  const names = new Map(aging.map((a) => [a.contactId, { externalId: a.externalId, name: a.name }]));
  const scoredNames = await db.all<{ id: string; external_id: string; name: string }>(
    sql`select id, external_id, name from contacts where org_id = ${org.id}`,
  );
  for (const c of scoredNames)
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
    leftForReview: review[0]?.n ?? 0,
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
