/**
 * Reconciliation: proves Creditpulse's numbers against the ledger's own. After every sync (and on
 * `creditpulse reconcile`), each customer's outstanding balance as we compute it is compared with the
 * provider's figure for it (CSV organisations: with the import's own totals); within a cent is a match.
 * Mismatches are the sync's alarm: they are logged, and after a sync a mismatched customer and its open
 * invoices are re-read once from the provider before anything is reported.
 */
import type { Clock } from "../clock";
import type { Logger } from "../log";
import { dateInZone } from "../model";
import type { Store } from "../store/db";
import type { Organisation } from "../store/orgs";
import {
  type CustomerFigures,
  importFigures,
  type Mismatch,
  openInvoiceIdsOf,
  providerFigures,
  type Reconciliation,
  saveReconciliation,
} from "../store/reconcile";

/** Figures this far apart (minor units) still match: "within a cent". */
export const RECONCILE_TOLERANCE_MINOR = 1;

export interface ReconcileDeps {
  store: Store;
  clock: Clock;
  log: Logger;
}

export interface ReconcileOptions {
  /**
   * Re-reads these customers (provider contact ids) and invoices (provider invoice ids) from the provider and
   * stores them: called once, for the mismatched customers and their open invoices, before reporting.
   */
  reread?: (contactIds: string[], invoiceIds: string[]) => Promise<void>;
  /** Keep the result for the dashboard banner and the digest (default true). */
  save?: boolean;
}

async function figuresOf(deps: ReconcileDeps, org: Organisation): Promise<CustomerFigures[]> {
  if (org.provider === "csv") return importFigures(deps.store.db, org.id);
  return providerFigures(deps.store.db, org.id, org.baseCurrency, dateInZone(deps.clock.now(), org.timezone));
}

const off = (a: number, b: number) => Math.abs(a - b) > RECONCILE_TOLERANCE_MINOR;

function mismatchesOf(figures: CustomerFigures[]): { mismatched: Mismatch[]; byContact: CustomerFigures[] } {
  const bad = figures.filter((f) => off(f.ours, f.theirs ?? 0));
  return {
    mismatched: bad
      .map((f) => ({ customer_id: f.externalId, ours: f.ours, theirs: f.theirs ?? 0, currency: f.currency }))
      .sort((a, b) => a.customer_id.localeCompare(b.customer_id)),
    byContact: bad,
  };
}

/** Reconciles one organisation; returns exactly what `reconcile --json` prints. */
export async function reconcileOrg(
  deps: ReconcileDeps,
  org: Organisation,
  opts: ReconcileOptions = {},
): Promise<Reconciliation> {
  let figures = await figuresOf(deps, org);
  let { mismatched, byContact } = mismatchesOf(figures);
  const reread = opts.reread;
  if (mismatched.length && reread && org.provider !== "csv") {
    // Once: the customer's balance and its open invoices, as the provider has them now.
    const invoiceIds = await openInvoiceIdsOf(
      deps.store.db,
      byContact.map((f) => f.contactId),
    );
    await reread(
      byContact.map((f) => f.externalId),
      invoiceIds,
    );
    figures = await figuresOf(deps, org);
    ({ mismatched, byContact } = mismatchesOf(figures));
  }
  for (const f of byContact)
    deps.log.warn(
      {
        org: org.slug,
        customer: f.externalId,
        name: f.name,
        ours: f.ours,
        theirs: f.theirs,
        currency: f.currency,
      },
      "reconcile: customer balance differs from the ledger's",
    );
  for (const f of figures)
    if (f.theirsOverdue !== null && off(f.oursOverdue, f.theirsOverdue))
      deps.log.warn(
        {
          org: org.slug,
          customer: f.externalId,
          ours: f.oursOverdue,
          theirs: f.theirsOverdue,
          currency: f.currency,
        },
        "reconcile: customer overdue differs from the ledger's",
      );
  const totals = new Map<string, { ours: number; theirs: number }>();
  for (const f of figures) {
    const t = totals.get(f.currency) ?? { ours: 0, theirs: 0 };
    t.ours += f.ours;
    t.theirs += f.theirs ?? 0;
    totals.set(f.currency, t);
  }
  for (const [currency, t] of totals)
    if (off(t.ours, t.theirs))
      deps.log.warn(
        { org: org.slug, currency, ours: t.ours, theirs: t.theirs },
        "reconcile: receivables total differs from the ledger's",
      );
  const result: Reconciliation = { customers_checked: figures.length, mismatched };
  if (opts.save ?? true) await saveReconciliation(deps.store.db, org.id, result, deps.clock.now());
  return result;
}
