/**
 * The dashboard's whole-ledger figures of an organisation (per-customer aging, totals, the 12-month DSO series,
 * overdue today and on the same day last week), cached in `dashboard_summaries` per (organisation, as-of date,
 * ledger version). The ledger version is bumped by SQLite triggers on every write to the ledger tables the
 * figures read (drizzle/0009_ledger_version_triggers.sql), so a summary is served only while nothing it was
 * computed from has changed, whichever code path wrote the ledger. A new day is a new as-of date: a miss.
 *
 * Scores, settings and anything else outside the ledger are not in the summary: callers read them live.
 * Nothing here reads the clock: the as-of date and `now` (for computed_at) come from the caller.
 */
import { and, eq, gt, lt, lte, sql } from "drizzle-orm";
import { type AgingBucket, addDays, dateInZone, type IsoDate } from "../model";
import { agingByCustomer, type CustomerAging, type OrgTotals, totalsByCurrency } from "./aging";
import type { Db, Store } from "./db";
import { type DsoPoint, dsoSeries, overdueAt } from "./figures";
import type { Organisation } from "./orgs";
import { dashboardSummaries, organisations } from "./schema";

/** Months of the DSO series the organisation page shows (its last point is the as-of date). */
export const DSO_MONTHS = 12;

/** The small figures: what the portfolio page needs, without the per-customer rows. */
export interface DashboardFigures {
  asOf: IsoDate;
  /** Outstanding and overdue per currency, largest outstanding first. */
  totals: OrgTotals[];
  /** DSO at the last DSO_MONTHS month ends, the last point being `asOf`. */
  dso: DsoPoint[];
  /** Overdue per currency as it stood on `asOf`, and on the same day a week before. */
  overdue: Record<string, number>;
  overdueWeekAgo: Record<string, number>;
}

export interface DashboardSummary extends DashboardFigures {
  /** agingByCustomer as of `asOf`, in its order. */
  customers: CustomerAging[];
}

/** Customers per stored part: about 100 bytes each, so a part stays far below D1's 2 MB row limit. */
const CUSTOMERS_PER_PART = 2000;

/** The stored form of part 0: the figures and how many customer parts follow. */
interface FiguresPart extends Omit<DashboardFigures, "asOf"> {
  parts: number;
}

/** One customer's aging as a row of a customer part. */
type CustomerTuple = [
  contactId: string,
  externalId: string,
  name: string,
  holdState: string,
  currency: string,
  outstanding: number,
  current: number,
  b1: number,
  b31: number,
  b61: number,
  b90: number,
  oldestOverdueDays: number,
  openInvoices: number,
];

const toTuple = (a: CustomerAging): CustomerTuple => [
  a.contactId,
  a.externalId,
  a.name,
  a.holdState,
  a.currency,
  a.outstandingMinor,
  a.buckets.current,
  a.buckets["1-30"],
  a.buckets["31-60"],
  a.buckets["61-90"],
  a.buckets["90+"],
  a.oldestOverdueDays,
  a.openInvoices,
];

function fromTuple(t: CustomerTuple): CustomerAging {
  const buckets: Record<AgingBucket, number> = {
    current: t[6],
    "1-30": t[7],
    "31-60": t[8],
    "61-90": t[9],
    "90+": t[10],
  };
  return {
    contactId: t[0],
    externalId: t[1],
    name: t[2],
    holdState: t[3],
    currency: t[4],
    outstandingMinor: t[5],
    overdueMinor: t[5] - t[6],
    buckets,
    oldestOverdueDays: t[11],
    openInvoices: t[12],
  };
}

const record = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

/** The organisation's ledger version as it is now (bumped by the ledger triggers). */
export async function ledgerVersionOf(db: Db, orgId: string): Promise<number> {
  const [r] = await db
    .select({ v: organisations.ledgerVersion })
    .from(organisations)
    .where(eq(organisations.id, orgId))
    .limit(1);
  if (!r) throw new Error(`organisation ${orgId} not found`);
  return r.v;
}

