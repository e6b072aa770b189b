/**
 * QuickBooks sync benchmark: `npx tsx bench/sync-quickbooks.ts [invoices]`.
 * Against an in-process fake QBO (an injected fetch, no network): API calls for a 100,000-invoice backfill
 * and for a 500-change incremental sync, and the ingest rate beside a bare better-sqlite3 insert floor
 * measured in the same run.
 */
import Database from "better-sqlite3";
import { fixedClock } from "../src/clock";
import { loadConfig } from "../src/config";
import type { Deps } from "../src/deps";
import { silentLogger } from "../src/log";
import { sealTokens } from "../src/store/connection-tokens";
import { createConnection } from "../src/store/connections";
import { ensureOrg } from "../src/store/orgs";
import { sealerFromSecret } from "../src/store/secrets";
import { openSqliteStore } from "../src/store/sqlite";
import { configureQuickbooks, quickbooksFor } from "../src/sync/quickbooks";

const INVOICES = Number(process.argv[2] ?? 100_000);
const CUSTOMERS = Math.max(1, Math.round(INVOICES / 50));
const PAYMENTS = Math.round(INVOICES / 2);
const NOW = Date.parse("2026-11-20T10:00:00Z");
const REALM = "9130350000000001";
const iso = (ms: number) => new Date(ms).toISOString();

type Row = Record<string, unknown> & { Id: string; MetaData: { LastUpdatedTime: string } };
const gbp = { value: "GBP" };
const data: Record<string, Row[]> = { Customer: [], Invoice: [], Payment: [], CreditMemo: [] };
const old = iso(NOW - 200 * 86_400_000);
for (let i = 1; i <= CUSTOMERS; i++)
  data.Customer!.push({
    Id: String(i),
    DisplayName: `Customer ${i}`,
    Active: true,
    CurrencyRef: gbp,
    PrimaryEmailAddr: { Address: `c${i}@example.com` },
    MetaData: { LastUpdatedTime: old },
  });
for (let i = 1; i <= INVOICES; i++) {
  const total = 100 + (i % 997) + (i % 100) / 100;
  data.Invoice!.push({
    Id: String(i),
    DocNumber: String(1000 + i),
    TxnDate: "2026-06-01",
    DueDate: "2026-07-01",
    TotalAmt: total,
    Balance: i % 2 ? total : 0,
    CurrencyRef: gbp,
    CustomerRef: { value: String(1 + (i % CUSTOMERS)) },
    MetaData: { LastUpdatedTime: old },
  });
}
for (let i = 1; i <= PAYMENTS; i++) {
  const inv = data.Invoice![2 * i - 1]!;
  data.Payment!.push({
    Id: String(i),
    TxnDate: "2026-07-01",
    TotalAmt: inv.TotalAmt,
    CurrencyRef: gbp,
    CustomerRef: inv.CustomerRef,
    Line: [{ Amount: inv.TotalAmt, LinkedTxn: [{ TxnId: inv.Id, TxnType: "Invoice" }] }],
    MetaData: { LastUpdatedTime: old },
  });
}

let apiCalls = 0;
const fakeFetch = (async (input: string | URL | Request) => {
  apiCalls++;
  const url = new URL(String(input));
  const json = (b: unknown) =>
    new Response(JSON.stringify(b), { status: 200, headers: { "content-type": "application/json" } });
  if (url.pathname.endsWith("/query")) {
    const q = url.searchParams.get("query") ?? "";
    const m = /FROM (\w+).*STARTPOSITION (\d+) MAXRESULTS (\d+)/.exec(q)!;
    const rows = (data[m[1]!] ?? []).slice(Number(m[2]) - 1, Number(m[2]) - 1 + Number(m[3]));
    return json({ QueryResponse: rows.length ? { [m[1]!]: rows } : {} });
  }
  if (url.pathname.endsWith("/cdc")) {
    const since = Date.parse(url.searchParams.get("changedSince") ?? "");
    const blocks = Object.entries(data).map(([name, rows]) => {
      const changed = rows.filter((r) => Date.parse(r.MetaData.LastUpdatedTime) >= since);
      return changed.length ? { [name]: changed } : {};
    });
    return json({ CDCResponse: [{ QueryResponse: blocks }] });
  }
  return new Response("{}", { status: 404 });
}) as typeof fetch;

