/**
 * Reconciliation figures: what each customer owes as Creditpulse computes it from the stored ledger, beside
 * the ledger's own figure for it.
 *
 * - Connected ledgers (Xero, QuickBooks): ours = open invoices' amount due - unused credit (credit notes,
 *   overpayments, prepayments: their remaining credit) - payments not applied to an invoice; theirs = the
 *   provider's own balance kept on the contact at sync (Xero Balances.AccountsReceivable.Outstanding, QuickBooks
 *   Customer.Balance). Xero's Overdue is compared too (ours = amount due of open invoices due before today).
 * - CSV organisations: ours = the open invoices' amount due as imported; theirs = the import's own totals,
 *   invoice totals less the payments and credits allocated to them.
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "./db";
import { reconciliations } from "./schema";

export interface CustomerFigures {
  contactId: string;
  externalId: string;
  name: string;
  currency: string;
  ours: number;
  theirs: number | null;
  oursOverdue: number;
  theirsOverdue: number | null;
}

/** Per customer of a connected ledger: our outstanding and overdue, and the provider's (null = not reported). */
export async function providerFigures(
  db: Db,
  orgId: string,
  baseCurrency: string,
  today: string,
): Promise<CustomerFigures[]> {
  const rows = await db.all<{
    id: string;
    externalId: string;
    name: string;
    theirs: number | null;
    theirsOverdue: number | null;
    currency: string | null;
    due: number;
    overdue: number;
    credit: number;
    unapplied: number;
  }>(sql`
    select c.id as id, c.external_id as externalId, c.name as name,
      c.provider_balance_minor as theirs, c.provider_overdue_minor as theirsOverdue,
      c.provider_balance_currency as currency,
      coalesce((select sum(i.amount_due_minor) from invoices i
        where i.contact_id = c.id and i.status in ('authorised', 'submitted')), 0) as due,
      coalesce((select sum(i.amount_due_minor) from invoices i
        where i.contact_id = c.id and i.status in ('authorised', 'submitted') and i.due_date < ${today}), 0) as overdue,
      coalesce((select sum(n.remaining_minor) from credit_notes n
        where n.contact_id = c.id and n.status in ('authorised', 'submitted')), 0) as credit,
      coalesce((select sum(max(0, p.amount_minor - coalesce((select sum(pa.amount_minor) from payment_allocations pa
          where pa.payment_id = p.id), 0)))
        from payments p where p.contact_id = c.id and p.deleted = 0), 0) as unapplied
    from contacts c
    where c.org_id = ${orgId}`);
  const out: CustomerFigures[] = [];
  for (const r of rows) {
    const ours = r.due - r.credit - r.unapplied;
    // A contact the ledger gives no figure for and that owes nothing by our count has nothing to check.
    if (r.theirs === null && ours === 0) continue;
    out.push({
      contactId: r.id,
      externalId: r.externalId,
      name: r.name,
      currency: r.currency ?? baseCurrency,
      ours,
      theirs: r.theirs,
      oursOverdue: r.overdue,
      theirsOverdue: r.theirsOverdue,
    });
  }
  return out;
}

/** Per customer and currency of a CSV organisation: open amount due as imported vs the import's own totals. */
export async function importFigures(db: Db, orgId: string): Promise<CustomerFigures[]> {
  const rows = await db.all<{
    id: string;
    externalId: string;
    name: string;
    currency: string;
    ours: number;
    theirs: number;
  }>(sql`
    select c.id as id, c.external_id as externalId, c.name as name, i.currency as currency,
      sum(case when i.status in ('authorised', 'submitted') then i.amount_due_minor else 0 end) as ours,
      sum(max(0, i.total_minor
        - coalesce((select sum(pa.amount_minor) from payment_allocations pa join payments p on p.id = pa.payment_id
            where pa.invoice_id = i.id and p.deleted = 0), 0)
        - coalesce((select sum(ca.amount_minor) from credit_note_allocations ca where ca.invoice_id = i.id), 0)
        - case when not exists (select 1 from payment_allocations pa where pa.invoice_id = i.id)
               then i.amount_paid_minor else 0 end
        - case when not exists (select 1 from credit_note_allocations ca where ca.invoice_id = i.id)
               then i.amount_credited_minor else 0 end)) as theirs
    from invoices i join contacts c on c.id = i.contact_id
    where i.org_id = ${orgId} and i.status not in ('void', 'deleted', 'draft')
    group by c.id, i.currency`);
  return rows.map((r) => ({
    contactId: r.id,
    externalId: r.externalId,
    name: r.name,
    currency: r.currency,
    ours: r.ours,
    theirs: r.theirs,
    oursOverdue: 0,
    theirsOverdue: null,
  }));
}

export interface Mismatch {
  customer_id: string;
  ours: number;
  theirs: number;
  currency: string;
}

export interface Reconciliation {
  customers_checked: number;
  mismatched: Mismatch[];
}

export type StoredReconciliation = typeof reconciliations.$inferSelect;

export async function saveReconciliation(db: Db, orgId: string, r: Reconciliation, now: number) {
  await db
    .insert(reconciliations)
    .values({ orgId, checkedAt: now, customersChecked: r.customers_checked, mismatched: r.mismatched })
    .onConflictDoUpdate({
      target: reconciliations.orgId,
      set: { checkedAt: now, customersChecked: r.customers_checked, mismatched: r.mismatched },
    });
}

/** The organisation's last reconciliation (undefined = never reconciled). */
export async function lastReconciliation(db: Db, orgId: string): Promise<StoredReconciliation | undefined> {
  return (await db.select().from(reconciliations).where(eq(reconciliations.orgId, orgId)).limit(1))[0];
}

/** External ids of these customers' open invoices (re-read once before a mismatch is reported). */
export async function openInvoiceIdsOf(db: Db, contactIds: string[]): Promise<string[]> {
  const out: string[] = [];
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < contactIds.length; i += 90) {
    const chunk = contactIds.slice(i, i + 90);
    const rows = await db.all<{ externalId: string }>(sql`
      select external_id as externalId from invoices
      where status in ('authorised', 'submitted') and contact_id in (${sql.join(
        chunk.map((id) => sql`${id}`),
        sql`, `,
      )})`);
    out.push(...rows.map((r) => r.externalId));
  }
  return out;
}
