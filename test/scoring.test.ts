import { describe, expect, it } from "vitest";
import { fixedClock } from "../src/clock";
import { generateDemoLedger } from "../src/demo/generate";
import { seedDemo } from "../src/import/demo";
import { formatMinor } from "../src/model";
import { runScoring } from "../src/scoring/run-scoring";
import { findOrgBySlug } from "../src/store/orgs";
import { auditLog, scores } from "../src/store/schema";
import { runCli } from "./support/cli";
import { testStore } from "./support/db";
import { csv, tempFiles } from "./support/files";

/** The demo ledger as CSV files, optionally as it stood on `cut` (later invoices and payments left out). */
function ledgerCsv(cut?: string) {
  const ledger = generateDemoLedger({ customers: 30, seed: 11, asOf: "2026-11-20" });
  const names = new Map(ledger.contacts.map((c) => [c.externalId, c.name.replaceAll(",", " ")]));
  const invRows: string[] = [];
  const payRows: string[] = [];
  for (const inv of ledger.invoices) {
    if (cut && inv.issueDate > cut) continue;
    if (inv.status === "void") continue;
    invRows.push(
      [
        inv.contactExternalId,
        names.get(inv.contactExternalId),
        inv.number,
        inv.issueDate,
        inv.dueDate,
        inv.currency,
        formatMinor(inv.totalMinor, inv.currency),
      ].join(","),
    );
  }
  const numberOf = new Map(ledger.invoices.map((i) => [i.externalId, i.number]));
  const kept = new Set(
    ledger.invoices
      .filter((i) => (!cut || i.issueDate <= cut) && i.status !== "void")
      .map((i) => i.externalId),
  );
  for (const p of ledger.payments)
    for (const a of p.allocations)
      if (kept.has(a.invoiceExternalId) && (!cut || a.date <= cut))
        payRows.push(
          [numberOf.get(a.invoiceExternalId), a.date, formatMinor(a.amountMinor, p.currency)].join(","),
        );
  // Credit notes have no CSV form: count credited amounts as payments on the credit date so totals still settle.
  for (const cn of ledger.creditNotes)
    for (const a of cn.allocations)
      if (kept.has(a.invoiceExternalId) && (!cut || a.date <= cut))
        payRows.push(
          [numberOf.get(a.invoiceExternalId), a.date, formatMinor(a.amountMinor, cn.currency)].join(","),
        );
  return tempFiles({
    "invoices.csv": csv(
      "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total",
      ...invRows,
    ),
    "payments.csv": csv("invoice_number,payment_date,amount", ...payRows),
  });
}

describe("creditpulse score", () => {
  it("prints the documented JSON fields for every customer, riskiest first", async () => {
    const store = testStore();
    const clock = fixedClock("2026-11-20T10:00:00Z");
    await seedDemo(store, { customers: 12, seed: 2, now: clock.now() });
    const r = await runCli(["score", "--org", "demo", "--json"], store, clock);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(
        [
          "currency",
          "customer_id",
          "grade",
          "late_probability",
          "name",
          "outstanding",
          "overdue",
          "reasons",
          "score",
          "trend",
          "trend_change_days",
        ].sort(),
      );
      expect(row.score).toBeGreaterThanOrEqual(0);
      expect(row.score).toBeLessThanOrEqual(100);
      expect(["A", "B", "C", "D", "E"]).toContain(row.grade);
    }
    const byScore = rows.map((x: { score: number }) => x.score);
    expect(byScore).toEqual([...byScore].sort((a: number, b: number) => a - b));
    // Today's run is stored as history; a back-dated run is not.
    expect((await store.db.select().from(scores)).length).toBe(12);
    await runCli(["score", "--org", "demo", "--as-of", "2026-06-01", "--json"], store, clock);
    expect((await store.db.select().from(scores)).length).toBe(12);
  });

  it("scores the full ledger as of D exactly as the ledger that stood on D", async () => {
    const store = testStore();
    const clock = fixedClock("2026-11-20T10:00:00Z");
    const full = ledgerCsv();
    const cut = ledgerCsv("2026-05-31");
    for (const [org, f] of [
      ["full", full],
      ["cut", cut],
    ] as const) {
      const r = await runCli(
        ["import", f["invoices.csv"]!, "--payments", f["payments.csv"]!, "--org", org, "--currency", "GBP"],
        store,
        clock,
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const a = await runCli(["score", "--org", "full", "--as-of", "2026-05-31", "--json"], store, clock);
    const b = await runCli(["score", "--org", "cut", "--as-of", "2026-05-31", "--json"], store, clock);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
    expect(JSON.parse(a.stdout)).not.toEqual(
      JSON.parse((await runCli(["score", "--org", "full", "--json"], store, clock)).stdout),
    );
  });

  it("refuses an unknown organisation or a bad date", async () => {
    const store = testStore();
    expect((await runCli(["score", "--org", "nope"], store)).code).toBe(2);
    const bad = await runCli(["score", "--org", "nope", "--as-of", "31/05/2026"], store);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--as-of "31\/05\/2026"/);
  });
});

