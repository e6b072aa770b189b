/**
 * Pull pages from a connector -> write them -> advance the cursor, entity by entity in dependency order.
 * A cursor moves only after its page is stored (in the same transaction on SQLite; on D1 the upserts are
 * idempotent, so replaying a page after a crash changes nothing). A record that cannot be written is
 * quarantined with its reason and the rest of the page goes on.
 *
 * When the provider's daily budget is spent the run stops with status "paused" (not "failed"), the connection
 * remembers until when, and later runs skip it until then; its cursors are kept, so it resumes where it
 * stopped. Now and then (default daily) a connector that has `reconcile` sweeps open invoices for changes the
 * provider does not report as modifications.
 */
import { and, eq, inArray, ne } from "drizzle-orm";
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
import {
  getConnection,
  getCursor,
  quarantine,
  setConnectionStatus,
  setCursor,
  setSyncPausedUntil,
} from "../store/connections";
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
import { connections, invoices } from "../store/schema";

export interface SyncDeps {
  store: Store;
  clock: Clock;
  log: Logger;
}

export interface SyncOptions {
  full?: boolean;
  entities?: readonly Entity[];
  onPage?(p: { entity: Entity | "sweep"; pages: number; records: number; estimatedTotal?: number }): void;
  /** Sweep open invoices: true = now, false = never, undefined = when the last sweep is older than sweepEveryMs. */
  sweep?: boolean;
  /** Default 24 hours. */
  sweepEveryMs?: number;
  /** Run even when the connection is paused for its daily budget. */
  ignorePause?: boolean;
}

export interface EntityReport extends UpsertCounts {
  pages: number;
  quarantined: number;
}

export type SyncStatus = "ok" | "needs_reconnect" | "paused" | "failed";

export interface SyncReport {
  status: SyncStatus;
  entities: Record<Entity, EntityReport>;
  /** The open-invoice sweep, when one ran. */
  sweep?: EntityReport;
  error?: string;
  /** For "paused" (daily budget spent): when to try again. */
  resumeAfterMs?: number;
}

/** Where the time of the last open-invoice sweep is kept (sync_cursors). */
export const SWEEP_CURSOR = "invoices:sweep";
const DAY = 86_400_000;

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

/**
 * Writes one page and, in the same transaction, its cursor (under `page.cursorKey ?? page.entity`; a null
 * cursorKey stores none). Contacts keep their credit limit and timezone unless the page carries them.
 */
export async function writePage(
  store: Store,
  orgId: string,
  page: PullPage,
  now: number,
): Promise<EntityReport> {
  const quarantined: Quarantined[] = [...(page.quarantined ?? [])];
  const counts = emptyCounts();
  await store.atomically(async () => {
    if (page.contacts?.length) {
      const withLimits = page.contacts.some(
        (c) => c.creditLimitMinor !== undefined || c.timezone !== undefined,
      );
      addCounts(counts, await upsertContacts(store, orgId, page.contacts, now, { withLimits }));
    }
    if (page.invoices?.length)
      addCounts(
        counts,
        await writeWithQuarantine(store, orgId, "invoices", page.invoices, upsertInvoices, now, quarantined),
      );
    if (page.payments?.length)
      addCounts(
        counts,
        await writeWithQuarantine(store, orgId, "payments", page.payments, upsertPayments, now, quarantined),
      );
    if (page.creditNotes?.length)
      addCounts(
        counts,
        await writeWithQuarantine(
          store,
          orgId,
          "credit_notes",
          page.creditNotes,
          upsertCreditNotes,
          now,
          quarantined,
        ),
      );
    for (const q of quarantined) await quarantine(store.db, { orgId, ...q }, now);
    const key = page.cursorKey === undefined ? page.entity : page.cursorKey;
    if (key !== null) await setCursor(store.db, orgId, key, page.cursor, now);
  });
  return { ...counts, pages: 1, quarantined: quarantined.length };
}

/** External ids of the invoices the store holds as open (authorised or submitted, something still due). */
export async function openInvoiceExternalIds(store: Store, orgId: string): Promise<string[]> {
  const rows = await store.db
    .select({ externalId: invoices.externalId })
    .from(invoices)
    .where(
      and(
        eq(invoices.orgId, orgId),
        inArray(invoices.status, ["authorised", "submitted"]),
        ne(invoices.amountDueMinor, 0),
      ),
    );
  return rows.map((r) => r.externalId);
}

function addPage(into: EntityReport, r: EntityReport) {
  addCounts(into, r);
  into.pages += 1;
  into.quarantined += r.quarantined;
}

export async function runSync(
  deps: SyncDeps,
  ctx: ConnectionContext,
  connector: Connector,
  opts: SyncOptions = {},
): Promise<SyncReport> {
  const { store, clock, log } = deps;
  const entities = Object.fromEntries(ENTITIES.map((e) => [e, emptyReport()])) as Record<
    Entity,
    EntityReport
  >;
  const report: SyncReport = { status: "ok", entities };
  const conn = await getConnection(store.db, ctx.connectionId);
  const pausedUntil = conn?.syncPausedUntil ?? null;
  if (pausedUntil !== null && pausedUntil > clock.now() && !opts.ignorePause) {
    report.status = "paused";
    report.resumeAfterMs = pausedUntil - clock.now();
    report.error = "daily API budget used up; sync resumes when it renews";
    return report;
  }
  try {
    for (const entity of opts.entities ?? ENTITIES) {
      const cursor = opts.full ? null : await getCursor(store.db, ctx.orgId, entity);
      for await (const page of connector.pull(ctx, entity, cursor, { full: opts.full })) {
        const e = entities[entity];
        addPage(e, await writePage(store, ctx.orgId, page, clock.now()));
        opts.onPage?.({
          entity,
          pages: e.pages,
          records: e.created + e.updated + e.unchanged + e.quarantined,
          estimatedTotal: page.estimatedTotal,
        });
        if (page.done) break;
      }
    }
    if (connector.reconcile && (opts.entities ?? ENTITIES).includes("invoices")) {
      // No sweep time yet = the first (backfill) sync, which reads every invoice anyway.
      const lastText = await getCursor(store.db, ctx.orgId, SWEEP_CURSOR);
      const last = lastText === null ? null : Number(lastText);
      const due =
        opts.sweep ??
        (last !== null &&
          !opts.full &&
          !(Number.isFinite(last) && clock.now() - last < (opts.sweepEveryMs ?? DAY)));
      if (due) {
        const sweep = emptyReport();
        report.sweep = sweep;
        for await (const page of connector.reconcile(ctx, () => openInvoiceExternalIds(store, ctx.orgId))) {
          addPage(sweep, await writePage(store, ctx.orgId, page, clock.now()));
          opts.onPage?.({
            entity: "sweep",
            pages: sweep.pages,
            records: sweep.created + sweep.updated + sweep.unchanged,
          });
        }
      }
      if (due || last === null || opts.full)
        await setCursor(store.db, ctx.orgId, SWEEP_CURSOR, String(clock.now()), clock.now());
    }
    await store.db
      .update(connections)
      .set({ lastSyncAt: clock.now(), lastError: null, syncPausedUntil: null, updatedAt: clock.now() })
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
      if (err.details.retryAfterMs !== undefined)
        await setSyncPausedUntil(
          store.db,
          ctx.connectionId,
          clock.now() + err.details.retryAfterMs,
          clock.now(),
        );
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
