/**
 * What the CSV import writes besides plain upserts: invoice slices with their imported dispute flags, the
 * retiring of payments the files no longer list, the summary it reports, and its audit row.
 */
import type { CsvFileStats } from "../../connectors/csv/parse";
import type { CanonicalInvoice } from "../model";
import { audit } from "../store/audit";
import type { Store } from "../store/db";
import { retireStalePayments } from "../store/import-payments";
import { applyImportedDisputes } from "../store/import-runs";
import { upsertInvoiceOutcomes } from "../store/ledger";
import type { UpsertCounts } from "../store/upsert";
import type { CsvImportOptions, CsvImportSummary, ExpectedPayment } from "./csv-types";

/** Created / updated / unchanged per kind of record. */
export interface ImportCounts {
  customers: UpsertCounts;
  invoices: UpsertCounts;
  payments: UpsertCounts;
}

/**
 * Writes a slice of invoices with their imported dispute flags and counts each invoice's outcome (a changed
 * dispute flag is an update of that invoice). The first import's paced steps and a re-import's one write share it.
 */
export async function writeInvoicePart(
  store: Store,
  orgId: string,
  part: { inv: CanonicalInvoice; disputed?: boolean | null }[],
  now: number,
  contacts: Map<string, string> | undefined,
  counts: UpsertCounts,
): Promise<void> {
  const outcomes = await upsertInvoiceOutcomes(
    store,
    orgId,
    part.map((p) => p.inv),
    now,
    contacts,
  );
  const yes = part.filter((p) => p.disputed === true).map((p) => p.inv.externalId);
  const no = part.filter((p) => p.disputed === false).map((p) => p.inv.externalId);
  const flagged = yes.length || no.length ? await applyImportedDisputes(store, orgId, yes, no, now) : null;
  part.forEach((p, k) => {
    let outcome = outcomes[k]!.outcome;
    if (outcome === "unchanged" && flagged?.has(p.inv.externalId)) outcome = "updated";
    counts[outcome]++;
  });
}

/**
 * Payments an earlier import wrote for these invoices but that the files no longer list (a payment row removed,
 * or payments.csv now given instead of paid_date) are marked deleted and stop paying the invoice.
 */
export function retirePaymentsNotListed(
  store: Store,
  orgId: string,
  chunk: { inv: CanonicalInvoice; expectedPayments: ExpectedPayment[] }[],
  now: number,
): Promise<number> {
  return retireStalePayments(
    store,
    orgId,
    chunk.map((c) => c.inv.externalId),
    new Set(chunk.flatMap((c) => c.expectedPayments.map((e) => e.externalId))),
    now,
  );
}

/** The import's report: counts, invoices.csv's row tally, unread columns and filled-in values. */
export function importSummary(
  opts: CsvImportOptions,
  org: { name: string; created: boolean },
  c: ImportCounts,
  invStats: CsvFileStats,
  defaults: Set<string>,
): CsvImportSummary {
  return {
    organisation: { slug: opts.org, name: org.name, created: org.created },
    customers: c.customers,
    invoices: c.invoices,
    payments: c.payments,
    rows: {
      read: invStats.rows,
      created: c.invoices.created,
      updated: c.invoices.updated,
      unchanged: c.invoices.unchanged,
      ignored: invStats.blankRows,
    },
    ignoredColumns: invStats.ignoredColumns,
    defaults: [...defaults],
  };
}

export async function auditImport(
  store: Store,
  orgId: string,
  opts: CsvImportOptions,
  summary: CsvImportSummary,
) {
  await audit(
    store.db,
    {
      orgId,
      actor: opts.member ? `user:${opts.member.id}` : "import:csv",
      action: "ledger.imported",
      detail: {
        files: [opts.invoices, opts.payments, opts.customers].filter(Boolean),
        ...summary,
        ...(opts.member ? { by: opts.member.email } : {}),
      },
    },
    opts.now,
  );
}
