/** Receivables aging: open invoices by customer and bucket, computed in one SQL pass. */
import { and, eq, sql } from "drizzle-orm";
import type { AgingBucket } from "../model";
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

/** Invoices that still ask to be paid. */
export const OPEN_STATUSES = ["authorised", "submitted"] as const;

/**
 * Outstanding and overdue per customer and currency as of `asOf` (ISO date), largest overdue first.
 * Amounts never mix currencies: a customer billed in two currencies has two rows.
 */
export async function agingByCustomer(db: Db, orgId: string, asOf: string): Promise<CustomerAging[]> {
  const late = sql`(julianday(${asOf}) - julianday(${invoices.dueDate}))`;
  const bucket = (lo: number, hi: number | null) =>
    sql<number>`coalesce(sum(case when ${late} >= ${lo} ${hi === null ? sql`` : sql`and ${late} <= ${hi}`} then ${invoices.amountDueMinor} else 0 end), 0)`;
  const rows = await db
    .select({
      contactId: contacts.id,
      externalId: contacts.externalId,
      name: contacts.name,
      holdState: contacts.holdState,
      currency: invoices.currency,
      outstandingMinor: sql<number>`sum(${invoices.amountDueMinor})`,
      current: sql<number>`coalesce(sum(case when ${late} <= 0 then ${invoices.amountDueMinor} else 0 end), 0)`,
      b1: bucket(1, 30),
      b31: bucket(31, 60),
      b61: bucket(61, 90),
      b90: bucket(91, null),
      oldestOverdueDays: sql<number>`coalesce(max(case when ${late} > 0 then ${late} end), 0)`,
      openInvoices: sql<number>`count(*)`,
    })
    .from(invoices)
    .innerJoin(contacts, eq(contacts.id, invoices.contactId))
    .where(
      and(
        eq(invoices.orgId, orgId),
        sql`${invoices.status} in ('authorised', 'submitted')`,
        sql`${invoices.amountDueMinor} > 0`,
        sql`${invoices.issueDate} <= ${asOf}`,
      ),
    )
    .groupBy(invoices.contactId, invoices.currency); // invoice columns, so the open-invoice index serves the grouping
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
        oldestOverdueDays: Math.round(r.oldestOverdueDays),
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
