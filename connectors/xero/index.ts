/**
 * The Xero connector: pages of canonical records from the Accounting API, and credit-hold write-back.
 *
 * Sync: each entity is one or more Xero "streams" (credit notes = CreditNotes + Overpayments + Prepayments),
 * paged with page/pageSize (1000) in UpdatedDateUTC order. The first run has no cursor (a backfill); later
 * runs send If-Modified-Since. The cursor is JSON: per stream the If-Modified-Since of the run in progress,
 * the next page, and the newest UpdatedDateUTC seen; when a stream finishes, its next If-Modified-Since is
 * that newest time minus a safety overlap. Sync stores a cursor only after its page is stored, so a crash
 * resumes at the page it stopped on and re-running changes nothing.
 *
 * Xero does not bump UpdatedDateUTC for some changes (a due date moved on a part-paid invoice), so
 * `reconcile` sweeps the open invoices: every AUTHORISED receivable in pages, then any invoice the store
 * still holds as open that the sweep did not see, by IDs in batches.
 */
import type { Config } from "../../src/config";
import type {
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
} from "../../src/model";
import {
  type ConnectionContext,
  type Connector,
  ConnectorError,
  type Entity,
  type HoldNote,
  type PullOptions,
  type PullPage,
  type Quarantined,
  type WriteBackResult,
} from "../connector";
import { writeXeroChargeInvoice } from "./charges";
import { createXeroApi, type XeroApi, type XeroApiOptions, type XeroRequest } from "./client";
import {
  type CreditKind,
  type Mapped,
  mapContact,
  mapCredit,
  mapInvoice,
  mapPayment,
  parseXeroInstant,
  type XeroOrganisation,
} from "./map";
import { refreshTokenSet } from "./oauth";
import { onlineInvoiceUrl } from "./online-invoice";
import { ianaTimeZone } from "./timezones";

/** Xero's largest page. */
export const XERO_PAGE_SIZE = 1000;
/** Re-read this much before the newest change seen, so clock skew and same-millisecond writes are not missed. */
export const XERO_OVERLAP_MS = 5 * 60_000;
/** Invoice/contact ids per request when fetching by IDs (keeps URLs well under Xero's limits). */
export const XERO_IDS_BATCH = 50;
export const CREDIT_HOLD_GROUP = "Credit Hold";
/** Xero refuses History notes longer than this. */
export const XERO_NOTE_MAX = 2500;

// biome-ignore lint/suspicious/noExplicitAny: raw Xero JSON, checked field by field in map.ts.
type XeroRecord = Record<string, any>;

interface Stream {
  name: string;
  path: string;
  /** Key of the record array in the response body. */
  key: string;
  query: Record<string, string>;
  /** Keeps only receivable-side records (the where filter already asks for them). */
  keep(r: XeroRecord): boolean;
  map(r: XeroRecord): Mapped<unknown>;
  idField: string;
}

const receivableInvoice = (r: XeroRecord) => r.Type === undefined || r.Type === "ACCREC";

const credit = (kind: CreditKind, type: string, idField: string): Stream => ({
  name: kind,
  path: `/${kind}`,
  key: kind,
  query: { where: `Type=="${type}"`, order: "UpdatedDateUTC ASC" },
  keep: (r) => r.Type === undefined || r.Type === type,
  map: (r) => mapCredit(kind, r),
  idField,
});

const STREAMS: Record<Entity, Stream[]> = {
  contacts: [
    {
      name: "Contacts",
      path: "/Contacts",
      key: "Contacts",
      query: { includeArchived: "true", order: "UpdatedDateUTC ASC" },
      keep: () => true,
      map: mapContact,
      idField: "ContactID",
    },
  ],
  invoices: [
    {
      name: "Invoices",
      path: "/Invoices",
      key: "Invoices",
      query: { where: 'Type=="ACCREC"', summaryOnly: "true", order: "UpdatedDateUTC ASC" },
      keep: receivableInvoice,
      map: mapInvoice,
      idField: "InvoiceID",
    },
  ],
  payments: [
    {
      name: "Payments",
      path: "/Payments",
      key: "Payments",
      query: { where: 'PaymentType=="ACCRECPAYMENT"', order: "UpdatedDateUTC ASC" },
      keep: (r) => r.PaymentType === undefined || r.PaymentType === "ACCRECPAYMENT",
      map: mapPayment,
      idField: "PaymentID",
    },
  ],
  credit_notes: [
    credit("CreditNotes", "ACCRECCREDIT", "CreditNoteID"),
    credit("Overpayments", "RECEIVE-OVERPAYMENT", "OverpaymentID"),
    credit("Prepayments", "RECEIVE-PREPAYMENT", "PrepaymentID"),
  ],
};

