/**
 * The weekly digest model: (rows read from the store, asOf, base URL) -> what each organisation has to report.
 * PURE: no store, no clock, no node imports. Amount formatting is left to the templates' caller (send.ts).
 */

export interface DigestCustomerRef {
  contactId: string;
  customerId: string;
  name: string;
}

export interface DigestOrgRows {
  org: { slug: string; name: string; baseCurrency: string };
  /** Deterioration alerts raised in the week (audit "monitor.deteriorating"). */
  alerts: (DigestCustomerRef & { reasons: string[]; changeDays: number | null })[];
  /** Latest scores and those of a week before, per contact id. */
  scoresNow: (DigestCustomerRef & { score: number; grade: string })[];
  scoresBefore: Map<string, { score: number; grade: string }>;
  /** Credit hold placements and releases in the week. */
  holds: (DigestCustomerRef & { action: "place" | "release"; reason: string; date: string })[];
  /** Customers owing more than their credit limit (base currency, minor units). */
  limitBreaches: (DigestCustomerRef & { owedMinor: number; limitMinor: number })[];
  overdueNow: Map<string, number>;
  overdueBefore: Map<string, number>;
  /** Customers with the most overdue (already sorted). */
  topOverdue: (DigestCustomerRef & { currency: string; overdueMinor: number; oldestDays: number })[];
  /** Reminder emails sent in the week, and whether their invoices have been paid since. */
  reminders: (DigestCustomerRef & { level: number; invoices: number; paidSince: number; date: string })[];
  /** Emails whose delivery is unknown (the server's answer was lost), left for a person to check. */
  leftForReview?: number;
  /** Credit holds the engine proposed that wait for a person's approval (approve mode). */
  holdsAwaitingApproval?: number;
  connections: { provider: string; status: string; lastError: string | null; lastSyncAt: number | null }[];
  aging: { label: string; minor: number }[];
  /** The last reconciliation against the ledger's own figures (issue 14), when one ran. */
  reconciliation?: { checked: number; mismatched: number } | null;
  /** Cash-in forecast for the next 4 weeks in the base currency, and the part from customers graded D or E. */
  cashIn?: { expectedMinor: number; fromRiskyMinor: number } | null;
}

export interface Money {
  minor: number;
  currency: string;
}

export interface DigestOrg {
  slug: string;
  name: string;
  url: string;
  quiet: boolean;
  newlyDeteriorating: { name: string; url: string; reasons: string[] }[];
  scoreDrops: { name: string; url: string; from: number; to: number; grade: string; drop: number }[];
  holdsPlaced: { name: string; url: string; reason: string; date: string }[];
  holdsReleased: { name: string; url: string; reason: string; date: string }[];
  /** Hold proposals waiting for approval, and where to decide them. */
  holdsAwaiting: { count: number; url: string };
  limitBreaches: { name: string; url: string; owed: Money; limit: Money }[];
  overdue: { currency: string; now: number; before: number; change: number }[];
  topOverdue: { name: string; url: string; overdue: Money; oldestDays: number }[];
  reminders: { sent: number; invoices: number; paidSince: number; url: string; leftForReview: number };
  connectionsNeedingAttention: { provider: string; status: string; detail: string; url: string }[];
  aging: { label: string; minor: number }[];
  baseCurrency: string;
  /** Customers whose balance differs from the ledger's own figure at the last reconciliation (0 = all match). */
  reconcileMismatches: number;
  cashIn: { expected: Money; fromRisky: Money } | null;
}

export interface DigestModel {
  asOf: string;
  weekOf: string;
  orgs: DigestOrg[];
  quietCount: number;
}

/** A score drop worth mentioning (points on the 0-100 scale). */
export const MIN_SCORE_DROP = 5;
const STALE_SYNC_MS = 24 * 60 * 60_000;

