/**
 * Webhook events: record each under its stable id (a redelivery of a done one is a no-op), then re-pull.
 * Xero's events (ChangeEvent) re-pull just the records they name and write them like any sync page (without
 * moving cursors); QuickBooks' re-pull the entities they name through a change-data-capture sync. Both retry
 * with backoff, and an event whose re-pull never succeeded stays unprocessed.
 */
import { type ChangeEvent, ENTITIES, type Entity } from "../../connectors/connector";
import { realSleep, type Sleep } from "../../connectors/limits";
import type { QboWebhookEvent } from "../../connectors/quickbooks/webhook";
import type { Deps } from "../deps";
import { warmSummaryLogged } from "../scoring/warm-summary";
import {
  type Connection,
  findConnectionByTenant,
  markWebhookFailed,
  markWebhookProcessed,
  orgOfConnection,
  recordWebhookEvent,
} from "../store/connections";
import { listOrgs } from "../store/orgs";
import { connectionContext, connectorForConnection } from "./context";
import { quickbooksFor } from "./quickbooks";
import { writePage } from "./run-sync";

/** Records one event under its id, with the organisation of the tenant it names; true when it is work to do. */
async function recordEvent(
  deps: Deps,
  e: { provider: "xero" | "quickbooks"; eventId: string; tenantId: string; payload: unknown },
): Promise<{ isNew: boolean; conn: Connection | undefined }> {
  const conn = await findConnectionByTenant(deps.store.db, e.provider, e.tenantId);
  const isNew = await recordWebhookEvent(
    deps.store.db,
    {
      provider: e.provider,
      eventId: e.eventId,
      orgId: conn?.orgId ?? null,
      payload: JSON.stringify(e.payload),
    },
    deps.clock.now(),
  );
  return { isNew, conn };
}

/** Records events; returns the ones not seen before (duplicates are dropped). */
export async function recordChangeEvents(deps: Deps, events: ChangeEvent[]): Promise<ChangeEvent[]> {
  const fresh: ChangeEvent[] = [];
  for (const e of events) if ((await recordEvent(deps, e)).isNew) fresh.push(e);
  return fresh;
}

/** One QuickBooks connection's re-pull: the entities its fresh events name. */
export interface QuickbooksRepull {
  realmId: string;
  entities: Set<Entity>;
  eventIds: string[];
}

/**
 * Records QuickBooks events (a redelivery of a done one is a no-op) and returns the re-pulls they call for, one
 * per active connection. QuickBooks re-pulls whole entities through CDC rather than named records.
 */
export async function recordQuickbooksEvents(
  deps: Deps,
  events: QboWebhookEvent[],
): Promise<QuickbooksRepull[]> {
  const work = new Map<string, QuickbooksRepull>();
  for (const e of events) {
    const { isNew, conn } = await recordEvent(deps, {
      provider: "quickbooks",
      eventId: e.id,
      tenantId: e.realmId,
      payload: e,
    });
    if (!isNew || !conn || conn.status !== "active" || !e.entity) continue;
    const w = work.get(conn.id) ?? { realmId: e.realmId, entities: new Set<Entity>(), eventIds: [] };
    w.entities.add(e.entity);
    w.eventIds.push(e.id);
    work.set(conn.id, w);
  }
  return quickbooksFor(deps) ? [...work.values()] : [];
}

/**
 * Runs QuickBooks re-pulls: a sync of the named entities per connection, retried with backoff until it succeeds
 * (one that never does stays unprocessed, see repullWithBackoff), then its events are marked processed.
 */
export async function repullQuickbooks(deps: Deps, work: QuickbooksRepull[]): Promise<void> {
  const s = quickbooksFor(deps);
  if (!s) return;
  for (const w of work) {
    const conn = await findConnectionByTenant(deps.store.db, "quickbooks", w.realmId);
    if (conn?.status !== "active") continue;
    const org = await orgOfConnection(deps.store.db, conn);
    await repullWithBackoff(
      deps,
      "quickbooks",
      w.eventIds,
      async () => {
        const report = await s.sync(conn, { entities: ENTITIES.filter((e) => w.entities.has(e)) });
        deps.log.info({ org: org?.slug, status: report.status }, "QuickBooks webhook re-pull done");
        if (report.status !== "ok") throw new Error(report.error ?? `sync ${report.status}`);
        for (const id of w.eventIds)
          await markWebhookProcessed(deps.store.db, "quickbooks", id, deps.clock.now());
        return true;
      },
      { sleep: s.sleep },
    );
  }
}

