/**
 * Runs the pure monitor over an organisation's stored ledger: load -> score -> store the history -> raise one
 * deterioration alert per episode (in the audit log). The clock is read by the caller and passed as `now`.
 */
import { dateInZone } from "../model";
import { type CustomerScore, isNewEpisode, scoreOrganisation } from "../monitor/index";
import type { Store } from "../store/db";
import { lastAlerts, loadMonitorInput, recordAlert, saveScores } from "../store/monitor";
import type { Organisation } from "../store/orgs";

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
  const input = await loadMonitorInput(store.db, org);
  const results = scoreOrganisation(input, asOf);
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
