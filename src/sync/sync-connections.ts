/**
 * Sync for whole connections: one by organisation (the CLI) or every active one (the 15-minute job). Each
 * connection runs on its own: one that needs reconnecting, is paused or fails never stops the others.
 */
import type { Connector } from "../../connectors/connector";
import type { Deps } from "../deps";
import { runScoring } from "../scoring/run-scoring";
import { warmSummaryLogged } from "../scoring/warm-summary";
import { type Connection, connectionForOrg, listActiveConnections } from "../store/connections";
import { listOrgs } from "../store/orgs";
import { connectionContext, connectorForConnection } from "./context";
import { reconcileOrg } from "./reconcile";
import { runSync, type SyncOptions, type SyncReport, writePage } from "./run-sync";

export async function syncConnection(
  deps: Deps,
  conn: Connection,
  opts: SyncOptions = {},
  connector: Connector = connectorForConnection(deps, conn),
): Promise<SyncReport> {
  const ctx = connectionContext(deps, conn, connector);
  const report = await runSync(deps, ctx, connector, opts);
  if (report.status === "ok") await reconcileAfterSync(deps, conn.orgId, connector, ctx);
  if (report.status === "ok" || report.status === "paused")
    await afterSync(deps, conn.orgId, deps.clock.now());
  return report;
}

/** The sync's alarm: every customer's balance against the ledger's own (re-reading mismatches once). */
async function reconcileAfterSync(
  deps: Deps,
  orgId: string,
  connector: Connector,
  ctx: ReturnType<typeof connectionContext>,
): Promise<void> {
  const org = (await listOrgs(deps.store.db)).find((o) => o.id === orgId);
  if (!org) return;
  try {
    const reread = connector.fetchChanged
      ? async (contactIds: string[], invoiceIds: string[]) => {
          const pulls = [
            ["contacts", contactIds],
            ["invoices", invoiceIds],
          ] as const;
          for (const [entity, ids] of pulls) {
            if (ids.length === 0) continue;
            for await (const page of connector.fetchChanged!(ctx, entity, ids))
              await writePage(deps.store, orgId, { ...page, cursorKey: null }, deps.clock.now());
          }
        }
      : undefined;
    const r = await reconcileOrg(deps, org, { reread });
    const level = r.mismatched.length ? "warn" : "info";
    deps.log[level](
      { org: org.slug, customers: r.customers_checked, mismatched: r.mismatched.length },
      "reconciled after sync",
    );
  } catch (err) {
    // A reconciliation failure must not turn a good sync into a failed one.
    deps.log.error({ err, org: org.slug }, "reconciliation after sync failed");
  }
}

/**
 * Scores run after each sync, so the dashboard and alerts follow the ledger within minutes; then the
 * dashboard's figures are recomputed for the new ledger, so its pages find them warm.
 */
async function afterSync(deps: Deps, orgId: string, now: number): Promise<void> {
  const org = (await listOrgs(deps.store.db)).find((o) => o.id === orgId);
  if (!org) return;
  try {
    const r = await runScoring(deps.store, org, { now });
    deps.log.info(
      { org: org.slug, customers: r.results.length, newlyDeteriorating: r.newAlerts.length },
      "scored after sync",
    );
  } catch (err) {
    // A scoring failure must not turn a good sync into a failed one.
    deps.log.error({ err, org: org.slug }, "scoring after sync failed");
  }
  await warmSummaryLogged(deps, org, now);
}

export async function syncOrgConnection(
  deps: Deps,
  orgId: string,
  opts: SyncOptions = {},
): Promise<{ connection: Connection; report: SyncReport } | undefined> {
  const connection = await connectionForOrg(deps.store.db, orgId);
  if (!connection) return undefined;
  return { connection, report: await syncConnection(deps, connection, opts) };
}

export interface SyncAllResult {
  connectionId: string;
  orgId: string;
  provider: string;
  status: SyncReport["status"] | "error";
  error?: string;
}

/** Syncs every active connection, one after another (each tenant has its own rate limits anyway). */
export async function syncAllActive(deps: Deps, opts: SyncOptions = {}): Promise<SyncAllResult[]> {
  const results: SyncAllResult[] = [];
  for (const conn of await listActiveConnections(deps.store.db)) {
    const base = { connectionId: conn.id, orgId: conn.orgId, provider: conn.provider };
    try {
      const report = await syncConnection(deps, conn, opts);
      results.push({ ...base, status: report.status, ...(report.error ? { error: report.error } : {}) });
    } catch (err) {
      deps.log.error({ err, connection: conn.id, org: conn.orgId }, "sync failed");
      results.push({ ...base, status: "error", error: err instanceof Error ? err.message : String(err) });
    }
  }
  return results;
}

/** The `sync` job (every 15 minutes): every active connection, each on its own. */
export async function runSyncJob({ deps }: { deps: Deps; now: number }): Promise<void> {
  const results = await syncAllActive(deps);
  for (const r of results) {
    const level = r.status === "ok" || r.status === "paused" ? "info" : "warn";
    deps.log[level](
      { job: "sync", org: r.orgId, provider: r.provider, status: r.status, error: r.error },
      "sync run",
    );
  }
  if (results.length === 0) deps.log.info({ job: "sync" }, "no active ledger connections: nothing to sync");
}