interface StreamCursor {
  /** If-Modified-Since of the run in progress (epoch ms), null = everything. */
  since: number | null;
  /** Next page to read (of the list modified since `from`). */
  page: number;
  /** Newest UpdatedDateUTC seen in this run. */
  max: number | null;
  /**
   * Where the walk is: the next request asks for records modified since `from` (the newest UpdatedDateUTC read
   * so far), so a record edited meanwhile moves forward in the list and is read later, and nothing slides back
   * across a page boundary unread. Undefined = `since`.
   */
  from?: number | null;
  /** `id@UpdatedDateUTC` of records already read at the `from` instant (re-read by the overlap, skipped). */
  seen?: string[];
}

interface EntityCursor {
  v: 1;
  /** Index of the stream in progress. */
  at: number;
  s: Record<string, StreamCursor>;
}

const freshCursor = (): EntityCursor => ({ v: 1, at: 0, s: {} });

export function parseCursor(text: string | null): EntityCursor {
  if (!text) return freshCursor();
  try {
    const c = JSON.parse(text) as EntityCursor;
    if (c?.v === 1 && typeof c.at === "number" && c.s && typeof c.s === "object") return c;
  } catch {
    // An unreadable cursor means a backfill, never a failed sync.
  }
  return freshCursor();
}

function emptyPage(entity: Entity): Omit<PullPage, "cursor" | "done"> {
  return { entity, contacts: [], invoices: [], payments: [], creditNotes: [], quarantined: [] };
}

