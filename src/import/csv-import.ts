/**
 * CSV ledger import, streamed in one pass over invoices.csv (src/import/csv-run.ts):
 *   1. customers.csv (small) and payments.csv are read first; payments are reduced to per-invoice totals;
 *   2. invoices.csv is validated row by row and, while no row has been bad, written in chunks;
 *   3. payments are checked against their invoices, then written in a second read of payments.csv.
 * If any row anywhere is bad, nothing is written (or what was written is removed before anyone could see it),
 * and every bad row is reported with file, line, column and reason. Re-importing the same files changes
 * nothing; keys are customer_id and invoice_number. Memory holds per-invoice keys and a few numbers.
 *
 * Locking. Into an existing organisation the import runs in one transaction. A first import (a new
 * organisation, where the big files come) builds the organisation under a hidden slug in short paced
 * transactions (store/import-runs.ts), so other writers, in this process or another, wait milliseconds; a last
 * short transaction publishes it under its real slug, and a failure purges it: all or nothing as users see it.
 */
import { UserError } from "../errors";
import { currencyCode, isTimeZone } from "../model";
import type { Store } from "../store/db";
import { orgLedgerVersion, purgeHiddenOrg, staleHiddenOrgs, WritePacer } from "../store/import-runs";
import { findOrgBySlug, type Organisation, SLUG_RE } from "../store/orgs";
import type { DiffState } from "./csv-diff";
import { importRun, type RunState } from "./csv-run";
import { type CsvImportOptions, type CsvImportResult, IssueList, RollBack } from "./csv-types";
import { auditImport } from "./csv-write";

export type { CsvImportResult } from "./csv-types";

/** A dead first import's hidden organisation is purged by the next import after this long. */
const STALE_IMPORT_MS = 6 * 3600_000;

/** The options' own checks, and the organisation to import into (undefined: a new one). */
async function target(store: Store, opts: CsvImportOptions): Promise<Organisation | undefined> {
  if (!SLUG_RE.test(opts.org))
    throw new UserError("bad_slug", `--org "${opts.org}": use lower-case letters, digits and dashes`);
  if (opts.currency && !currencyCode.safeParse(opts.currency).success)
    throw new UserError("bad_currency", `--currency "${opts.currency}": not an ISO 4217 currency code`);
  if (opts.timezone && !isTimeZone(opts.timezone))
    throw new UserError(
      "bad_timezone",
      `--timezone "${opts.timezone}": not an IANA timezone such as Europe/London`,
    );
  const existing = await findOrgBySlug(store.db, opts.org);
  if (existing && existing.provider !== "csv")
    throw new UserError(
      "wrong_provider",
      `organisation ${opts.org} is connected to ${existing.provider}; CSV import is for CSV organisations`,
    );
  return existing;
}

/**
 * Validates every row of every file exactly as an import would and counts what it would import, writing
 * nothing: the browser's check before anything is written. Bad rows come back as an import's would.
 */
export async function checkCsv(store: Store, opts: CsvImportOptions): Promise<CsvImportResult> {
  const existing = await target(store, opts);
  const issues = new IssueList(opts.maxIssues ?? 1000);
  try {
    const summary = await importRun(store, opts, existing, issues, {
      pacer: null,
      hiddenOrgId: null,
      check: true,
    });
    return { ok: true, summary };
  } catch (err) {
    if (err instanceof RollBack) return { ok: false, issues: issues.kept, issueCount: issues.count };
    throw err;
  }
}

export async function importCsv(store: Store, opts: CsvImportOptions): Promise<CsvImportResult> {
  const existing = await target(store, opts);
  const issues = new IssueList(opts.maxIssues ?? 1000);
  if (existing) {
    try {
      // Validate and compare with the store first, holding no lock; then write only what differs.
      const diff: DiffState = { limit: opts.diffLimit ?? 5000, overflow: false, invoices: [] };
      const version = await orgLedgerVersion(store, existing.id);
      await importRun(store, opts, existing, issues, { pacer: null, hiddenOrgId: null, diff });
      const whole = () =>
        importRun(store, opts, existing, new IssueList(opts.maxIssues ?? 1000), {
          pacer: null,
          hiddenOrgId: null,
        });
      const summary = await store.atomically(async () => {
        // Someone else wrote this ledger since the comparison (another import, a dispute): compare again inside
        // this transaction by running the whole import in it.
        if (diff.overflow || (await orgLedgerVersion(store, existing.id)) !== version) return whole();
        if (diff.unchanged) {
          await auditImport(store, existing.id, opts, diff.unchanged);
          return diff.unchanged;
        }
        return diff.apply ? diff.apply() : whole();
      });
      return { ok: true, summary };
    } catch (err) {
      if (err instanceof RollBack) return { ok: false, issues: issues.kept, issueCount: issues.count };
      throw err;
    }
  }

  // A first import: built hidden, in short paced steps, published at the end; purged on any failure.
  const pacer = new WritePacer(store, opts.pace?.holdMs, opts.pace?.gapMs);
  try {
    for (const id of await staleHiddenOrgs(store, opts.now - STALE_IMPORT_MS))
      await purgeHiddenOrg(store, id, pacer);
  } finally {
    await pacer.finish();
  }
  const run: RunState = { pacer, hiddenOrgId: null };
  try {
    const summary = await importRun(store, opts, undefined, issues, run);
    return { ok: true, summary };
  } catch (err) {
    if (run.hiddenOrgId) await purgeHiddenOrg(store, run.hiddenOrgId, pacer);
    if (err instanceof RollBack) return { ok: false, issues: issues.kept, issueCount: issues.count };
    throw err;
  } finally {
    await pacer.finish();
  }
}
