/**
 * Webhook events, provider-neutral: record each under its stable id (a redelivery is a no-op), then re-pull
 * just the records they name and write them like any sync page (without moving cursors).
 */
import type { Entity } from "../../connectors/connector";
import type { Deps } from "../deps";
import { warmSummaryLogged } from "../scoring/warm-summary";
import {
  findConnectionByTenant,
  markWebhookFailed,
  markWebhookProcessed,
  recordWebhookEvent,
} from "../store/connections";
import { listOrgs } from "../store/orgs";
import { connectionContext, connectorForConnection } from "./context";
import { writePage } from "./run-sync";

export interface ChangeEvent {
  provider: "xero" | "quickbooks";
  /** Stable id: the same change delivered twice has the same id. */
  eventId: string;
  tenantId: string;
  entity: Extract<Entity, "invoices" | "contacts">;
  externalId: string;
  payload: unknown;
}

/** Records events; returns the ones not seen before (duplicates are dropped). */
export async function recordChangeEvents(deps: Deps, events: ChangeEvent[]): Promise<ChangeEvent[]> {
  const fresh: ChangeEvent[] = [];
  for (const e of events) {
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
    if (isNew) fresh.push(e);
  }
  return fresh;
}

/**
 * Waits between webhook re-pull attempts: 1 s, 5 s, 30 s, 2 min. An event whose re-pull never succeeded stays
 * unprocessed: a redelivery is done again (not dropped as a duplicate), and the next scheduled sync, which reads
 * every change since the last one, covers it.
 */
export const WEBHOOK_RETRY_DELAYS_MS = [1000, 5000, 30_000, 120_000];

type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