async function main() {
  const clock = fixedClock(NOW);
  const secret = "bench-secret-0123456789abcdef0123456789abcdef";
  const deps: Deps = {
    store: openSqliteStore(":memory:"),
    clock,
    log: silentLogger,
    config: loadConfig({ CREDITPULSE_DB: ":memory:", QBO_CLIENT_ID: "id", QBO_CLIENT_SECRET: "secret" }),
    secret,
    sealer: await sealerFromSecret(secret),
  };
  configureQuickbooks(deps, { fetch: fakeFetch, sleep: async (ms) => clock.advance(ms) });
  const qbo = quickbooksFor(deps)!;
  const { org } = await ensureOrg(
    deps.store.db,
    { slug: "bench", name: "Bench", baseCurrency: "GBP", timezone: "Europe/London", provider: "quickbooks" },
    NOW,
  );
  const tokens = { accessToken: "at", refreshToken: "rt", expiresAt: NOW + 86_400_000 * 400 };
  const conn = await createConnection(
    deps.store.db,
    { orgId: org.id, provider: "quickbooks", tenantId: REALM },
    await sealTokens(deps.sealer, tokens),
    tokens.expiresAt,
    NOW,
  );

  const t0 = performance.now();
  const backfill = await qbo.sync(conn);
  const backfillMs = performance.now() - t0;
  const backfillCalls = apiCalls;
  const records = Object.values(backfill.entities).reduce((n, e) => n + e.created, 0);

  // 500 changes an hour later: 300 invoices paid, 150 new payments' invoices touched, 50 customers renamed.
  clock.advance(3_600_000);
  const at = iso(clock.now() - 60_000);
  for (let i = 0; i < 300; i++)
    Object.assign(data.Invoice![i * 2]!, { Balance: 0, MetaData: { LastUpdatedTime: at } });
  for (let i = 0; i < 150; i++)
    Object.assign(data.Payment![i]!, { TxnDate: "2026-11-19", MetaData: { LastUpdatedTime: at } });
  for (let i = 0; i < 50; i++)
    Object.assign(data.Customer![i]!, { DisplayName: `Renamed ${i}`, MetaData: { LastUpdatedTime: at } });
  apiCalls = 0;
  const t1 = performance.now();
  const inc = await qbo.sync(conn);
  const incMs = performance.now() - t1;
  const incChanged = Object.values(inc.entities).reduce((n, e) => n + e.updated + e.created, 0);

  // Floor: bare better-sqlite3 inserts of the same number of invoice-shaped rows, one transaction.
  const raw = new Database(":memory:");
  raw.exec(
    "create table invoices (id text primary key, org_id text, contact_id text, external_id text, number text, issue_date text, due_date text, currency text, total_minor integer, amount_paid_minor integer, amount_credited_minor integer, amount_due_minor integer, status text, created_at integer, updated_at integer)",
  );
  const ins = raw.prepare("insert into invoices values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  const t2 = performance.now();
  raw.transaction(() => {
    for (let i = 0; i < records; i++)
      ins.run(
        `inv_${i}`,
        "org",
        "cus",
        String(i),
        String(i),
        "2026-06-01",
        "2026-07-01",
        "GBP",
        10000,
        0,
        0,
        10000,
        "authorised",
        NOW,
        NOW,
      );
  })();
  const floorMs = performance.now() - t2;

  const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
  console.log(`QuickBooks sync benchmark (in-process fake QBO, pages of 1000)`);
  console.log(`  ledger: ${CUSTOMERS} customers, ${INVOICES} invoices, ${PAYMENTS} payments`);
  console.log(
    `  backfill: ${backfill.status}, ${records} records, ${backfillCalls} API calls, ${backfillMs.toFixed(0)} ms -> ${rate(records, backfillMs)} records/s`,
  );
  console.log(
    `  incremental (500 changes): ${inc.status}, ${incChanged} records changed, ${apiCalls} API call(s), ${incMs.toFixed(0)} ms`,
  );
  console.log(
    `  floor: bare better-sqlite3 insert of ${records} rows: ${floorMs.toFixed(0)} ms -> ${rate(records, floorMs)} rows/s`,
  );
  console.log(`  ingest rate / floor: ${(rate(records, backfillMs) / rate(records, floorMs)).toFixed(3)}`);
}

await main();
