/**
 * The organisation page and the portfolio serve their whole-ledger figures from the summary cache. A ledger
 * change through the store's upsert functions (a payment, a void, a credit note) must show on the very next
 * request; cached figures must equal the live ones; a new day must not be served yesterday's figures; scores
 * are read live, so a scoring run shows at once without touching the cached figures.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { JOBS, runJob } from "../../src/jobs";
import type { CanonicalInvoice } from "../../src/model";
import { runScoring } from "../../src/scoring/run-scoring";
import { ledgerVersionOf, readDashboardSummary } from "../../src/store/dashboard-summary";
import { upsertCreditNotes, upsertInvoices, upsertPayments, writeLedgerBatch } from "../../src/store/ledger";
import { findOrgBySlug, type Organisation } from "../../src/store/orgs";
import { dashboardSummaries } from "../../src/store/schema";
import { signIn, type TestSession } from "../support/auth";
import { runCli } from "../support/cli";
import { testDeps } from "../support/deps";
import { csv, importInvoices, tempFiles } from "../support/files";

let deps: Deps;
let org: Organisation;
let session: TestSession;
const AS_OF = "2026-11-20";

beforeEach(async () => {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
  await importInvoices(
    deps,
    "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid",
    "C1,Acme,INV-1,2026-09-01,2026-10-01,GBP,1000.00,250",
    "C1,Acme,INV-2,2026-10-15,2026-11-15,GBP,200.00,",
    "C2,Bolt,INV-3,2026-11-10,2026-12-10,GBP,300.00,",
    "C3,Cedar,INV-4,2026-07-13,2026-08-12,EUR,50.00,",
  );
  org = (await findOrgBySlug(deps.store.db, "acme"))!;
  session = await signIn(deps);
});
afterEach(async () => {
  await deps.store.close();
});

interface OrgJson {
  as_of: string;
  scored_on: string | null;
  totals: { currency: string; outstanding: number; overdue: number; customers: number }[];
  aging: Record<string, number>;
  dso: { date: string; dso: number | null }[];
  customers: {
    id: string;
    name: string;
    grade: string | null;
    overdue: number;
    oldest_overdue_days: number;
  }[];
}
interface PortfolioJson {
  organisations: {
    slug: string;
    overdue_change_week: number;
    dso: number | null;
    totals: OrgJson["totals"];
  }[];
}

const get = async <T>(path: string): Promise<T> => {
  const res = await createApp(deps).request(path, { headers: session.headers() });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};
const orgJson = () => get<OrgJson>("/api/orgs/acme");
const portfolioRow = async () => (await get<PortfolioJson>("/api/orgs")).organisations[0]!;
const gbp = (v: OrgJson) => v.totals.find((t) => t.currency === "GBP")!;
const cached = () => readDashboardSummary(deps.store.db, org.id, AS_OF);

const invoice = (over: Partial<CanonicalInvoice> & { externalId: string }): CanonicalInvoice => ({
  contactExternalId: "C1",
  number: over.externalId,
  issueDate: "2026-10-15",
  dueDate: "2026-11-15",
  currency: "GBP",
  totalMinor: 20_000,
  amountPaidMinor: 0,
  amountCreditedMinor: 0,
  amountDueMinor: 20_000,
  status: "authorised",
  ...over,
});

describe("dashboard summary cache", () => {
  it("stores the figures on the first request and serves the same figures from the cache", async () => {
    expect(await cached()).toBeUndefined();
    const first = await orgJson();
    expect(gbp(first)).toMatchObject({ outstanding: 125_000, overdue: 95_000 });
    expect(await cached()).toBeDefined();
    const again = await orgJson();
    expect(again).toEqual(first);
    // Without the cache (rows dropped) the page computes the same figures live.
    await deps.store.db.delete(dashboardSummaries);
    expect(await orgJson()).toEqual(first);
    const p = await portfolioRow();
    await deps.store.db.delete(dashboardSummaries);
    expect(await portfolioRow()).toEqual(p);
  });

  it("shows a payment written through the ledger upserts on the next request", async () => {
    const before = await orgJson();
    const weekBefore = (await portfolioRow()).overdue_change_week;
    await writeLedgerBatch(
      deps.store,
      org.id,
      {
        invoices: [
          invoice({
            externalId: "INV-2",
            amountPaidMinor: 20_000,
            amountDueMinor: 0,
            status: "paid",
            paidOn: "2026-11-19",
          }),
        ],
        payments: [
          {
            externalId: "PAY-9",
            contactExternalId: "C1",
            date: "2026-11-19",
            currency: "GBP",
            amountMinor: 20_000,
            allocations: [{ invoiceExternalId: "INV-2", amountMinor: 20_000, date: "2026-11-19" }],
          },
        ],
      },
      deps.clock.now(),
    );
    expect(await cached()).toBeUndefined();
    const after = await orgJson();
    expect(gbp(after).outstanding).toBe(gbp(before).outstanding - 20_000);
    expect(gbp(after).overdue).toBe(gbp(before).overdue - 20_000);
    expect(after.aging["1-30"]).toBe(before.aging["1-30"]! - 20_000);
    expect((await portfolioRow()).overdue_change_week).toBe(weekBefore - 20_000);
  });

  it("shows a payment allocation alone (no invoice change) in the overdue movement", async () => {
    const weekBefore = (await portfolioRow()).overdue_change_week;
    await upsertPayments(
      deps.store,
      org.id,
      [
        {
          externalId: "PAY-10",
          contactExternalId: "C1",
          date: "2026-11-18",
          currency: "GBP",
          amountMinor: 5_000,
          allocations: [{ invoiceExternalId: "INV-1", amountMinor: 5_000, date: "2026-11-18" }],
        },
      ],
      deps.clock.now(),
    );
    expect((await portfolioRow()).overdue_change_week).toBe(weekBefore - 5_000);
  });

  it("shows a voided invoice on the next request", async () => {
    const before = await orgJson();
    await upsertInvoices(
      deps.store,
      org.id,
      [
        invoice({
          externalId: "INV-3",
          contactExternalId: "C2",
          issueDate: "2026-11-10",
          dueDate: "2026-12-10",
          totalMinor: 30_000,
          amountDueMinor: 0,
          status: "void",
        }),
      ],
      deps.clock.now(),
    );
    const after = await orgJson();
    expect(gbp(after).outstanding).toBe(gbp(before).outstanding - 30_000);
    expect(after.customers.map((c) => c.id)).not.toContain("C2");
  });

  it("shows a credit note allocated to an invoice on the next request", async () => {
    const weekBefore = (await portfolioRow()).overdue_change_week;
    await upsertCreditNotes(
      deps.store,
      org.id,
      [
        {
          externalId: "CN-1",
          contactExternalId: "C1",
          issueDate: "2026-11-17",
          currency: "GBP",
          totalMinor: 10_000,
          remainingMinor: 0,
          status: "authorised",
          allocations: [{ invoiceExternalId: "INV-1", amountMinor: 10_000, date: "2026-11-17" }],
        },
      ],
      deps.clock.now(),
    );
    expect((await portfolioRow()).overdue_change_week).toBe(weekBefore - 10_000);
  });

  it("misses on a new day and ages the invoices by it", async () => {
    const today = await orgJson();
    const c1 = today.customers.find((c) => c.id === "C1")!;
    expect(c1.oldest_overdue_days).toBe(50);
    (deps.clock as Clock & { advance(ms: number): void }).advance(86_400_000);
    session = await signIn(deps); // the day-old session has idled out
    const tomorrow = await orgJson();
    expect(tomorrow.as_of).toBe("2026-11-21");
    expect(tomorrow.customers.find((c) => c.id === "C1")!.oldest_overdue_days).toBe(51);
    expect(tomorrow.dso.at(-1)!.date).toBe("2026-11-21");
  });

  it("reads scores live: a scoring run shows at once and leaves the cached figures valid", async () => {
    const before = await orgJson();
    expect(before.scored_on).toBeNull();
    const version = await ledgerVersionOf(deps.store.db, org.id);
    await runScoring(deps.store, org, { now: deps.clock.now() });
    const after = await orgJson();
    expect(after.scored_on).toBe(AS_OF);
    expect(after.customers.every((c) => c.grade !== null)).toBe(true);
    expect(after.totals).toEqual(before.totals);
    expect(await ledgerVersionOf(deps.store.db, org.id)).toBe(version);
    expect(await cached()).toBeDefined();
  });
});

describe("warming the dashboard figures", () => {
  const job = (name: string) => JOBS.find((j) => j.name === name)!;

  it("the nightly scoring job and the hourly summaries job leave the figures warm", async () => {
    expect(await cached()).toBeUndefined();
    expect(await runJob(job("score"), deps)).toBe(true);
    expect(await cached()).toBeDefined();
    // A write outside sync and import (here by hand) goes stale until the hourly job recomputes it.
    await deps.store.db.delete(dashboardSummaries);
    expect(await runJob(job("summaries"), deps)).toBe(true);
    expect(await cached()).toBeDefined();
  });

  it("a CSV import through the CLI leaves the figures warm", async () => {
    const f = tempFiles({
      "more.csv": csv(
        "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid",
        "C4,Dune,INV-5,2026-10-01,2026-10-31,GBP,80.00,",
      ),
    });
    await orgJson(); // cached before the import
    const r = await runCli(["import", f["more.csv"]!, "--org", "acme"], deps.store, deps.clock);
    expect(r.code).toBe(0);
    const warm = await cached();
    expect(warm?.customers.map((c) => c.externalId)).toContain("C4");
  });
});
