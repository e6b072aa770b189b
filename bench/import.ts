/**
 * CSV import throughput and memory, beside the floor: a bare better-sqlite3 bulk insert of the same rows into
 * the same invoices table (one prepared statement, one transaction), measured in the same run.
 *
 *   npx tsx bench/import.ts            # 100,000 and 1,000,000 invoices
 *   npx tsx bench/import.ts 20000      # other sizes
 *
 * Each measurement runs in its own child process so that peak RSS belongs to that work alone.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const CUSTOMERS_PER_INVOICE = 1 / 100;

function invoiceRow(i: number): string[] {
  const cust = Math.floor(i * CUSTOMERS_PER_INVOICE);
  const day = 1 + (i % 28);
  const month = 1 + (Math.floor(i / 28) % 12);
  const mm = String(month).padStart(2, "0");
  const dd = String(day).padStart(2, "0");
  const paid = i % 3 !== 0;
  return [
    `C${cust}`,
    `Customer ${cust}`,
    `ar${cust}@customer${cust}.example`,
    `INV-${i}`,
    `2025-${mm}-${dd}`,
    `2025-${mm}-${dd}`.replace(/^2025/, "2026"),
    "GBP",
    `${100 + (i % 9000)}.${String(i % 100).padStart(2, "0")}`,
    "",
    paid ? `2026-${mm}-${dd}` : "",
  ];
}

async function writeCsv(path: string, n: number) {
  const out = createWriteStream(path);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", r));
  await write(
    "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total,amount_paid,paid_date\n",
  );
  let buf = "";
  for (let i = 0; i < n; i++) {
    buf += `${invoiceRow(i).join(",")}\n`;
    if (buf.length > 1 << 20) {
      await write(buf);
      buf = "";
    }
  }
  await write(buf);
  await new Promise<void>((r) => out.end(r));
}

/** The import's clock: after every date in the generated file (paid dates after "today" are refused). */
const BENCH_NOW = Date.parse("2027-01-01T12:00:00Z");

async function childImport(n: number, dir: string) {
  const { importCsv } = await import("../src/import/csv-import");
  const { openSqliteStore } = await import("../src/store/sqlite");
  const store = openSqliteStore(join(dir, "import.db"));
  const t0 = performance.now();
  const r = await importCsv(store, {
    org: "bench",
    invoices: join(dir, "invoices.csv"),
    currency: "GBP",
    now: BENCH_NOW,
  });
  const ms = performance.now() - t0;
  if (!r.ok) throw new Error(`import failed: ${JSON.stringify(r.issues.slice(0, 3))}`);
  const t1 = performance.now();
  const again = await importCsv(store, {
    org: "bench",
    invoices: join(dir, "invoices.csv"),
    now: BENCH_NOW,
  });
  const reMs = performance.now() - t1;
  if (!again.ok || again.summary.invoices.unchanged !== n) throw new Error("re-import changed something");
  await store.close();
  return { ms, reMs, created: r.summary.invoices.created };
}

