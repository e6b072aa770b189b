/**
 * The dashboard's whole-ledger figures, read straight from the ledger: overdue at a date and the DSO series.
 * Plain queries over the store; the dashboard summary (dashboard-summary.ts) caches them per ledger version.
 */
import { sql } from "drizzle-orm";
import { addDays, type IsoDate } from "../model";
import type { Db } from "./db";
import type { Organisation } from "./orgs";

/**
 * Overdue per currency as it stood on `date`: invoices issued by then and due before it, less what had been
 * paid or credited by then (from the allocation dates). Disputed, void, draft and deleted invoices excluded.
 */
export async function overdueAt(db: Db, orgId: string, date: IsoDate): Promise<Map<string, number>> {
  // Not settled by `date` = paid_on null or after it: two ranges of the paid-on index, one branch each.
  const unsettled = (settled: ReturnType<typeof sql>) => sql`
    select id, currency, total_minor from invoices
    where org_id = ${orgId} and ${settled} and status in ('authorised', 'submitted', 'paid') and disputed_at is null
      and issue_date <= ${date} and due_date < ${date}`;
  const rows = await db.all<{ currency: string; overdue: number }>(sql`
    select i.currency as currency, sum(max(0, i.total_minor
      - coalesce((select sum(pa.amount_minor) from payment_allocations pa join payments p on p.id = pa.payment_id
                  where pa.invoice_id = i.id and p.deleted = 0 and pa.date <= ${date}), 0)
      - coalesce((select sum(ca.amount_minor) from credit_note_allocations ca
                  where ca.invoice_id = i.id and ca.date <= ${date}), 0))) as overdue
    from (${unsettled(sql`paid_on is null`)} union all ${unsettled(sql`paid_on > ${date}`)}) i
    group by i.currency`);
  return new Map(rows.map((r) => [r.currency, r.overdue]));
}

export interface DsoPoint {
  month: string;
  date: IsoDate;
  dso: number | null;
}

/** The month ends of the `months` - 1 months before `asOf`, then `asOf` itself: the dates of a DSO series. */
export function dsoDates(asOf: IsoDate, months: number): IsoDate[] {
  const dates: IsoDate[] = [];
  const [y, m] = asOf.split("-").map(Number) as [number, number];
  for (let k = months - 1; k >= 1; k--) {
    const end = new Date(Date.UTC(y, m - 1 - k + 1, 0)); // last day of the month k months back
    dates.push(end.toISOString().slice(0, 10));
  }
  dates.push(asOf);
  return dates;
}

/** Invoices that count as credit sales and receivables. */
const DSO_STATUSES = new Set(["authorised", "submitted", "paid"]);

/** One group of invoices with the same issue date and settlement date. */
export interface DsoGroup {
  issueDate: IsoDate;
  paidOn: IsoDate | null;
  /** Total less credited, summed. */
  receivable: number;
  /** Total, summed. */
  sales: number;
}

/**
 * DSO at each date from invoice groups: receivables at the date (issued by then, not settled by then) / credit
 * sales of the 90 days up to it x 90. Pure, so the store reads each invoice once whatever the number of dates.
 */
export function dsoFromGroups(groups: Iterable<DsoGroup>, dates: IsoDate[]): DsoPoint[] {
  const ar = dates.map(() => 0);
  const sales = dates.map(() => 0);
  const salesFrom = dates.map((d) => addDays(d, -90)); // exclusive
  for (const g of groups) {
    for (let i = 0; i < dates.length; i++) {
      const d = dates[i]!;
      if (g.issueDate > d) continue;
      if (g.paidOn === null || g.paidOn > d) ar[i]! += g.receivable;
      if (g.issueDate > salesFrom[i]!) sales[i]! += g.sales;
    }
  }
  return dates.map((date, i) => ({
    month: date.slice(0, 7),
    date,
    dso: sales[i]! > 0 ? Math.round((ar[i]! / sales[i]!) * 90) : null,
  }));
}

/**
 * Days sales outstanding at each of the last `months` month ends (the last point is `asOf`), in the base
 * currency: receivables at the date / credit sales of the 90 days before it x 90. Receivables count an invoice
 * until the date it was fully settled. One pass over the issue-date index, grouped in index order (no sort),
 * then summed per date in JS.
 */
export async function dsoSeries(db: Db, org: Organisation, asOf: IsoDate, months = 12): Promise<DsoPoint[]> {
  const dates = dsoDates(asOf, months);
  const first = dates[0] ?? asOf;
  // An invoice issued before the first sales window counts only as a receivable, so only when it was still
  // unsettled at the first date: the others are skipped before grouping (most of an older ledger).
  // Status is a grouping column, so the void, draft and deleted groups are dropped here rather than testing
  // every invoice's status in SQL.
  const groups = await db.all<DsoGroup & { status: string }>(
    sql`select issue_date as issueDate, status, paid_on as paidOn, sum(total_minor - amount_credited_minor) as receivable,
          sum(total_minor) as sales
        from invoices
        where org_id = ${org.id} and currency = ${org.baseCurrency}
          and issue_date >= ${addDays(first, -400)} and issue_date <= ${asOf}
          and (issue_date > ${addDays(first, -90)} or paid_on is null or paid_on > ${first})
        group by issue_date, status, paid_on`,
  );
  return dsoFromGroups(
    groups.filter((g) => DSO_STATUSES.has(g.status)),
    dates,
  );
}
