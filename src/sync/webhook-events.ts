/**
 * Webhook events, provider-neutral: record each under its stable id (a redelivery is a no-op), then re-pull
 * just the records they name and write them like any sync page (without moving cursors).
 */
import type { Entity } from "../../connectors/connector";
import type { Deps } from "../deps";
import { warmSummaryLogged } from "../scoring/warm-summary";
import { findConnectionByTenant, markWebhookProcessed, recordWebhookEvent } from "../store/connections";
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

/** Re-pulls the records the events name, per tenant (contacts before invoices), and marks them processed. */
export async function repullChanged(deps: Deps, events: ChangeEvent[]): Promise<{ records: number }> {
  let records = 0;
  const byTenant = new Map<string, ChangeEvent[]>();
  for (const e of events) {
    const key = `${e.provider}\u0000${e.tenantId}`;
    byTenant.set(key, [...(byTenant.get(key) ?? []), e]);
  }
  for (const group of byTenant.values()) {
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
        const org =
          changed > 0 ? (await listOrgs(deps.store.db)).find((o) => o.id === conn.orgId) : undefined;
        if (org) await warmSummaryLogged(deps, org, deps.clock.now());
      }
    }
    for (const e of group) await markWebhookProcessed(deps.store.db, e.provider, e.eventId, deps.clock.now());
  }
  return { records };
}
