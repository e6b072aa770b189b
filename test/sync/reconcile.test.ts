/**
 * Reconciliation: zero mismatches after syncing the demo-shaped fake Xero and importing the CSV fixtures; the
 * customer is named when one invoice is altered behind the store's back (CLI `reconcile`, JSON shape, exit 1).
 */
import { fileURLToPath } from "node:url";
import { and, eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildDigest } from "../../src/digest/build";
import { loadDigestRows } from "../../src/digest/load";
import { renderDigest } from "../../src/digest/send";
import { createApp } from "../../src/http/app";
import { lastReconciliation } from "../../src/store/reconcile";
import { invoices } from "../../src/store/schema";
import { syncConnection } from "../../src/sync/sync-connections";
import { seedLedger, xeroHarness } from "../connectors/xero/harness";
import { signIn } from "../support/auth";
import { runCli } from "../support/cli";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const csvFixture = (name: string) => fileURLToPath(new URL(`../fixtures/csv/${name}`, import.meta.url));

describe("reconcile: Xero", () => {
  it("matches every customer's balance with Xero's after a sync, and names the one altered behind the store's back", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    const ids = seedLedger(h.fake.data());
    const [first] = await h.connect();
    const org = first!.org;
    expect((await syncConnection(h.deps, first!.connection)).status).toBe("ok");
    const saved = await lastReconciliation(h.deps.store.db, org.id);
    expect(saved).toMatchObject({ customersChecked: 4, mismatched: [] });

    const clean = await runCli(["reconcile", "--org", org.slug, "--json"], h.deps.store, h.clock);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toEqual({ customers_checked: 4, mismatched: [] });

    // INV-0003 (City Agency, 2,500.00 due) is altered in the store only.
    await h.deps.store.db
      .update(invoices)
      .set({ amountDueMinor: 200_000 })
      .where(and(eq(invoices.orgId, org.id), eq(invoices.externalId, ids.inv(3))));
    const bad = await runCli(["reconcile", "--org", org.slug, "--json"], h.deps.store, h.clock);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({
      customers_checked: 4,
      mismatched: [{ customer_id: ids.c(2), ours: 200_000 + 5000, theirs: 250_000 + 5000, currency: "NZD" }],
    });
    // The organisation page shows a banner with the count; the weekly digest has one line.
    const app = createApp(h.deps);
    const session = await signIn(h.deps);
    const page = await (await app.request(`/orgs/${org.slug}`, { headers: session.headers() })).text();
    expect(page).toContain("1 customer&#39;s balance differs from Xero&#39;s own figures");
    const rows = await loadDigestRows(h.deps.store.db, org, "2026-11-23");
    const digest = await renderDigest(
      buildDigest([rows], "2026-11-23", "https://creditpulse.example.com", h.clock.now()),
      "https://creditpulse.example.com",
    );
    expect(digest.text).toContain(
      "Reconciliation: 1 customer balance(s) differ from the ledger's own figures.",
    );
    const text = await runCli(["reconcile", "--org", org.slug], h.deps.store, h.clock);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${ids.c(2)}: Creditpulse NZ$2,050.00, ledger NZ$2,550.00`);

    // The next sync re-reads the mismatched customer's open invoices once and puts it right.
    h.clock.advance(15 * 60_000);
    expect((await syncConnection(h.deps, first!.connection)).status).toBe("ok");
    expect((await lastReconciliation(h.deps.store.db, org.id))!.mismatched).toEqual([]);
    const after = await (await app.request(`/orgs/${org.slug}`, { headers: session.headers() })).text();
    expect(after).not.toContain("reconcile-banner");
    expect(h.fake.apiCalls("/Invoices").some((c) => c.query.IDs?.includes(ids.inv(3)))).toBe(true);
  });

  it("refreshes a stale balance by re-reading the contact when Xero changed it without touching the contact", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    const ids = seedLedger(h.fake.data());
    const [first] = await h.connect();
    expect((await syncConnection(h.deps, first!.connection)).status).toBe("ok");
    // A payment of INV-0006 in full: the invoice is modified, the contact (and its Balances) is not bumped.
    h.clock.advance(60 * 60_000);
    const inv6 = h.fake.data().Invoices.find((i) => i.InvoiceID === ids.inv(6))!;
    Object.assign(inv6, {
      AmountDue: 0,
      AmountPaid: 1200,
      Status: "PAID",
      UpdatedDateUTC: `/Date(${h.clock.now()}+0000)/`,
    });
    expect((await syncConnection(h.deps, first!.connection)).status).toBe("ok");
    expect((await lastReconciliation(h.deps.store.db, first!.org.id))!.mismatched).toEqual([]);
  });
});

describe("reconcile: CSV organisations check the import's own totals", () => {
  it("reports no mismatch after an import and names the customer whose invoice was altered", async () => {
    const h = await xeroHarness();
    const store = h.deps.store;
    const imported = await runCli(
      [
        "import",
        csvFixture("invoices.csv"),
        "--org",
        "acme-csv",
        "--payments",
        csvFixture("payments.csv"),
        "--currency",
        "GBP",
        "--json",
      ],
      store,
      h.clock,
    );
    expect(imported.code).toBe(0);
    const clean = await runCli(["reconcile", "--org", "acme-csv", "--json"], store, h.clock);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toEqual({ customers_checked: 3, mismatched: [] });
    await store.db.update(invoices).set({ amountDueMinor: 40_000 }).where(eq(invoices.number, "INV-1002"));
    const bad = await runCli(["reconcile", "--org", "acme-csv", "--json"], store, h.clock);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({
      customers_checked: 3,
      mismatched: [{ customer_id: "C001", ours: 40_000, theirs: 50_050, currency: "GBP" }],
    });
  });
});

describe("reconcile: the demo organisation", () => {
  it("the generated demo ledger reconciles with no mismatch", async () => {
    const h = await xeroHarness();
    const seeded = await runCli(["demo", "--customers", "20", "--json"], h.deps.store, h.clock);
    expect(seeded.code).toBe(0);
    const r = await runCli(["reconcile", "--org", "demo", "--json"], h.deps.store, h.clock);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ customers_checked: 20, mismatched: [] });
  });
});
