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
import type { CanonicalContact, CanonicalCreditNote, CanonicalInvoice, CanonicalPayment } from "../model";
import {
  getConnection,
  getCursor,
  hasQuarantined,
  listQuarantined,
  markWebhooksCoveredBySync,
  quarantine,
  recordSyncError,
  recordSyncSuccess,
  releaseQuarantine,
  setConnectionStatus,
  setCursor,
  setSyncPausedUntil,
} from "../store/connections";
import { upsertContacts } from "../store/contacts";
import type { Store } from "../store/db";
import { openInvoiceExternalIds } from "../store/known-records";
import {
  missingReferences,
  settlePaidOnFromAllocations,
  upsertCreditNotes,
  upsertInvoices,
  upsertPayments,
} from "../store/ledger";
import { addCounts, emptyCounts, type UpsertCounts } from "../store/upsert";

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
  /**
   * Stop after this many pages (a Worker invocation's budget): the cursors are saved page by page, so the
   * next run continues where this one stopped. The report then says `more: true`.
   */
  maxPages?: number;
  /** Continue a run stopped by `maxPages`: skip the entities before this one (their pages are stored). */
  resumeAt?: Entity;
}

export interface EntityReport extends UpsertCounts {
  pages: number;
  quarantined: number;
}

/** "busy": another run holds the connection's sync lease; nothing was read. */
export type SyncStatus = "ok" | "needs_reconnect" | "paused" | "failed" | "busy";

export interface SyncReport {
  status: SyncStatus;
  entities: Record<Entity, EntityReport>;
  /** Quarantined records retried at the end of the run. */
  retried?: EntityReport;
  /** The open-invoice sweep, when one ran. */
  sweep?: EntityReport;
  error?: string;
  /** For "paused" (daily budget spent): when to try again. */
  resumeAfterMs?: number;
  /** Stopped at `maxPages` with more to read: run again with `resumeAt` to continue from the saved cursors. */
  more?: boolean;
  /** With `more`: the entity to resume at. */
  resumeAt?: Entity;
}

/** Where the time of the last open-invoice sweep is kept (sync_cursors). */
export const SWEEP_CURSOR = "invoices:sweep";
const DAY = 86_400_000;

const emptyReport = (): EntityReport => ({ ...emptyCounts(), pages: 0, quarantined: 0 });

type Writer<T> = (store: Store, orgId: string, rows: T[], now: number) => Promise<UpsertCounts>;
type RefEntity = "invoices" | "payments" | "credit_notes";

/** What a quarantine entry keeps of a record that mapped but named something the store lacked: retried as is. */
interface CanonicalQuarantine {
  canonical: unknown;
}

/**
 * Writes rows whole or not at all: a row naming something the store lacks (found before anything is written,
 * so no half-written record stays behind, on D1 too) is quarantined with the canonical record, and the rest
 * are written.
 */
async function writeWithQuarantine<T extends CanonicalInvoice | CanonicalPayment | CanonicalCreditNote>(
  store: Store,
  orgId: string,
  entity: RefEntity,
  rows: T[],
  write: Writer<T>,
  now: number,
  quarantined: Quarantined[],
): Promise<{ counts: UpsertCounts; written: string[] }> {
  const missing = await missingReferences(store, orgId, entity, rows);
  for (const r of rows) {
    const reason = missing.get(r.externalId);
    if (reason)
      quarantined.push({
        entity,
        externalId: r.externalId,
        reason,
        payload: { canonical: r } satisfies CanonicalQuarantine,
      });
  }
  const pending = rows.filter((r) => !missing.has(r.externalId));
  return { counts: await write(store, orgId, pending, now), written: pending.map((r) => r.externalId) };
}

/**
 * Writes one page and, in the same transaction, its cursor (under `page.cursorKey ?? page.entity`; a null
 * cursorKey stores none). Contacts keep their credit limit and timezone unless the page carries them.
 * Records written whole release any quarantine entry they had.
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
    const written: [Entity, string[]][] = [];
    if (page.contacts?.length) {
      const withLimits = page.contacts.some(
        (c) => c.creditLimitMinor !== undefined || c.timezone !== undefined,
      );
      addCounts(counts, await upsertContacts(store, orgId, page.contacts, now, { withLimits }));
      written.push(["contacts", page.contacts.map((c) => c.externalId)]);
    }
    const parts: [RefEntity, (CanonicalInvoice | CanonicalPayment | CanonicalCreditNote)[] | undefined][] = [
      ["invoices", page.invoices],
      ["payments", page.payments],
      ["credit_notes", page.creditNotes],
    ];
    for (const [entity, rows] of parts) {
      if (!rows?.length) continue;
      const write = (
        entity === "invoices" ? upsertInvoices : entity === "payments" ? upsertPayments : upsertCreditNotes
      ) as Writer<CanonicalInvoice | CanonicalPayment | CanonicalCreditNote>;
      const r = await writeWithQuarantine(store, orgId, entity, rows, write, now, quarantined);
      addCounts(counts, r.counts);
      written.push([entity, r.written]);
    }
    for (const q of quarantined) await quarantine(store.db, { orgId, ...q }, now);
    if (written.some(([, ids]) => ids.length) && (await hasQuarantined(store.db, orgId)))
      for (const [entity, ids] of written)
        await releaseQuarantine(store.db, orgId, entity, ids, store.maxParams);
    const key = page.cursorKey === undefined ? page.entity : page.cursorKey;
    if (key !== null) await setCursor(store.db, orgId, key, page.cursor, now);
  });
  return { ...counts, pages: 1, quarantined: quarantined.length };
}

/**
 * Retries the organisation's quarantined records: ones that mapped but named something missing are written
 * again from the kept canonical record (and released when they now fit); ones the connector could not map are
 * re-read from the provider by id where the connector can (`fetchChanged`), and released when they map.
 */
