/**
 * The CSV import's public options and results, and the shapes its modules pass each other: the issue list
 * (every bad row, counted, the first few kept), a validated invoice row with the payments it implies, and the
 * roll-back signal.
 */
import type { ColumnMap, DateFormat } from "../../connectors/csv/mapping";
import type { CsvIssue } from "../../connectors/csv/parse";
import type { CanonicalInvoice } from "../model";
import type { UpsertCounts } from "../store/upsert";

export interface CsvImportOptions {
  org: string;
  invoices: string;
  payments?: string;
  customers?: string;
  /** Base currency of a new organisation, and the currency of rows that leave it empty. */
  currency?: string;
  timezone?: string;
  name?: string;
  now: number;
  onProgress?: (p: { phase: "validate" | "write"; rows: number }) => void;
  /** How many issues to keep for the report (all are counted). */
  maxIssues?: number;
  /** Rows per write in the one-transaction mode (an existing organisation). */
  chunkSize?: number;
  /** invoices.csv columns named by the file's own headers (`--map` / `--map-file`): canonical -> file column. */
  map?: ColumnMap;
  /** How dates are written in every file (default YYYY-MM-DD). */
  dateFormat?: DateFormat;
  /** Who imported, when a person did (the browser): the audit row names them; else the actor is the CLI import. */
  member?: { id: string; email: string };
  /** A first import's pacing: longest write step and the pause after it, in ms (defaults 80 and 25). */
  pace?: { holdMs: number; gapMs: number };
  /**
   * A re-import writes only the invoices that differ from the store, in one short transaction, when there are
   * at most this many (default 5000); more, and it is one transaction over the whole file.
   */
  diffLimit?: number;
}

export interface CsvImportRows {
  /** Data rows of invoices.csv. */
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Rows with every field empty (skipped). */
  ignored: number;
}

export interface CsvImportSummary {
  organisation: { slug: string; name: string; created: boolean };
  customers: UpsertCounts;
  invoices: UpsertCounts;
  payments: UpsertCounts;
  /** invoices.csv rows: read = created + updated + unchanged + ignored. */
  rows: CsvImportRows;
  /** Columns of invoices.csv that nothing read (listed, never used). */
  ignoredColumns: string[];
  /** Values Creditpulse filled in, e.g. "customer_name = customer_id". */
  defaults: string[];
}

export type CsvImportResult =
  | { ok: true; summary: CsvImportSummary }
  | { ok: false; issues: CsvIssue[]; issueCount: number };

export class IssueList {
  readonly kept: CsvIssue[] = [];
  count = 0;
  /** The array readers push into; drained into the kept list after each batch. */
  readonly pending: CsvIssue[] = [];
  constructor(private readonly max: number) {}
  drain(): void {
    for (const i of this.pending) {
      this.count++;
      if (this.kept.length < this.max) this.kept.push(i);
    }
    this.pending.length = 0;
  }
  add(i: CsvIssue): void {
    this.pending.push(i);
    this.drain();
  }
}

/** Thrown inside the transaction to roll it back when validation found bad rows. */
export class RollBack extends Error {}

/** A payment an invoice row implies (its `#paid` payment, or its payments.csv rows). */
export interface ExpectedPayment {
  externalId: string;
  amountMinor: number;
  date: string;
}

export interface ChunkItem {
  line: number;
  inv: CanonicalInvoice;
  expectedPayments: ExpectedPayment[];
  disputed: boolean | undefined;
}

/** Per customer, as invoices.csv names them (the last name and addresses given win). */
export type InvoiceCustomers = Map<string, { name: string; emails: string[]; line: number }>;
