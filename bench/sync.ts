/**
 * Ledger sync benchmark: API calls and ingest rate.
 *
 *   npx tsx bench/sync.ts                 # Xero: backfill of 100,000 invoices, incremental of 500 changes
 *   npx tsx bench/sync.ts 20000 200       # other sizes
 *
 * API calls are counted against an in-process fake Xero (msw, the same one the tests use) and compared with
 * the target ceil(items / pageSize) per entity (plus the open-invoice sweep, reported on its own). Rate-limit
 * waits run on a fake clock, so the figures are calls, not waiting. The ingest rate maps recorded-shape pages
 * and writes them through the sync writer (upserts + cursor in one transaction), beside a bare better-sqlite3
 * insert of the same rows in the same run (the floor).
 *
 * One section per provider: the Xero part is `benchXero`; QuickBooks adds its own function below (see the
 * marked place) and a line in `main`.
 */
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { setupServer } from "msw/node";
import type { Sleep } from "../connectors/limits";
import { registerConnector } from "../connectors/registry";
import { createXeroConnector, XERO_PAGE_SIZE } from "../connectors/xero/index";
import { mapContact, mapInvoice } from "../connectors/xero/map";
import { fixedClock } from "../src/clock";
import type { CanonicalInvoice } from "../src/model";
import { openSqliteStore } from "../src/store/sqlite";
import { connectTenants } from "../src/sync/connect";
import { writePage } from "../src/sync/run-sync";
import { syncConnection } from "../src/sync/sync-connections";
import {
  contactRecord,
  createFakeXero,
  creditNoteRecord,
  guid,
  invoiceRecord,
  msDate,
  paymentRecord,
} from "../test/connectors/xero/fake-xero";
import { XERO_ENV } from "../test/connectors/xero/harness";
import { testDeps } from "../test/support/deps";

const fmt = (n: number) => Math.round(n).toLocaleString("en-GB");

function row(label: string, calls: number, target: number) {
  const over = target === 0 ? 0 : ((calls - target) / target) * 100;
  console.log(
    `  ${label.padEnd(34)} ${String(calls).padStart(6)} calls   target ${String(target).padStart(6)}   ${over <= 10 ? "ok" : "OVER"} (${over >= 0 ? "+" : ""}${over.toFixed(1)}%)`,
  );
}