async function childFloor(n: number, dir: string) {
  const { openSqliteStore } = await import("../src/store/sqlite");
  const { newId } = await import("../src/store/ids");
  // Same schema, indexes and settings as the product (migrations applied), then raw inserts.
  const store = openSqliteStore(join(dir, "floor.db"));
  await store.close();
  const db = new Database(join(dir, "floor.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("cache_size = -32768");
  const now = Date.now();
  db.prepare(
    "insert into organisations (id, slug, name, base_currency, timezone, provider, created_at, updated_at) values ('org_b','bench','Bench','GBP','UTC','csv',?,?)",
  ).run(now, now);
  const insContact = db.prepare(
    "insert into contacts (id, org_id, external_id, name, emails, created_at, updated_at) values (?, 'org_b', ?, ?, ?, ?, ?)",
  );
  const insInvoice = db.prepare(
    `insert into invoices (id, org_id, contact_id, external_id, number, issue_date, due_date, currency, total_minor,
      amount_paid_minor, amount_credited_minor, amount_due_minor, status, paid_on, created_at, updated_at)
     values (?, 'org_b', ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
  );
  const insPayment = db.prepare(
    `insert into payments (id, org_id, contact_id, external_id, date, currency, amount_minor, created_at, updated_at)
     values (?, 'org_b', ?, ?, ?, 'GBP', ?, ?, ?)`,
  );
  const insAllocation = db.prepare(
    "insert into payment_allocations (payment_id, invoice_id, org_id, amount_minor, date) values (?, ?, 'org_b', ?, ?)",
  );
  const t0 = performance.now();
  db.transaction(() => {
    const customers = Math.ceil(n * CUSTOMERS_PER_INVOICE);
    const contactIds: string[] = [];
    for (let c = 0; c < customers; c++) {
      const id = newId("cus");
      contactIds.push(id);
      insContact.run(id, `C${c}`, `Customer ${c}`, JSON.stringify([`ar${c}@customer${c}.example`]), now, now);
    }
    for (let i = 0; i < n; i++) {
      const r = invoiceRow(i);
      const total = Math.round(Number(r[7]) * 100);
      const paid = r[9] ? total : 0;
      // The same random ids the product writes, so the indexes see the same work.
      const cus = contactIds[Math.floor(i * CUSTOMERS_PER_INVOICE)];
      const invId = newId("inv");
      insInvoice.run(
        invId,
        cus,
        r[3],
        r[3],
        r[4],
        r[5],
        r[6],
        total,
        paid,
        total - paid,
        paid ? "paid" : "authorised",
        r[9] || null,
        now,
        now,
      );
      // The import also records the payment that settled a paid invoice: the floor writes the same rows.
      if (paid) {
        const payId = newId("pay");
        insPayment.run(payId, cus, `${r[3]}#paid`, r[9], paid, now, now);
        insAllocation.run(payId, invId, paid, r[9]);
      }
    }
  })();
  const ms = performance.now() - t0;
  db.close();
  return { ms };
}

function runChild(kind: "import" | "floor", n: number, dir: string) {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--child", kind, String(n), dir],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split("\n").pop()!) as { ms: number; reMs?: number; rssMb: number };
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    const [, kind, nText, dir] = args as [string, "import" | "floor", string, string];
    const r =
      kind === "import" ? await childImport(Number(nText), dir) : await childFloor(Number(nText), dir);
    const rssMb = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify({ ...r, rssMb }));
    return;
  }
  const sizes = args.length ? args.map(Number) : [100_000, 1_000_000];
  console.log(
    "CSV import vs bare better-sqlite3 insert of the same rows: customers, invoices, and the payment + allocation",
  );
  console.log(
    "of each paid invoice (same schema and indexes). The import also parses and validates every row.",
  );
  console.log(
    "invoices   | import s | import rows/s | floor s | floor rows/s | ratio | re-import s | import peak RSS MB | floor peak RSS MB",
  );
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "creditpulse-bench-"));
    try {
      await writeCsv(join(dir, "invoices.csv"), n);
      const floor = runChild("floor", n, dir);
      const imp = runChild("import", n, dir);
      const ratio = imp.ms / floor.ms;
      console.log(
        [
          String(n).padEnd(10),
          (imp.ms / 1000).toFixed(2).padStart(8),
          Math.round(n / (imp.ms / 1000))
            .toLocaleString("en")
            .padStart(13),
          (floor.ms / 1000).toFixed(2).padStart(7),
          Math.round(n / (floor.ms / 1000))
            .toLocaleString("en")
            .padStart(12),
          `${ratio.toFixed(2)}x`.padStart(5),
          ((imp.reMs ?? 0) / 1000).toFixed(2).padStart(11),
          imp.rssMb.toFixed(0).padStart(18),
          floor.rssMb.toFixed(0).padStart(17),
        ].join(" | "),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log("Targets: import within 3x of the floor; peak RSS under 500 MB at 1,000,000 invoices.");
}

await main();