/**
 * Waits between webhook re-pull attempts: 1 s, 5 s, 30 s, 2 min. An event whose re-pull never succeeded stays
 * unprocessed: a redelivery is done again (not dropped as a duplicate), and the next scheduled sync, which reads
 * every change since the last one, covers it.
 */
export const WEBHOOK_RETRY_DELAYS_MS = [1000, 5000, 30_000, 120_000];

/**
 * Runs one re-pull until it succeeds (`attempt` resolves true), waiting with backoff between tries; each failure
 * is noted on the events (attempts, last error). Returns whether it succeeded.
 */
export async function repullWithBackoff(
  deps: Deps,
  provider: "xero" | "quickbooks",
  eventIds: string[],
  attempt: () => Promise<boolean>,
  opts: { sleep?: Sleep; delaysMs?: readonly number[] } = {},
): Promise<boolean> {
  const delays = opts.delaysMs ?? WEBHOOK_RETRY_DELAYS_MS;
  const sleep = opts.sleep ?? realSleep;
  for (let n = 0; ; n++) {
    let error: string;
    try {
      if (await attempt()) return true;
      error = "the re-pull did not finish";
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    for (const id of eventIds) await markWebhookFailed(deps.store.db, provider, id, error);
    const delay = delays[n];
    deps.log.warn(
      { provider, events: eventIds.length, attempt: n + 1, retryInMs: delay ?? null, error },
      "webhook re-pull failed",
    );
    if (delay === undefined) return false;
    await sleep(delay);
  }
}

/** Re-pulls the records the events name, per tenant (contacts before invoices), and marks them processed. */
export async function repullChanged(
  deps: Deps,
  events: ChangeEvent[],
  opts: { sleep?: Sleep; delaysMs?: readonly number[] } = {},
): Promise<{ records: number }> {
  let records = 0;
  const byTenant = new Map<string, ChangeEvent[]>();
  for (const e of events) {
    const key = `${e.provider}\u0000${e.tenantId}`;
    byTenant.set(key, [...(byTenant.get(key) ?? []), e]);
  }
  for (const group of byTenant.values()) {
    const first = group[0]!;
    const ids = group.map((e) => e.eventId);
    await repullWithBackoff(
      deps,
      first.provider,
      ids,
      async () => {
        records += await repullGroup(deps, group);
        for (const e of group)
          await markWebhookProcessed(deps.store.db, e.provider, e.eventId, deps.clock.now());
        return true;
      },
      opts,
    );
  }
  return { records };
}

async function repullGroup(deps: Deps, group: ChangeEvent[]): Promise<number> {
  let records = 0;
  const first = group[0]!;
  const conn = await findConnectionByTenant(deps.store.db, first.provider, first.tenantId);
  if (conn && conn.status === "active") {
    const connector = connectorForConnection(deps, conn);
    if (connector.fetchChanged) {
      const ctx = connectionContext(deps, conn, connector);
      let changed = 0;
      for (const entity of ["contacts", "invoices"] as const) {
        const ids = [...new Set(group.filter((e) => e.entity === entity).map((e) => e.externalId))];
        if (ids.length === 0) continue;
        for await (const page of connector.fetchChanged(ctx, entity, ids)) {
          const r = await writePage(deps.store, conn.orgId, { ...page, cursorKey: null }, deps.clock.now());
          records += r.created + r.updated + r.unchanged;
          changed += r.created + r.updated;
        }
      }
      // The re-pull changed the ledger: recompute the dashboard's figures now, so its pages find them warm.
      const org = changed > 0 ? (await listOrgs(deps.store.db)).find((o) => o.id === conn.orgId) : undefined;
      if (org) await warmSummaryLogged(deps, org, deps.clock.now());
    }
  }
  return records;
}
