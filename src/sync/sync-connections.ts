/**
 * Sync for whole connections: one by organisation (the CLI) or every active one (the 15-minute job). Each
 * connection runs on its own: one that needs reconnecting, is paused or fails never stops the others.
 */
import { type Connector, ENTITIES, type Entity } from "../../connectors/connector";
import type { Deps } from "../deps";
import { runScoring } from "../scoring/run-scoring";
import { warmSummaryLogged } from "../scoring/warm-summary";
import {
  type Connection,
  connectionForOrg,
  listActiveConnections,
  releaseSyncLease,
  takeSyncLease,
} from "../store/connections";
import { listOrgs } from "../store/orgs";
import { emptyCounts } from "../store/upsert";
import { connectionContext, connectorForConnection } from "./context";
import { reconcileOrg } from "./reconcile";
import { runSync, type SyncOptions, type SyncReport, writePage } from "./run-sync";

/** How long a sync lease lasts before another run may take it over (a crashed holder never releases it). */
export const SYNC_LEASE_MS = 15 * 60_000;

/**
 * Syncs one connection while holding its sync lease, so two runs (the cron, a webhook re-pull's backfill, the
 * CLI, another Worker invocation) never sync one connection at once; a run that finds it held answers "busy".
 * A run stopped by `maxPages` (`more: true`) scores nothing yet: the run that finishes the ledger does.
 */
export async function syncConnection(
  deps: Deps,
  conn: Connection,
  opts: SyncOptions = {},
  connector: Connector = connectorForConnection(deps, conn),
): Promise<SyncReport> {
  const owner = crypto.randomUUID();
  const now = deps.clock.now();
  if (!(await takeSyncLease(deps.store.db, conn.id, owner, now + SYNC_LEASE_MS, now)))
    return {
      status: "busy",
      entities: Object.fromEntries(
        ENTITIES.map((e) => [e, { ...emptyCounts(), pages: 0, quarantined: 0 }]),
      ) as SyncReport["entities"],
      error: "another sync of this connection is running",
    };
  const ctx = connectionContext(deps, conn, connector);
  let report: SyncReport;
  try {
    report = await runSync(deps, ctx, connector, opts);
    if (report.status === "ok" && !report.more) await reconcileAfterSync(deps, conn.orgId, connector, ctx);
  } finally {
    await releaseSyncLease(deps.store.db, conn.id, owner);
  }
  if ((report.status === "ok" || report.status === "paused") && !report.more)
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

/** The sync job's fan-out (every 15 minutes): one message per organisation with an active connection. */
export async function syncJobMessages(deps: Deps): Promise<{ job: "sync"; orgId: string }[]> {
  return (await listActiveConnections(deps.store.db)).map((c) => ({ job: "sync" as const, orgId: c.orgId }));
}

/**
 * The sync job for one organisation. With `maxPages` (Workers) a large sync stops after that many pages and
 * says so (`more`), and the caller runs it again (the next queue message) from the saved cursors.
 */
export async function syncOrgJob(
  deps: Deps,
  orgId: string,
  opts: SyncOptions = {},
): Promise<{ status: SyncAllResult["status"]; more: boolean; resumeAt?: Entity }> {
  const conn = await connectionForOrg(deps.store.db, orgId);
  if (conn?.status !== "active") return { status: "ok", more: false };
  try {
    const report = await syncConnection(deps, conn, opts);
    const level =
      report.status === "ok" || report.status === "paused" || report.status === "busy" ? "info" : "warn";
    deps.log[level](
      {
        job: "sync",
        org: orgId,
        provider: conn.provider,
        status: report.status,
        error: report.error,
        more: report.more,
      },
      "sync run",
    );
    return { status: report.status, more: Boolean(report.more), resumeAt: report.resumeAt };
  } catch (err) {
    deps.log.error({ err, job: "sync", connection: conn.id, org: orgId }, "sync failed");
    throw err;
  }
}
