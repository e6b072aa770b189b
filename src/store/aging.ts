/** Receivables aging: open invoices by customer and bucket, computed in one SQL pass over the open-invoice index. */
import { sql } from "drizzle-orm";
import { type AgingBucket, addDays, daysBetween } from "../model";
import type { Db } from "./db";
import { contacts, invoices } from "./schema";

export interface CustomerAging {
  contactId: string;
  externalId: string;
  name: string;
  holdState: string;
  currency: string;
  outstandingMinor: number;
  overdueMinor: number;
  buckets: Record<AgingBucket, number>;
  oldestOverdueDays: number;
  openInvoices: number;
}

/**
 * Outstanding and overdue per customer and currency as of `asOf` (ISO date), largest overdue first.
 * Amounts never mix currencies: a customer billed in two currencies has two rows.
 */
export async function agingByCustomer(db: Db, orgId: string, asOf: string): Promise<CustomerAging[]> {
  // Days past due = asOf - due date, so each bucket is a range of due dates: plain text comparisons on the
  // covering index instead of julianday() per row and bucket.
  const due = invoices.dueDate;
  const amount = invoices.amountDueMinor;
  const dueFrom = (days: number) => addDays(asOf, -days); // due on this date = `days` days past due
  const bucket = (lo: number, hi: number | null) =>
    sql<number>`coalesce(sum(case when ${due} <= ${dueFrom(lo)} ${hi === null ? sql`` : sql`and ${due} >= ${dueFrom(hi)}`} then ${amount} else 0 end), 0)`;
  // Grouped first, then joined: one contact lookup per customer and currency rather than per invoice.
  const rows = await db.all<{
    contactId: string;
    externalId: string;
    name: string;
    holdState: string;
    currency: string;
    outstandingMinor: number;
    current: number;
    b1: number;
    b31: number;
    b61: number;
    b90: number;
    oldestDue: string | null;
    openInvoices: number;
  }>(sql`
    select c.id as contactId, c.external_id as externalId, c.name as name, c.hold_state as holdState, g.*
    from (
      select ${invoices.contactId} as cid, ${invoices.currency} as currency, sum(${amount}) as outstandingMinor,
        coalesce(sum(case when ${due} >= ${asOf} then ${amount} else 0 end), 0) as current,
        ${bucket(1, 30)} as b1, ${bucket(31, 60)} as b31, ${bucket(61, 90)} as b61, ${bucket(91, null)} as b90,
        min(case when ${due} < ${asOf} then ${due} end) as oldestDue, count(*) as openInvoices
      from ${invoices}
      where ${invoices.orgId} = ${orgId} and ${invoices.status} in ('authorised', 'submitted') and ${amount} > 0
        and ${invoices.issueDate} <= ${asOf}
      group by ${invoices.contactId}, ${invoices.currency}
    ) g join ${contacts} c on c.id = g.cid`); // grouped on invoice columns, so the open-invoice index serves it
  return rows
    .map((r) => {
      const buckets = { current: r.current, "1-30": r.b1, "31-60": r.b31, "61-90": r.b61, "90+": r.b90 };
      return {
        contactId: r.contactId,
        externalId: r.externalId,
        name: r.name,
        holdState: r.holdState,
        currency: r.currency,
        outstandingMinor: r.outstandingMinor,
        overdueMinor: r.outstandingMinor - r.current,
        buckets,
        oldestOverdueDays: r.oldestDue === null ? 0 : daysBetween(r.oldestDue, asOf),
        openInvoices: r.openInvoices,
      };
    })
    .sort((a, b) => b.overdueMinor - a.overdueMinor || b.outstandingMinor - a.outstandingMinor);
}

export interface OrgTotals {
  currency: string;
  outstandingMinor: number;
  overdueMinor: number;
  customers: number;
}

/** Outstanding and overdue per currency for one organisation. */
export function totalsByCurrency(rows: CustomerAging[]): OrgTotals[] {
  const by = new Map<string, OrgTotals>();
  for (const r of rows) {
    const t = by.get(r.currency) ?? {
      currency: r.currency,
      outstandingMinor: 0,
      overdueMinor: 0,
      customers: 0,
    };
    t.outstandingMinor += r.outstandingMinor;
    t.overdueMinor += r.overdueMinor;
    t.customers += 1;
    by.set(r.currency, t);
  }
  return [...by.values()].sort((a, b) => b.outstandingMinor - a.outstandingMinor);
}
