/**
 * Pull pages from a connector -> write them -> advance the cursor, entity by entity in dependency order.
 * A cursor moves only after its page is stored (in the same transaction on SQLite; on D1 the upserts are
 * idempotent, so replaying a page after a crash changes nothing). A record that cannot be written is
 * quarantined with its reason and the rest of the page goes on.
 */
import { eq } from "drizzle-orm";
import {
  type ConnectionContext,
  type Connector,
  ConnectorError,
  ENTITIES,
  type Entity,
  type PullPage,
  type Quarantined,
} from "../../connectors/connector";
import type { Clock } from "../clock";
import type { Logger } from "../log";
import { getCursor, quarantine, setConnectionStatus, setCursor } from "../store/connections";
import type { Store } from "../store/db";
import {
  addCounts,
  emptyCounts,
  MissingReferenceError,
  type UpsertCounts,
  upsertContacts,
  upsertCreditNotes,
  upsertInvoices,
  upsertPayments,
} from "../store/ledger";
import { connections } from "../store/schema";

export interface SyncDeps {
  store: Store;
  clock: Clock;
  log: Logger;
}

export interface SyncOptions {
  full?: boolean;
  entities?: readonly Entity[];
  onPage?(p: { entity: Entity; pages: number; records: number }): void;
}

export interface EntityReport extends UpsertCounts {
  pages: number;
  quarantined: number;
}

export type SyncStatus = "ok" | "needs_reconnect" | "paused" | "failed";

export interface SyncReport {
  status: SyncStatus;
  entities: Record<Entity, EntityReport>;
  error?: string;
  /** For "paused" (daily budget spent): when to try again. */
  resumeAfterMs?: number;
}

const emptyReport = (): EntityReport => ({ ...emptyCounts(), pages: 0, quarantined: 0 });

type Writer<T> = (store: Store, orgId: string, rows: T[], now: number) => Promise<UpsertCounts>;

/** Writes rows; a row naming something the store lacks is quarantined and the rest are written. */
async function writeWithQuarantine<T extends { externalId: string }>(
  store: Store,
  orgId: string,
  entity: Entity,
  rows: T[],
  write: Writer<T>,
  now: number,
  quarantined: Quarantined[],
): Promise<UpsertCounts> {
  let pending = rows;
  for (;;) {
    try {
      return await write(store, orgId, pending, now);
    } catch (err) {
      if (!(err instanceof MissingReferenceError)) throw err;
      const bad = pending.find((r) => r.externalId === err.externalId);
      if (!bad) throw err;
      quarantined.push({ entity, externalId: bad.externalId, reason: err.message, payload: bad });
      pending = pending.filter((r) => r !== bad);
    }
  }
}

export async function writePage(store: Store, orgId: string, page: PullPage, now: number): Promise<EntityReport> {
  const quarantined: Quarantined[] = [...(page.quarantined ?? [])];
  const counts = emptyCounts();
  await store.atomically(async () => {
    if (page.contacts?.length) addCounts(counts, await upsertContacts(store, orgId, page.contacts, now));
    if (page.invoices?.length)
      addCounts(counts, await writeWithQuarantine(store, orgId, "invoices", page.invoices, upsertInvoices, now, quarantined));
    if (page.payments?.length)
      addCounts(counts, await writeWithQuarantine(store, orgId, "payments", page.payments, upsertPayments, now, quarantined));
    if (page.creditNotes?.length)
      addCounts(
        counts,
        await writeWithQuarantine(store, orgId, "credit_notes", page.creditNotes, upsertCreditNotes, now, quarantined),
      );
    for (const q of quarantined) await quarantine(store.db, { orgId, ...q }, now);
    await setCursor(store.db, orgId, page.entity, page.cursor, now);
  });
  return { ...counts, pages: 1, quarantined: quarantined.length };
}

export async function runSync(
  deps: SyncDeps,
  ctx: ConnectionContext,
  connector: Connector,
  opts: SyncOptions = {},
): Promise<SyncReport> {
  const { store, clock, log } = deps;
  const entities = Object.fromEntries(ENTITIES.map((e) => [e, emptyReport()])) as Record<Entity, EntityReport>;
  const report: SyncReport = { status: "ok", entities };
  try {
    for (const entity of opts.entities ?? ENTITIES) {
      const cursor = opts.full ? null : await getCursor(store.db, ctx.orgId, entity);
      for await (const page of connector.pull(ctx, entity, cursor, { full: opts.full })) {
        const r = await writePage(store, ctx.orgId, page, clock.now());
        const e = entities[entity];
        addCounts(e, r);
        e.pages += 1;
        e.quarantined += r.quarantined;
        opts.onPage?.({ entity, pages: e.pages, records: e.created + e.updated + e.unchanged });
        if (page.done) break;
      }
    }
    await store.db
      .update(connections)
      .set({ lastSyncAt: clock.now(), lastError: null, updatedAt: clock.now() })
      .where(eq(connections.id, ctx.connectionId));
  } catch (err) {
    if (!(err instanceof ConnectorError)) throw err;
    report.error = err.message;
    if (err.kind === "auth_revoked") {
      report.status = "needs_reconnect";
      await setConnectionStatus(store.db, ctx.connectionId, "needs_reconnect", err.message, clock.now());
    } else if (err.kind === "rate_limited") {
      report.status = "paused";
      report.resumeAfterMs = err.details.retryAfterMs;
    } else {
      report.status = "failed";
    }
    await store.db
      .update(connections)
      .set({ lastError: err.message, updatedAt: clock.now() })
      .where(eq(connections.id, ctx.connectionId));
    log.warn({ org: ctx.orgId, kind: err.kind, status: report.status }, `sync stopped: ${err.message}`);
  }
  return report;
}
