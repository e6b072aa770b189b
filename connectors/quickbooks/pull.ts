/**
 * Pulling one entity from QuickBooks Online as canonical pages.
 *
 * Cursor phases (JSON, opaque to sync, saved only after the page it came with is stored):
 * - backfill: `SELECT * FROM <Entity> ORDERBY Id STARTPOSITION n MAXRESULTS 1000`, page after page; a short
 *   or empty page (`{"QueryResponse":{}}`) ends it. Changes made meanwhile are caught from `since` (the time the
 *   backfill started, less an overlap).
 * - cdc: one `/cdc?entities=Customer,Invoice,Payment,CreditMemo&changedSince=...` call serves all four entities
 *   of a run (the response is shared), deleted entities included.
 * - catchup: when the gap is longer than CDC's 30 days, or a CDC response is full (1,000 objects), a
 *   `MetaData.LastUpdatedTime >= from` query pages through by time (keyset), then CDC resumes.
 *   (A query cannot see deletions: ones older than 30 days surface on the next full sync.)
 */
import type { Clock } from "../../src/clock";
import type {
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
} from "../../src/model";
import type { ConnectionContext, Entity, PullPage, Quarantined } from "../connector";
import type { QboApi, QboCdcResponse } from "./client";
import {
  type Mapped,
  mapCreditMemo,
  mapCustomer,
  mapInvoice,
  mapPayment,
  type QboCreditMemo,
  type QboCustomer,
  type QboInvoice,
  type QboPayment,
} from "./map";

export const QBO_ENTITY: Record<Entity, string> = {
  contacts: "Customer",
  invoices: "Invoice",
  payments: "Payment",
  credit_notes: "CreditMemo",
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** CDC looks back at most 30 days; keep an hour's margin. */
export const CDC_MAX_AGE_MS = 30 * DAY - HOUR;
/** A CDC response holds at most this many objects; a full one may have been cut short. */
export const CDC_MAX_OBJECTS = 1000;
/** Re-read this much before the last sync started, for changes committed while it ran. */
export const OVERLAP_MS = 5 * 60_000;

type CanonicalOf = {
  contacts: CanonicalContact;
  invoices: CanonicalInvoice;
  payments: CanonicalPayment;
  credit_notes: CanonicalCreditNote;
};

/**
 * The stored version of records QBO reports deleted (a deleted stub carries only its Id), so they can be marked
 * deleted rather than forgotten. Supplied by whoever builds the connector; absent = unknown deletions skipped.
 */
export type KnownRecords = <E extends Entity>(
  orgId: string,
  entity: E,
  externalIds: string[],
) => Promise<Map<string, CanonicalOf[E]>>;

export type QboCursor =
  | { v: 1; phase: "backfill"; pos: number; since: string }
  | { v: 1; phase: "cdc"; since: string }
  | { v: 1; phase: "catchup"; from: string; pos: number; until: string };

export function parseCursor(text: string | null): QboCursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text) as QboCursor;
    if (c && c.v === 1 && ["backfill", "cdc", "catchup"].includes(c.phase)) return c;
  } catch {
    // fall through: an unreadable cursor means start again
  }
  return null;
}

/** QBO wants times with an offset; UTC written as +00:00. */
export function qboTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

export interface PullerOptions {
  api: QboApi;
  clock: Clock;
  pageSize?: number;
  known?: KnownRecords;
  /** How long a CDC response is shared between the entities of one run. */
  cdcShareMs?: number;
}

interface CdcResult {
  startedAt: number;
  byEntity: Map<string, unknown[]>;
  total: number;
}

const mappers = {
  contacts: (r: unknown) => mapCustomer(r as QboCustomer),
  invoices: (r: unknown) => mapInvoice(r as QboInvoice),
  payments: (r: unknown) => mapPayment(r as QboPayment),
  credit_notes: (r: unknown) => mapCreditMemo(r as QboCreditMemo),
} as { [E in Entity]: (r: unknown) => Mapped<CanonicalOf[E]> };