export function buildDigest(rows: DigestOrgRows[], asOf: string, baseUrl: string, now: number): DigestModel {
  const base = baseUrl.replace(/\/+$/, "");
  const orgs = rows.map((r): DigestOrg => {
    const orgUrl = `${base}/orgs/${encodeURIComponent(r.org.slug)}`;
    const cu = (c: { customerId: string }) => `${orgUrl}/customers/${encodeURIComponent(c.customerId)}`;
    const drops = r.scoresNow
      .map((s) => {
        const before = r.scoresBefore.get(s.contactId);
        return before ? { s, from: before.score, drop: before.score - s.score } : null;
      })
      .filter((x): x is NonNullable<typeof x> => x !== null && x.drop >= MIN_SCORE_DROP)
      .sort((a, b) => b.drop - a.drop || (a.s.name < b.s.name ? -1 : 1))
      .slice(0, 5)
      .map(({ s, from, drop }) => ({ name: s.name, url: cu(s), from, to: s.score, grade: s.grade, drop }));
    const currencies = new Set([...r.overdueNow.keys(), ...r.overdueBefore.keys()]);
    const overdue = [...currencies].sort().map((currency) => {
      const now = r.overdueNow.get(currency) ?? 0;
      const before = r.overdueBefore.get(currency) ?? 0;
      return { currency, now, before, change: now - before };
    });
    const connectionsNeedingAttention = r.connections
      .filter(
        (c) =>
          c.status !== "active" ||
          c.lastError ||
          (c.lastSyncAt !== null && now - c.lastSyncAt > STALE_SYNC_MS),
      )
      .map((c) => ({
        provider: c.provider,
        status: c.status.replace("_", " "),
        detail:
          c.lastError ?? (c.status === "active" ? "no sync for over a day" : "reconnect to resume sync"),
        url: `${orgUrl}/settings`,
      }));
    const d: DigestOrg = {
      slug: r.org.slug,
      name: r.org.name,
      url: orgUrl,
      quiet: false,
      newlyDeteriorating: r.alerts.map((a) => ({ name: a.name, url: cu(a), reasons: a.reasons.slice(0, 2) })),
      scoreDrops: drops,
      holdsPlaced: r.holds
        .filter((h) => h.action === "place")
        .map((h) => ({ name: h.name, url: cu(h), reason: h.reason, date: h.date })),
      holdsReleased: r.holds
        .filter((h) => h.action === "release")
        .map((h) => ({ name: h.name, url: cu(h), reason: h.reason, date: h.date })),
      limitBreaches: r.limitBreaches.map((b) => ({
        name: b.name,
        url: cu(b),
        owed: { minor: b.owedMinor, currency: r.org.baseCurrency },
        limit: { minor: b.limitMinor, currency: r.org.baseCurrency },
      })),
      overdue,
      topOverdue: r.topOverdue
        .filter((t) => t.overdueMinor > 0)
        .slice(0, 5)
        .map((t) => ({
          name: t.name,
          url: cu(t),
          overdue: { minor: t.overdueMinor, currency: t.currency },
          oldestDays: t.oldestDays,
        })),
      reminders: {
        sent: r.reminders.length,
        invoices: r.reminders.reduce((n, x) => n + x.invoices, 0),
        paidSince: r.reminders.reduce((n, x) => n + x.paidSince, 0),
        url: `${orgUrl}/reminders`,
        leftForReview: r.leftForReview ?? 0,
      },
      holdsAwaiting: { count: r.holdsAwaitingApproval ?? 0, url: `${orgUrl}/holds` },
      connectionsNeedingAttention,
      aging: r.aging,
      baseCurrency: r.org.baseCurrency,
      reconcileMismatches: r.reconciliation?.mismatched ?? 0,
      cashIn: r.cashIn
        ? {
            expected: { minor: r.cashIn.expectedMinor, currency: r.org.baseCurrency },
            fromRisky: { minor: r.cashIn.fromRiskyMinor, currency: r.org.baseCurrency },
          }
        : null,
    };
    d.quiet =
      d.newlyDeteriorating.length === 0 &&
      d.scoreDrops.length === 0 &&
      d.holdsPlaced.length === 0 &&
      d.holdsReleased.length === 0 &&
      d.limitBreaches.length === 0 &&
      d.reminders.sent === 0 &&
      d.reminders.leftForReview === 0 &&
      d.holdsAwaiting.count === 0 &&
      d.connectionsNeedingAttention.length === 0 &&
      d.reconcileMismatches === 0 &&
      overdue.every((o) => o.change === 0);
    return d;
  });
  return { asOf, weekOf: mondayOf(asOf), orgs, quietCount: orgs.filter((o) => o.quiet).length };
}

/** The Monday of the ISO week containing `date`. */
export function mondayOf(date: string): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  const dow = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - dow * 86_400_000).toISOString().slice(0, 10);
}

/** ISO week label ("2026-W48") of `date`. */
export function isoWeek(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7));
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}