/** The summary computed live from the ledger (the queries of src/store/aging.ts and figures.ts). */
export async function computeDashboardSummary(
  db: Db,
  org: Organisation,
  asOf: IsoDate,
): Promise<DashboardSummary> {
  const [customers, dso, now, weekAgo] = await Promise.all([
    agingByCustomer(db, org.id, asOf),
    dsoSeries(db, org, asOf, DSO_MONTHS),
    overdueAt(db, org.id, asOf),
    overdueAt(db, org.id, addDays(asOf, -7)),
  ]);
  return {
    asOf,
    totals: totalsByCurrency(customers),
    dso,
    overdue: record(now),
    overdueWeekAgo: record(weekAgo),
    customers,
  };
}

interface StoredPart {
  part: number;
  data: string;
  version: number;
  current: number;
}

/**
 * The stored parts of (org, asOf) stored at the organisation's current ledger version (stale parts are not
 * even read): part 0 only ("figures"), every part ("all"), or every part with the data of part 0 only ("check").
 */
async function storedParts(
  db: Db,
  orgId: string,
  asOf: IsoDate,
  read: "figures" | "all" | "check",
): Promise<StoredPart[]> {
  const data = read === "check" ? sql`case when s.part = 0 then s.data else '' end` : sql`s.data`;
  return db.all<StoredPart>(sql`
    select s.part as part, ${data} as data, s.ledger_version as version, o.ledger_version as current
    from dashboard_summaries s join organisations o on o.id = s.org_id and o.ledger_version = s.ledger_version
    where s.org_id = ${orgId} and s.as_of = ${asOf} ${read === "figures" ? sql`and s.part = 0` : sql``}
    order by s.part`);
}

/** Part 0 when it was stored at the current ledger version (undefined otherwise). */
function freshFigures(parts: StoredPart[]): FiguresPart | undefined {
  const head = parts[0];
  if (head?.part !== 0 || head.version !== head.current) return undefined;
  return JSON.parse(head.data) as FiguresPart;
}

/** The cached figures (no customer rows) of (org, asOf) at the current ledger version, if stored. */
export async function readDashboardFigures(
  db: Db,
  orgId: string,
  asOf: IsoDate,
): Promise<DashboardFigures | undefined> {
  const f = freshFigures(await storedParts(db, orgId, asOf, "figures"));
  return f && { asOf, totals: f.totals, dso: f.dso, overdue: f.overdue, overdueWeekAgo: f.overdueWeekAgo };
}

/** Part 0 and the customer parts, when every one of them was stored at the current ledger version. */
function freshSummary(parts: StoredPart[]): { head: FiguresPart; body: StoredPart[] } | undefined {
  const head = freshFigures(parts);
  if (!head) return undefined;
  // A part missing or written by another computation (another version) makes it a miss.
  const body = parts.slice(1, head.parts + 1);
  if (body.length !== head.parts || body.some((p, i) => p.part !== i + 1 || p.version !== p.current))
    return undefined;
  return { head, body };
}

/** The cached summary of (org, asOf), when every part was stored at the current ledger version. */
export async function readDashboardSummary(
  db: Db,
  orgId: string,
  asOf: IsoDate,
): Promise<DashboardSummary | undefined> {
  const fresh = freshSummary(await storedParts(db, orgId, asOf, "all"));
  if (!fresh) return undefined;
  const f = fresh.head;
  const customers: CustomerAging[] = [];
  for (const p of fresh.body)
    for (const t of JSON.parse(p.data) as CustomerTuple[]) customers.push(fromTuple(t));
  return {
    asOf,
    totals: f.totals,
    dso: f.dso,
    overdue: f.overdue,
    overdueWeekAgo: f.overdueWeekAgo,
    customers,
  };
}

/**
 * Stores `summary` as computed at ledger version `version`. A row already stored at a newer version is kept
 * (a slower, older computation never overwrites a fresher one); summaries of earlier dates are dropped.
 */
