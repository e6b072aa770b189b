/**
 * Runs the pure monitor over an organisation's stored ledger: load -> score -> store the history -> raise one
 * deterioration alert per episode (in the audit log). The clock is read by the caller and passed as `now`.
 */
import { addDays, dateInZone, type IsoDate } from "../model";
import { applyBrokenPromises, type CustomerScore, isNewEpisode, scoreOrganisation } from "../monitor/index";
import type { Store } from "../store/db";
import { loadMonitorInput } from "../store/monitor-input";
import type { Organisation } from "../store/orgs";
import { brokenPromises, flagBrokenPromises } from "../store/pauses";
import { lastAlerts, recordAlert, saveScores } from "../store/scores";

/** How long a broken promise to pay stays among a customer's score reasons. */
const BROKEN_PROMISE_DAYS = 90;

/**
 * Adds "broke a promise to pay" to the reasons of customers whose promise (customers' page) fell due in the 90
 * days before `asOf` with the invoice unpaid, and lowers their score (monitor/score.ts applyBrokenPromises).
 */
async function addBrokenPromiseReasons(
  store: Store,
  org: Organisation,
  asOf: IsoDate,
  results: CustomerScore[],
) {
  const from = addDays(asOf, -BROKEN_PROMISE_DAYS);
  const byContact = new Map<string, string[]>();
  for (const b of await brokenPromises(store.db, org.id)) {
    const d = (b.detail ?? {}) as { promisedBy?: string; invoiceNumber?: string };
    if (!b.contactId || !d.promisedBy || d.promisedBy >= asOf || d.promisedBy < from) continue;
    const list = byContact.get(b.contactId) ?? [];
    list.push(`${d.invoiceNumber ?? "an invoice"} by ${d.promisedBy}`);
    byContact.set(b.contactId, list);
  }
  for (let i = 0; i < results.length; i++) {
    const broken = byContact.get(results[i]!.contact_id);
    if (broken) results[i] = applyBrokenPromises(results[i]!, broken);
  }
  results.sort((a, b) => a.score - b.score);
}

export interface ScoringResult {
  asOf: string;
  results: CustomerScore[];
  /** Customers newly flagged as deteriorating by this run. */
  newAlerts: CustomerScore[];
}

export async function runScoring(
  store: Store,
  org: Organisation,
  opts: { now: number; asOf?: string; save?: boolean },
): Promise<ScoringResult> {
  const asOf = opts.asOf ?? dateInZone(opts.now, org.timezone);
  const input = await loadMonitorInput(store.db, org, undefined, asOf);
  const results = scoreOrganisation(input, asOf);
  // Promises to pay (customers' page) whose date passed unpaid: flagged once, also when no reminders run.
  if ((opts.save ?? true) && !opts.asOf) await flagBrokenPromises(store, org, asOf, opts.now);
  await addBrokenPromiseReasons(store, org, asOf, results);
  const newAlerts: CustomerScore[] = [];
  if (opts.save ?? true) {
    await store.atomically(async () => {
      await saveScores(store.db, org.id, asOf, results, opts.now);
      const deteriorating = results.filter((r) => r.trend === "deteriorating");
      const last = await lastAlerts(
        store.db,
        org.id,
        deteriorating.map((r) => r.contact_id),
      );
      for (const r of deteriorating) {
        if (!isNewEpisode(last.get(r.contact_id), r)) continue;
        await recordAlert(store.db, org.id, r, asOf, opts.now);
        newAlerts.push(r);
      }
    });
  }
  return { asOf, results, newAlerts };
}