describe("creditpulse forecast", () => {
  it("prints the documented JSON per currency, and the full ledger as of D forecasts like the ledger of D", async () => {
    const store = testStore();
    const clock = fixedClock("2026-11-20T10:00:00Z");
    for (const [org, f] of [
      ["full", ledgerCsv()],
      ["cut", ledgerCsv("2026-05-31")],
    ] as const) {
      const r = await runCli(
        ["import", f["invoices.csv"]!, "--payments", f["payments.csv"]!, "--org", org, "--currency", "GBP"],
        store,
        clock,
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const a = await runCli(["forecast", "--org", "full", "--as-of", "2026-05-31", "--json"], store, clock);
    const b = await runCli(["forecast", "--org", "cut", "--as-of", "2026-05-31", "--json"], store, clock);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
    const today = JSON.parse((await runCli(["forecast", "--org", "full", "--json"], store, clock)).stdout);
    // Several currencies: one object per currency, the organisation's base currency first.
    const list = Array.isArray(today) ? today : [today];
    expect(list[0].currency).toBe("GBP");
    for (const f of list) {
      expect(Object.keys(f).sort()).toEqual(["currency", "invoices", "weeks"]);
      expect(f.weeks).toHaveLength(13);
      for (const w of f.weeks)
        expect(Object.keys(w).sort()).toEqual(["expected", "p10", "p90", "week_start"]);
      expect(f.weeks[0].week_start).toBe("2026-11-21");
      for (const i of f.invoices) {
        expect(Object.keys(i).sort()).toEqual(
          ["customer_id", "expected_date", "invoice_number", "p_paid_30", "p_paid_60", "p_paid_90"].sort(),
        );
        expect(i.expected_date > "2026-11-20").toBe(true);
      }
    }
    expect(list.reduce((n: number, f: { invoices: unknown[] }) => n + f.invoices.length, 0)).toBeGreaterThan(
      0,
    );
    expect((await runCli(["forecast", "--org", "nope"], store)).code).toBe(2);
  });
});

describe("deterioration alerts", () => {
  it("flags the demo's deteriorating customers, not its reliable ones, and alerts once per episode", async () => {
    const store = testStore();
    const now = Date.parse("2026-11-20T10:00:00Z");
    await seedDemo(store, { customers: 60, seed: 5, now });
    const org = (await findOrgBySlug(store.db, "demo"))!;
    const truth = generateDemoLedger({ customers: 60, seed: 5, asOf: "2026-11-20" }).truth;
    const r = await runScoring(store, org, { now });
    const trendOf = new Map(r.results.map((s) => [s.customer_id, s.trend]));
    const deteriorating = truth.filter((t) => t.profile === "deteriorating");
    const reliable = truth.filter((t) => t.profile === "reliable" || t.profile === "early");
    const caught = deteriorating.filter((t) => trendOf.get(t.contactExternalId) === "deteriorating").length;
    const falseAlarms = reliable.filter((t) => trendOf.get(t.contactExternalId) === "deteriorating").length;
    expect(caught / deteriorating.length).toBeGreaterThanOrEqual(0.8);
    expect(falseAlarms / reliable.length).toBeLessThanOrEqual(0.1);
    expect(r.newAlerts.length).toBeGreaterThan(0);

    // The next days' runs find the same episodes: no new alert.
    const again = await runScoring(store, org, { now: now + 86_400_000 });
    const third = await runScoring(store, org, { now: now + 2 * 86_400_000 });
    expect(again.newAlerts).toEqual([]);
    expect(third.newAlerts).toEqual([]);
    const alerts = (await store.db.select().from(auditLog)).filter(
      (a) => a.action === "monitor.deteriorating",
    );
    expect(alerts).toHaveLength(r.newAlerts.length);
  });
});