export async function benchXero(invoiceCount = 100_000, changes = 500): Promise<void> {
  console.log(
    `\n== Xero: backfill of ${fmt(invoiceCount)} invoices, then an incremental sync of ${fmt(changes)} changes ==`,
  );
  const clock = fixedClock("2026-11-20T10:00:00Z");
  const sleep: Sleep = async (ms) => {
    clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  const fake = await createFakeXero({ clock, perDay: 1_000_000 });
  const server = setupServer(...fake.handlers);
  server.listen({ onUnhandledRequest: "error" });
  try {
    const deps = await testDeps({ clock, env: XERO_ENV });
    const connector = createXeroConnector({ clock, sleep, limits: { perDay: 1_000_000 } });
    registerConnector(connector);

    const contactCount = Math.max(10, Math.ceil(invoiceCount / 50));
    const paymentCount = Math.floor(invoiceCount * 0.6);
    const creditCount = Math.floor(invoiceCount * 0.02);
    // Records changed a minute apart over the past months (a 5-minute safety overlap re-reads only a few).
    const T0 = Date.parse("2026-01-01T00:00:00Z") - (contactCount + invoiceCount * 2) * 60_000;
    const data = fake.data();
    for (let n = 0; n < contactCount; n++)
      data.Contacts.push(
        contactRecord({
          id: guid(1, n),
          name: `Customer ${n}`,
          email: `ar${n}@c${n}.example`,
          updated: T0 + n * 60_000,
        }),
      );
    for (let n = 0; n < invoiceCount; n++) {
      const paid = n < paymentCount;
      const d = new Date(T0 + (n % 600) * 86_400_000).toISOString().slice(0, 10);
      data.Invoices.push(
        invoiceRecord({
          id: guid(2, n),
          contactId: guid(1, n % contactCount),
          number: `INV-${n}`,
          date: d,
          due: d,
          total: 100 + (n % 900),
          paid: paid ? 100 + (n % 900) : 0,
          updated: T0 + (contactCount + n) * 60_000,
        }),
      );
      if (paid)
        data.Payments.push(
          paymentRecord({
            id: guid(3, n),
            invoiceId: guid(2, n),
            contactId: guid(1, n % contactCount),
            amount: 100 + (n % 900),
            date: d,
            updated: T0 + (contactCount + invoiceCount + n) * 60_000,
          }),
        );
    }
    for (let n = 0; n < creditCount; n++) {
      const inv = paymentCount + n; // an unpaid invoice
      data.CreditNotes.push(
        creditNoteRecord({
          id: guid(4, n),
          contactId: guid(1, inv % contactCount),
          number: `CN-${n}`,
          date: "2025-06-01",
          total: 10,
          allocations: [{ invoiceId: guid(2, inv), amount: 10, date: "2025-06-01" }],
          updated: T0 + (contactCount + invoiceCount + paymentCount + n) * 60_000,
        }),
      );
      Object.assign(data.Invoices[inv]!, {
        AmountCredited: 10,
        AmountDue: data.Invoices[inv]!.AmountDue - 10,
      });
    }

    const grant = await fake.grant();
    const [conn] = await connectTenants(
      deps,
      "xero",
      { ...grant, expiresAt: clock.now() + 30 * 60_000 },
      [{ tenantId: fake.tenants[0]!.id, tenantName: "Bench" }],
      async () => ({ name: "Bench", baseCurrency: "NZD", timezone: "Pacific/Auckland", countryCode: "NZ" }),
    );
    fake.resetCounters();

    const t0 = performance.now();
    const backfill = await syncConnection(deps, conn!.connection);
    const backfillMs = performance.now() - t0;
    const count = (path: string, pred: (q: Record<string, string>) => boolean = () => true) =>
      fake.apiCalls(path).filter((c) => pred(c.query)).length;
    const pages = (n: number) => Math.max(1, Math.ceil(n / XERO_PAGE_SIZE));
    console.log(`Backfill (status ${backfill.status}, ${fmt(backfillMs)} ms end to end through msw):`);
    row(`contacts (${fmt(contactCount)})`, count("/Contacts"), pages(contactCount));
    row(`invoices (${fmt(invoiceCount)})`, count("/Invoices"), pages(invoiceCount));
    row(`payments (${fmt(paymentCount)})`, count("/Payments"), pages(paymentCount));
    row(`credit notes (${fmt(creditCount)})`, count("/CreditNotes"), pages(creditCount));
    row("overpayments (0)", count("/Overpayments"), 1);
    row("prepayments (0)", count("/Prepayments"), 1);
    const backfillCalls = fake.state.calls.length;
    const backfillTarget =
      pages(contactCount) + pages(invoiceCount) + pages(paymentCount) + pages(creditCount) + 2;
    row("backfill total", backfillCalls, backfillTarget);
    console.log(
      `  (no sweep after a backfill: it has just read every invoice)   token refreshes: ${fake.state.tokenCalls.length}`,
    );

    // Incremental: `changes` invoices change (part payments), as many payments arrive.
    clock.advance(15 * 60_000);
    fake.resetCounters();
    for (let n = 0; n < changes; n++) {
      const inv = data.Invoices[paymentCount + creditCount + n]!;
      Object.assign(inv, {
        AmountPaid: 50,
        AmountDue: inv.AmountDue - 50,
        UpdatedDateUTC: msDate(clock.now() - 60_000 + n),
      });
    }
    const t1 = performance.now();
    const inc = await syncConnection(deps, conn!.connection, { sweep: false });
    const incMs = performance.now() - t1;
    console.log(
      `Incremental sync of ${fmt(changes)} changed invoices (status ${inc.status}, ${fmt(incMs)} ms):`,
    );
    row("invoices", count("/Invoices"), pages(changes));
    row("contacts, payments (nothing changed)", count("/Contacts") + count("/Payments"), 2);
    row(
      "credit notes, overpayments, prepayments",
      count("/CreditNotes") + count("/Overpayments") + count("/Prepayments"),
      3,
    );
    row("incremental total", fake.state.calls.length, pages(changes) + 5);
    const sentSince = fake.apiCalls("/Invoices").every((c) => c.ifModifiedSince !== null);
    console.log(
      `  every invoice call sent If-Modified-Since: ${sentSince}; invoices updated: ${inc.entities.invoices.updated}`,
    );

    fake.resetCounters();
    const open = data.Invoices.filter((i) => i.Status === "AUTHORISED").length;
    const sw = await syncConnection(deps, conn!.connection, { sweep: true, entities: ["invoices"] });
    row(
      `open-invoice sweep (${fmt(open)} open)`,
      count("/Invoices", (q) => q.Statuses === "AUTHORISED" || Boolean(q.IDs)),
      pages(open),
    );
    console.log(`  sweep status ${sw.status}; invoices changed by the sweep: ${sw.sweep?.updated ?? 0}`);

    // Ingest rate: recorded-shape pages -> map -> sync writer, beside a bare insert floor.
    const pageCount = Math.min(50, pages(invoiceCount));
    const pageRecords = Array.from({ length: pageCount }, (_, p) =>
      data.Invoices.slice(p * XERO_PAGE_SIZE, (p + 1) * XERO_PAGE_SIZE),
    );
    const rawPages = pageRecords.map((recs) => JSON.stringify({ pagination: {}, Invoices: recs }));
    const store = openSqliteStore(":memory:");
    const freshDeps = { ...deps, store };
    const [c2] = await connectTenants(
      freshDeps,
      "xero",
      { ...grant, expiresAt: clock.now() + 60_000 },
      [{ tenantId: "bench-ingest", tenantName: "Ingest" }],
      async () => ({ name: "Ingest", baseCurrency: "NZD", timezone: "Pacific/Auckland", countryCode: "NZ" }),
    );
    const orgId = c2!.org.id;
    const contacts = data.Contacts.map((c) => mapContact(c)).flatMap((m) => ("ok" in m ? [m.ok] : []));
    await writePage(store, orgId, { entity: "contacts", contacts, cursor: "x", done: false }, clock.now());
    const ingestStart = performance.now();
    let ingested = 0;
    for (const [p, text] of rawPages.entries()) {
      const body = JSON.parse(text) as { Invoices: Record<string, unknown>[] };
      const rows = body.Invoices.map((r) => mapInvoice(r)).flatMap((m) =>
        "ok" in m ? [m.ok as CanonicalInvoice] : [],
      );
      await writePage(
        store,
        orgId,
        { entity: "invoices", invoices: rows, cursor: String(p), done: false },
        clock.now(),
      );
      ingested += rows.length;
    }
    const ingestMs = performance.now() - ingestStart;

    const db = new Database(":memory:");
    db.exec(
      "create table invoices (id text primary key, org_id text, contact_id text, external_id text, number text, issue_date text, due_date text, currency text, total_minor integer, amount_paid_minor integer, amount_credited_minor integer, amount_due_minor integer, status text, paid_on text, provider_updated_at integer, created_at integer, updated_at integer, unique(org_id, external_id))",
    );
    const ins = db.prepare("insert into invoices values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    const floorStart = performance.now();
    let k = 0;
    for (const text of rawPages) {
      const body = JSON.parse(text) as { Invoices: Record<string, unknown>[] };
      db.transaction(() => {
        for (const r of body.Invoices)
          ins.run(
            `inv_${k++}`,
            orgId,
            "cus",
            r.InvoiceID,
            r.InvoiceNumber,
            "2026-01-01",
            "2026-01-31",
            "NZD",
            1,
            0,
            0,
            1,
            "authorised",
            null,
            0,
            0,
            0,
          );
      })();
    }
    const floorMs = performance.now() - floorStart;
    const rate = (ingested / ingestMs) * 1000;
    const floorRate = (k / floorMs) * 1000;
    console.log(
      `Ingest of ${fmt(ingested)} invoices from ${pageCount} recorded-shape pages of ${XERO_PAGE_SIZE}:`,
    );
    console.log(
      `  sync writer (parse + map + upsert + cursor, one transaction per page): ${fmt(rate)} records/s`,
    );
    console.log(
      `  bare better-sqlite3 insert floor (parse + prepared insert):            ${fmt(floorRate)} records/s`,
    );
    console.log(`  ratio: ${(floorRate / rate).toFixed(1)}x the floor's time`);
    await store.close();
    await deps.store.close();
  } finally {
    server.close();
  }
}

// --- QuickBooks: add `benchQuickBooks()` here and call it from main(). ---

async function main() {
  const invoices = Number(process.argv[2] ?? 100_000);
  const changes = Number(process.argv[3] ?? 500);
  await benchXero(invoices, changes);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