function addMapped(
  page: Omit<PullPage, "cursor" | "done">,
  entity: Entity,
  stream: Stream,
  records: XeroRecord[],
) {
  for (const r of records) {
    if (!stream.keep(r)) continue;
    const m = stream.map(r);
    if ("error" in m) {
      const q: Quarantined = {
        entity,
        externalId: String(r[stream.idField] ?? "(no id)"),
        reason: `Xero ${stream.name}: ${m.error}`,
        payload: r,
      };
      page.quarantined!.push(q);
      continue;
    }
    if (entity === "contacts") page.contacts!.push(m.ok as CanonicalContact);
    else if (entity === "invoices") page.invoices!.push(m.ok as CanonicalInvoice);
    else if (entity === "payments") page.payments!.push(m.ok as CanonicalPayment);
    else page.creditNotes!.push(m.ok as CanonicalCreditNote);
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function isLastPage(body: XeroRecord, page: number, count: number, pageSize: number): boolean {
  const p = body?.pagination as { pageCount?: number } | undefined;
  if (typeof p?.pageCount === "number") return page >= p.pageCount || count === 0;
  return count < pageSize;
}

export interface XeroConnectorOptions extends Omit<XeroApiOptions, "clock"> {
  clock?: XeroApiOptions["clock"];
  /** Use this API client (tests and the benchmark share one to read its counters). */
  api?: XeroApi;
  pageSize?: number;
  overlapMs?: number;
  idsBatch?: number;
}

export interface XeroConnector extends Connector {
  readonly api: XeroApi;
  /** Name, base currency, timezone (IANA) and country of the tenant (GET /Organisation). */
  organisation(ctx: ConnectionContext): Promise<XeroOrganisation>;
}

export function createXeroConnector(opts: XeroConnectorOptions = {}): XeroConnector {
  const clock = opts.clock ?? { now: () => Date.now() };
  const api = opts.api ?? createXeroApi({ ...opts, clock });
  const pageSize = opts.pageSize ?? XERO_PAGE_SIZE;
  const overlap = opts.overlapMs ?? XERO_OVERLAP_MS;
  const idsBatch = opts.idsBatch ?? XERO_IDS_BATCH;
  const holdGroups = new Map<string, string>();

  const get = (ctx: ConnectionContext, req: XeroRequest) => api.request<XeroRecord>(ctx, req);

  async function* pull(
    ctx: ConnectionContext,
    entity: Entity,
    cursorText: string | null,
    pullOpts?: PullOptions,
  ): AsyncIterable<PullPage> {
    const streams = STREAMS[entity];
    const cursor = pullOpts?.full ? freshCursor() : parseCursor(cursorText);
    if (cursor.at >= streams.length) cursor.at = 0;
    for (let i = cursor.at; i < streams.length; i++) {
      const stream = streams[i]!;
      let st: StreamCursor = cursor.s[stream.name] ?? { since: null, page: 1, max: null };
      if (pullOpts?.full) st = { since: null, page: 1, max: null };
      for (;;) {
        const from = st.from === undefined ? st.since : st.from;
        const res = await get(ctx, {
          path: stream.path,
          query: { ...stream.query, page: st.page, pageSize },
          ifModifiedSince: from,
          background: true,
        });
        const records = ((res.body?.[stream.key] as XeroRecord[] | undefined) ?? []).filter(Boolean);
        const seen = new Set(st.seen ?? []);
        const keyOf = (r: XeroRecord) => `${String(r[stream.idField])}@${r.UpdatedDateUTC ?? ""}`;
        const page = emptyPage(entity);
        addMapped(
          page,
          entity,
          stream,
          records.filter((r) => !seen.has(keyOf(r))),
        );
        let max = st.max;
        let pageMax: number | undefined;
        for (const r of records) {
          const t = parseXeroInstant(r.UpdatedDateUTC);
          if (t !== undefined && (max === null || t > max)) max = t;
          if (t !== undefined && (pageMax === undefined || t > pageMax)) pageMax = t;
        }
        const last = isLastPage(res.body, st.page, records.length, pageSize);
        if (last) {
          const next = max === null ? st.since : Math.max(st.since ?? 0, max - overlap);
          cursor.s[stream.name] = { since: next, page: 1, max: null };
          cursor.at = i + 1 >= streams.length ? 0 : i + 1;
        } else if (pageMax !== undefined && (from === null || pageMax > from)) {
          // Walk on from the newest change read (keyset by UpdatedDateUTC), skipping what was read at it.
          const atMax = records.filter((r) => parseXeroInstant(r.UpdatedDateUTC) === pageMax).map(keyOf);
          st = { since: st.since, page: 1, max, from: pageMax, seen: atMax };
          cursor.s[stream.name] = st;
          cursor.at = i;
        } else {
          // A whole page changed at the same instant: only here is the page number the cursor.
          st = { since: st.since, page: st.page + 1, max, from, seen: [...seen, ...records.map(keyOf)] };
          cursor.s[stream.name] = st;
          cursor.at = i;
        }
        const done = last && i === streams.length - 1;
        const total = (res.body?.pagination as { itemCount?: number } | undefined)?.itemCount;
        yield {
          ...page,
          cursor: JSON.stringify(cursor),
          done,
          ...(typeof total === "number" ? { estimatedTotal: total } : {}),
        };
        if (last) break;
      }
    }
  }

  async function* byIds(ctx: ConnectionContext, entity: Entity, ids: string[]): AsyncIterable<PullPage> {
    const stream = STREAMS[entity][0]!;
    for (const batch of chunks([...new Set(ids)], idsBatch)) {
      const query: Record<string, string> =
        entity === "contacts"
          ? { includeArchived: "true" }
          : entity === "invoices"
            ? { summaryOnly: "true" }
            : {};
      const res = await get(ctx, {
        path: stream.path,
        query: { ...query, IDs: batch.join(",") },
        background: true,
      });
      const page = emptyPage(entity);
      addMapped(page, entity, stream, (res.body?.[stream.key] as XeroRecord[] | undefined) ?? []);
      yield { ...page, cursor: "", cursorKey: null, done: false };
    }
  }

  async function* reconcile(
    ctx: ConnectionContext,
    openInvoiceIds: () => Promise<string[]>,
  ): AsyncIterable<PullPage> {
    const stream = STREAMS.invoices[0]!;
    const seen = new Set<string>();
    for (let pageNo = 1; ; pageNo++) {
      const res = await get(ctx, {
        path: stream.path,
        query: {
          where: 'Type=="ACCREC"',
          Statuses: "AUTHORISED",
          summaryOnly: "true",
          page: pageNo,
          pageSize,
        },
        background: true,
      });
      const records = (res.body?.Invoices as XeroRecord[] | undefined) ?? [];
      for (const r of records) if (r?.InvoiceID) seen.add(String(r.InvoiceID));
      const page = emptyPage("invoices");
      addMapped(page, "invoices", stream, records);
      yield { ...page, cursor: "", cursorKey: null, done: false };
      if (isLastPage(res.body, pageNo, records.length, pageSize)) break;
    }
    const missing = (await openInvoiceIds()).filter((id) => !seen.has(id));
    yield* byIds(ctx, "invoices", missing);
  }

  function trimNote(note: string): string {
    const t = note.trim();
    return t.length <= XERO_NOTE_MAX ? t : `${t.slice(0, XERO_NOTE_MAX - 1)}…`;
  }

  async function addHistory(ctx: ConnectionContext, path: string, note: string) {
    await get(ctx, { method: "PUT", path, body: { HistoryRecords: [{ Details: trimNote(note) }] } });
  }

  /** The "Credit Hold" contact group's id, created when missing (create=false: undefined when missing). */
  async function holdGroupId(ctx: ConnectionContext, create: boolean): Promise<string | undefined> {
    const cached = holdGroups.get(ctx.tenantId);
    if (cached) return cached;
    const res = await get(ctx, { path: "/ContactGroups", query: { where: `Name=="${CREDIT_HOLD_GROUP}"` } });
    const found = ((res.body?.ContactGroups as XeroRecord[] | undefined) ?? []).find(
      (g) => g?.Name === CREDIT_HOLD_GROUP && (g.Status ?? "ACTIVE") === "ACTIVE",
    );
    let id = found?.ContactGroupID as string | undefined;
    if (!id && create) {
      const made = await get(ctx, {
        method: "PUT",
        path: "/ContactGroups",
        body: { ContactGroups: [{ Name: CREDIT_HOLD_GROUP }] },
      });
      id = (made.body?.ContactGroups as XeroRecord[] | undefined)?.[0]?.ContactGroupID as string | undefined;
      if (!id)
        throw new ConnectorError("invalid_data", "Xero did not return the new Credit Hold group", {
          provider: "xero",
        });
    }
    if (id) holdGroups.set(ctx.tenantId, id);
    return id;
  }

  async function placeHold(ctx: ConnectionContext, hold: HoldNote): Promise<WriteBackResult> {
    const addTo = async (groupId: string) =>
      get(ctx, {
        method: "PUT",
        path: `/ContactGroups/${encodeURIComponent(groupId)}/Contacts`,
        body: { Contacts: [{ ContactID: hold.contactExternalId }] },
      });
    const cached = holdGroups.has(ctx.tenantId);
    try {
      await addTo((await holdGroupId(ctx, true))!);
    } catch (err) {
      // The group we remembered was deleted in Xero: forget it, find or re-create it, and try once more.
      if (!(cached && err instanceof ConnectorError && err.details.status === 404)) throw err;
      holdGroups.delete(ctx.tenantId);
      await addTo((await holdGroupId(ctx, true))!);
    }
    await addHistory(ctx, `/Contacts/${encodeURIComponent(hold.contactExternalId)}/History`, hold.note);
    return { written: true, detail: `added to the "${CREDIT_HOLD_GROUP}" contact group in Xero` };
  }

  async function releaseHold(ctx: ConnectionContext, hold: HoldNote): Promise<WriteBackResult> {
    const groupId = await holdGroupId(ctx, false);
    if (groupId) {
      try {
        await get(ctx, {
          method: "DELETE",
          path: `/ContactGroups/${encodeURIComponent(groupId)}/Contacts/${encodeURIComponent(hold.contactExternalId)}`,
        });
      } catch (err) {
        // Not in the group (removed by hand in Xero), or the group itself is gone: the release stands, and the
        // group id is looked up afresh next time.
        if (!(err instanceof ConnectorError && err.details.status === 404)) throw err;
        holdGroups.delete(ctx.tenantId);
      }
    }
    await addHistory(ctx, `/Contacts/${encodeURIComponent(hold.contactExternalId)}/History`, hold.note);
    return { written: true, detail: `removed from the "${CREDIT_HOLD_GROUP}" contact group in Xero` };
  }

  return {
    provider: "xero",
    api,
    pull,
    reconcile,
    fetchChanged: (ctx, entity, ids) => byIds(ctx, entity, ids),
    placeHold,
    releaseHold,
    onlineInvoiceUrl: (ctx, invoiceExternalId) => onlineInvoiceUrl(api, ctx, invoiceExternalId),
    writeChargeInvoice: (ctx, charge) => writeXeroChargeInvoice(api, ctx, charge),
    async noteReminder(ctx, invoiceExternalId, note) {
      await addHistory(ctx, `/Invoices/${encodeURIComponent(invoiceExternalId)}/History`, note);
      return { written: true, detail: "History note added to the invoice in Xero" };
    },
    refreshTokens(config: Config, refreshToken: string) {
      if (!config.XERO_CLIENT_ID || !config.XERO_CLIENT_SECRET)
        throw new ConnectorError(
          "auth_revoked",
          "Xero is not configured (XERO_CLIENT_ID / XERO_CLIENT_SECRET)",
          {
            provider: "xero",
          },
        );
      return refreshTokenSet(
        {
          clientId: config.XERO_CLIENT_ID,
          clientSecret: config.XERO_CLIENT_SECRET,
          timeoutMs: config.XERO_TIMEOUT_MS,
          identityUrl: config.XERO_IDENTITY_URL,
        },
        refreshToken,
        clock.now(),
      );
    },
    async organisation(ctx) {
      const res = await get(ctx, { path: "/Organisation" });
      const o = (res.body?.Organisations as XeroRecord[] | undefined)?.[0];
      if (!o?.Name || !o.BaseCurrency)
        throw new ConnectorError("invalid_data", "Xero returned no organisation details", {
          provider: "xero",
        });
      return {
        name: String(o.Name),
        baseCurrency: String(o.BaseCurrency),
        timezone: ianaTimeZone(o.Timezone, o.CountryCode),
        countryCode: o.CountryCode ? String(o.CountryCode) : null,
        isDemo: o.IsDemoCompany === true,
      };
    },
  };
}

/** The connector the registry hands out (settings from config are applied by src/sync/context.ts). */
export const xeroConnector: XeroConnector = createXeroConnector();