export async function storeDashboardSummary(
  store: Store,
  orgId: string,
  summary: DashboardSummary,
  version: number,
  now: number,
  customersPerPart = CUSTOMERS_PER_PART,
): Promise<void> {
  const chunks: CustomerTuple[][] = [];
  for (let i = 0; i < summary.customers.length; i += customersPerPart)
    chunks.push(summary.customers.slice(i, i + customersPerPart).map(toTuple));
  const head: FiguresPart = {
    totals: summary.totals,
    dso: summary.dso,
    overdue: summary.overdue,
    overdueWeekAgo: summary.overdueWeekAgo,
    parts: chunks.length,
  };
  const rows = [JSON.stringify(head), ...chunks.map((c) => JSON.stringify(c))].map((data, part) => [
    orgId,
    summary.asOf,
    part,
    version,
    now,
    data,
  ]);
  await store.atomically(async () => {
    // One prepared statement for every part (one D1 batch, so the parts land together there too).
    await store.runMany(
      `INSERT INTO dashboard_summaries (org_id, as_of, part, ledger_version, computed_at, data) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (org_id, as_of, part) DO UPDATE SET ledger_version = excluded.ledger_version,
         computed_at = excluded.computed_at, data = excluded.data
       WHERE excluded.ledger_version >= dashboard_summaries.ledger_version`,
      rows,
    );
    // Parts beyond this summary's (a larger, older computation) and summaries of earlier dates go.
    await store.db
      .delete(dashboardSummaries)
      .where(
        and(
          eq(dashboardSummaries.orgId, orgId),
          eq(dashboardSummaries.asOf, summary.asOf),
          gt(dashboardSummaries.part, chunks.length),
          lte(dashboardSummaries.ledgerVersion, version),
        ),
      );
    await store.db
      .delete(dashboardSummaries)
      .where(and(eq(dashboardSummaries.orgId, orgId), lt(dashboardSummaries.asOf, summary.asOf)));
  });
}

export type SummarySource = "cache" | "computed";

/**
 * The summary of (org, asOf): from the cache when it is current, else computed live, stored and returned. The
 * version is read before computing, so a ledger write landing during the computation leaves a stale version
 * on the stored row (the next read misses) and never a fresh version on stale figures.
 */
export async function dashboardSummary(
  store: Store,
  org: Organisation,
  asOf: IsoDate,
  now: number,
): Promise<DashboardSummary & { source: SummarySource }> {
  const cached = await readDashboardSummary(store.db, org.id, asOf);
  if (cached) return { ...cached, source: "cache" };
  return { ...(await computeAndStore(store, org, asOf, now)), source: "computed" };
}

/** The figures of (org, asOf) without the customer rows: cached, or the whole summary computed and stored. */
export async function dashboardFigures(
  store: Store,
  org: Organisation,
  asOf: IsoDate,
  now: number,
): Promise<DashboardFigures & { source: SummarySource }> {
  const cached = await readDashboardFigures(store.db, org.id, asOf);
  if (cached) return { ...cached, source: "cache" };
  const { customers: _, ...figures } = await computeAndStore(store, org, asOf, now);
  return { ...figures, source: "computed" };
}

async function computeAndStore(store: Store, org: Organisation, asOf: IsoDate, now: number) {
  // The version and the base currency (which the DSO is in; changing it bumps the version) read together, so
  // the figures are never computed with an older currency than the version they are stored under.
  const [current] = await store.db
    .select({ version: organisations.ledgerVersion, baseCurrency: organisations.baseCurrency })
    .from(organisations)
    .where(eq(organisations.id, org.id))
    .limit(1);
  if (!current) throw new Error(`organisation ${org.id} not found`);
  const version = current.version;
  const summary = await computeDashboardSummary(
    store.db,
    { ...org, baseCurrency: current.baseCurrency },
    asOf,
  );
  await storeDashboardSummary(store, org.id, summary, version, now);
  return summary;
}

/**
 * Makes sure the summary of (org, asOf) is cached at the current ledger version, computing it only when it
 * is not: what the jobs call after a sync, an import or a scoring run, so pages normally find it warm.
 */
export async function warmDashboardSummary(
  store: Store,
  org: Organisation,
  asOf: IsoDate,
  now: number,
): Promise<SummarySource> {
  if (freshSummary(await storedParts(store.db, org.id, asOf, "check"))) return "cache";
  await computeAndStore(store, org, asOf, now);
  return "computed";
}

/** warmDashboardSummary as of `now`'s date in the organisation's timezone (the date its pages show). */
export function warmTodaysSummary(store: Store, org: Organisation, now: number): Promise<SummarySource> {
  return warmDashboardSummary(store, org, dateInZone(now, org.timezone), now);
}