export async function retryQuarantined(
  deps: SyncDeps,
  ctx: ConnectionContext,
  connector: Connector | undefined,
): Promise<EntityReport> {
  const { store, clock } = deps;
  const report = emptyReport();
  const rows = await listQuarantined(store.db, ctx.orgId);
  if (rows.length === 0) return report;
  const canonical: Record<Entity, unknown[]> = { contacts: [], invoices: [], payments: [], credit_notes: [] };
  const raw: Record<Entity, string[]> = { contacts: [], invoices: [], payments: [], credit_notes: [] };
  for (const r of rows) {
    const entity = r.entity as Entity;
    if (!(entity in canonical)) continue;
    let parsed: Partial<CanonicalQuarantine> | undefined;
    try {
      parsed = r.payload ? (JSON.parse(r.payload) as Partial<CanonicalQuarantine>) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === "object" && parsed.canonical) canonical[entity].push(parsed.canonical);
    else raw[entity].push(r.externalId);
  }
  // Dependency order: what an earlier entity releases may let a later one fit.
  for (const entity of ENTITIES) {
    if (canonical[entity].length) {
      const page: PullPage = { entity, cursor: "", cursorKey: null, done: true };
      if (entity === "contacts") page.contacts = canonical[entity] as CanonicalContact[];
      if (entity === "invoices") page.invoices = canonical[entity] as CanonicalInvoice[];
      if (entity === "payments") page.payments = canonical[entity] as CanonicalPayment[];
      if (entity === "credit_notes") page.creditNotes = canonical[entity] as CanonicalCreditNote[];
      addPage(report, await writePage(store, ctx.orgId, page, clock.now()));
    }
    if (raw[entity].length && connector?.fetchChanged)
      for await (const page of connector.fetchChanged(ctx, entity, raw[entity]))
        addPage(report, await writePage(store, ctx.orgId, { ...page, cursorKey: null }, clock.now()));
  }
  return report;
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
  const startedAt = clock.now();
  const conn = await getConnection(store.db, ctx.connectionId);
  const pausedUntil = conn?.syncPausedUntil ?? null;
  if (pausedUntil !== null && pausedUntil > clock.now() && !opts.ignorePause) {
    report.status = "paused";
    report.resumeAfterMs = pausedUntil - clock.now();
    report.error = "daily API budget used up; sync resumes when it renews";
    return report;
  }
  let pagesLeft = opts.maxPages ?? Number.POSITIVE_INFINITY;
  try {
    const todo = opts.entities ?? ENTITIES;
    const from = opts.resumeAt ? Math.max(0, todo.indexOf(opts.resumeAt)) : 0;
    for (const entity of todo.slice(from)) {
      if (pagesLeft <= 0) {
        report.more = true;
        report.resumeAt = entity;
        return report;
      }
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
        pagesLeft--;
        if (page.done) break;
        // Out of budget mid-entity: the cursor is saved with the page, so the next run continues from it.
        if (pagesLeft <= 0) {
          report.more = true;
          report.resumeAt = entity;
          return report;
        }
      }
    }
    if (connector.reconcile && todo.includes("invoices")) {
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
        for await (const page of connector.reconcile(ctx, () =>
          openInvoiceExternalIds(store.db, ctx.orgId),
        )) {
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
    report.retried = await retryQuarantined(deps, ctx, connector);
    const settled = await settlePaidOnFromAllocations(store, ctx.orgId, clock.now());
    if (settled) log.debug({ org: ctx.orgId, settled }, "paid-on dates taken from allocations");
    if (!opts.entities) await markWebhooksCoveredBySync(store.db, ctx.orgId, startedAt, clock.now());
    await recordSyncSuccess(store.db, ctx.connectionId, clock.now());
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
    await recordSyncError(store.db, ctx.connectionId, err.message, clock.now());
    log.warn({ org: ctx.orgId, kind: err.kind, status: report.status }, `sync stopped: ${err.message}`);
  }
  return report;
}