function markDeleted<E extends Entity>(entity: E, rec: CanonicalOf[E], at: number | null): CanonicalOf[E] {
  const providerUpdatedAt = at ?? rec.providerUpdatedAt ?? null;
  switch (entity) {
    case "invoices":
      return { ...rec, providerUpdatedAt, status: "deleted" } as CanonicalOf[E];
    case "credit_notes":
      return { ...rec, providerUpdatedAt, status: "deleted", allocations: [] } as CanonicalOf[E];
    case "payments":
      return { ...rec, providerUpdatedAt, deleted: true, allocations: [] } as CanonicalOf[E];
    default:
      return { ...rec, providerUpdatedAt, deleted: true } as CanonicalOf[E];
  }
}

export function createPuller(opts: PullerOptions) {
  const { api, clock } = opts;
  const pageSize = opts.pageSize ?? 1000;
  const shareMs = opts.cdcShareMs ?? 10 * 60_000;
  const cdcCache = new Map<string, { at: number; result: Promise<CdcResult> }>();

  async function page(
    ctx: ConnectionContext,
    entity: Entity,
    raws: unknown[],
    cursor: QboCursor,
    done: boolean,
  ): Promise<PullPage> {
    const map = mappers[entity] as (r: unknown) => Mapped<CanonicalOf[Entity]>;
    const records = new Map<string, CanonicalOf[Entity]>();
    const deleted = new Map<string, number | null>();
    const quarantined: Quarantined[] = [];
    for (const raw of raws) {
      const m = map(raw);
      if (m.kind === "ok") {
        records.delete(m.record.externalId);
        deleted.delete(m.record.externalId);
        records.set(m.record.externalId, m.record);
      } else if (m.kind === "deleted") {
        records.delete(m.externalId);
        deleted.set(m.externalId, m.updatedAt);
      } else quarantined.push(m.quarantined);
    }
    if (deleted.size && opts.known) {
      const known = await opts.known(ctx.orgId, entity, [...deleted.keys()]);
      for (const [id, at] of deleted) {
        const rec = known.get(id);
        if (rec) records.set(id, markDeleted(entity, rec, at));
      }
    }
    const rows = [...records.values()];
    const out: PullPage = { entity, cursor: JSON.stringify(cursor), done };
    if (quarantined.length) out.quarantined = quarantined;
    if (entity === "contacts") out.contacts = rows as CanonicalContact[];
    else if (entity === "invoices") out.invoices = rows as CanonicalInvoice[];
    else if (entity === "payments") out.payments = rows as CanonicalPayment[];
    else out.creditNotes = rows as CanonicalCreditNote[];
    return out;
  }

  const activeFilter = (entity: Entity) => (entity === "contacts" ? "Active IN (true, false)" : "");

  async function queryPage(ctx: ConnectionContext, sql: string, name: string): Promise<unknown[]> {
    const res = await api.query(ctx, sql);
    const rows = res.QueryResponse?.[name];
    return Array.isArray(rows) ? rows : [];
  }

  function cdc(ctx: ConnectionContext, since: string): Promise<CdcResult> {
    const now = clock.now();
    for (const [k, v] of cdcCache) if (now - v.at > shareMs) cdcCache.delete(k);
    const key = `${ctx.tenantId}|${since}`;
    const hit = cdcCache.get(key);
    if (hit) return hit.result;
    const result = (async () => {
      const startedAt = clock.now();
      const res: QboCdcResponse = await api.cdc(ctx, Object.values(QBO_ENTITY), since);
      const byEntity = new Map<string, unknown[]>();
      let total = 0;
      for (const block of res.CDCResponse ?? [])
        for (const qr of block.QueryResponse ?? [])
          for (const [k, v] of Object.entries(qr))
            if (Array.isArray(v)) {
              byEntity.set(k, [...(byEntity.get(k) ?? []), ...v]);
              total += v.length;
            }
      return { startedAt, byEntity, total };
    })();
    result.catch(() => cdcCache.delete(key));
    cdcCache.set(key, { at: now, result });
    return result;
  }

  async function* pull(
    ctx: ConnectionContext,
    entity: Entity,
    cursorText: string | null,
    opts2: { full?: boolean } = {},
  ): AsyncGenerator<PullPage> {
    const name = QBO_ENTITY[entity];
    let cursor: QboCursor = (!opts2.full && parseCursor(cursorText)) || {
      v: 1,
      phase: "backfill",
      pos: 1,
      since: qboTime(clock.now() - OVERLAP_MS),
    };
    for (;;) {
      if (cursor.phase === "backfill") {
        const where = activeFilter(entity);
        const sql = `SELECT * FROM ${name}${where ? ` WHERE ${where}` : ""} ORDERBY Id STARTPOSITION ${cursor.pos} MAXRESULTS ${pageSize}`;
        const rows = await queryPage(ctx, sql, name);
        const done = rows.length < pageSize;
        const next: QboCursor = done
          ? { v: 1, phase: "cdc", since: cursor.since }
          : { ...cursor, pos: cursor.pos + pageSize };
        yield await page(ctx, entity, rows, next, done);
        if (done) return;
        cursor = next;
        continue;
      }
      if (cursor.phase === "catchup") {
        const where = [`MetaData.LastUpdatedTime >= '${cursor.from}'`, activeFilter(entity)]
          .filter(Boolean)
          .join(" AND ");
        const sql = `SELECT * FROM ${name} WHERE ${where} ORDERBY MetaData.LastUpdatedTime STARTPOSITION ${cursor.pos} MAXRESULTS ${pageSize}`;
        const rows = await queryPage(ctx, sql, name);
        const done = rows.length < pageSize;
        let next: QboCursor;
        if (done) next = { v: 1, phase: "cdc", since: cursor.until };
        else {
          // Keyset by time: restart at the newest time seen (re-reading its few rows is harmless); if the whole
          // page shares one time, step past it by position instead.
          const newest = Math.max(
            ...rows.map((r) => Date.parse((r as QboCustomer).MetaData?.LastUpdatedTime ?? "")),
          );
          next =
            Number.isFinite(newest) && newest > Date.parse(cursor.from)
              ? { ...cursor, from: qboTime(newest), pos: 1 }
              : { ...cursor, pos: cursor.pos + pageSize };
        }
        yield await page(ctx, entity, rows, next, done);
        if (done) return;
        cursor = next;
        continue;
      }
      // cdc
      const sinceMs = Date.parse(cursor.since);
      if (!Number.isFinite(sinceMs) || clock.now() - sinceMs > CDC_MAX_AGE_MS) {
        cursor = {
          v: 1,
          phase: "catchup",
          from: Number.isFinite(sinceMs) ? cursor.since : qboTime(0),
          pos: 1,
          until: qboTime(clock.now() - OVERLAP_MS),
        };
        continue;
      }
      const res = await cdc(ctx, cursor.since);
      const until = qboTime(res.startedAt - OVERLAP_MS);
      if (res.total >= CDC_MAX_OBJECTS) {
        cursor = { v: 1, phase: "catchup", from: cursor.since, pos: 1, until };
        continue;
      }
      yield await page(ctx, entity, res.byEntity.get(name) ?? [], { v: 1, phase: "cdc", since: until }, true);
      return;
    }
  }

  /** The current state of the named records (webhook re-pulls, reconciliation re-reads), 30 ids a query. */
  async function* byIds(ctx: ConnectionContext, entity: Entity, ids: string[]): AsyncGenerator<PullPage> {
    const name = QBO_ENTITY[entity];
    const unique = [...new Set(ids)].filter((id) => /^[0-9A-Za-z-]+$/.test(id));
    for (let i = 0; i < unique.length; i += 30) {
      const batch = unique.slice(i, i + 30);
      const where = [`Id IN (${batch.map((id) => `'${id}'`).join(", ")})`, activeFilter(entity)]
        .filter(Boolean)
        .join(" AND ");
      const rows = await queryPage(ctx, `SELECT * FROM ${name} WHERE ${where} MAXRESULTS 1000`, name);
      yield {
        ...(await page(ctx, entity, rows, { v: 1, phase: "cdc", since: "" }, false)),
        cursor: "",
        cursorKey: null,
      };
    }
  }

  return { pull, byIds };
}
