import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../src/clock";
import type { Store } from "../src/store/db";
import { invoices } from "../src/store/schema";
import { runCli } from "./support/cli";
import { testStore } from "./support/db";
import { csv, tempFiles } from "./support/files";

let store: Store;
beforeEach(() => {
  store = testStore();
});
afterEach(async () => {
  await store.close();
});

const clock = fixedClock("2026-11-20T10:00:00Z");

describe("creditpulse CLI", () => {
  it("prints help for every command and exits 0", async () => {
    for (const cmd of [[], ["serve"], ["import"], ["demo"], ["migrate"]]) {
      const r = await runCli([...cmd, "--help"], store, clock);
      expect(r.code, cmd.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/Usage: creditpulse/);
    }
  });

  it("exits 2 naming the problem for an unknown command or a missing option", async () => {
    const unknown = await runCli(["frobnicate"], store, clock);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const missing = await runCli(["import", "x.csv"], store, clock);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--org <slug>/);
  });

  it("imports a CSV ledger and prints the summary as JSON", async () => {
    const f = tempFiles({
      "invoices.csv": csv(
        "customer_id,customer_name,invoice_number,issue_date,due_date,total",
        "C1,Acme,INV-1,2026-10-01,2026-10-31,120.00",
        "C1,Acme,INV-2,2026-10-05,2026-11-04,80.00",
      ),
    });
    const r = await runCli(
      ["import", f["invoices.csv"]!, "--org", "acme", "--currency", "gbp", "--json"],
      store,
      clock,
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      ok: true,
      organisation: { slug: "acme", created: true },
      customers: { created: 1, updated: 0, unchanged: 0 },
      invoices: { created: 2, updated: 0, unchanged: 0 },
      payments: { created: 0, updated: 0, unchanged: 0 },
    });
    const again = JSON.parse(
      (await runCli(["import", f["invoices.csv"]!, "--org", "acme", "--json"], store, clock)).stdout,
    );
    expect(again.invoices).toEqual({ created: 0, updated: 0, unchanged: 2 });
  });

  it("exits 1 and lists every bad row with file and line, writing nothing", async () => {
    const f = tempFiles({
      "invoices.csv": csv(
        "customer_id,customer_name,invoice_number,issue_date,due_date,total",
        "C1,Acme,INV-1,2026-10-01,2026-09-30,120.00",
        "C1,Acme,INV-2,yesterday,2026-11-04,80.00",
      ),
    });
    const r = await runCli(
      ["import", f["invoices.csv"]!, "--org", "acme", "--currency", "GBP"],
      store,
      clock,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Nothing was imported: 2 problem/);
    expect(r.stderr).toMatch(
      /invoices\.csv:2 \[due_date\]: due date 2026-09-30 is before issue date 2026-10-01/,
    );
    expect(r.stderr).toMatch(/invoices\.csv:3 \[issue_date\]: bad date "yesterday"/);
    expect(await store.db.select().from(invoices)).toHaveLength(0);

    const json = await runCli(
      ["import", f["invoices.csv"]!, "--org", "acme", "--currency", "GBP", "--json"],
      store,
      clock,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error_count: 2 });
  });

  it("refuses a bad --currency or --timezone with exit 2", async () => {
    const f = tempFiles({
      "invoices.csv": csv("customer_id,customer_name,invoice_number,issue_date,due_date,total"),
    });
    const cur = await runCli(
      ["import", f["invoices.csv"]!, "--org", "acme", "--currency", "POUNDS"],
      store,
      clock,
    );
    expect(cur.code).toBe(2);
    expect(cur.stderr).toMatch(/--currency "POUNDS"/);
    const tz = await runCli(
      ["import", f["invoices.csv"]!, "--org", "acme", "--currency", "GBP", "--timezone", "Nowhere/Land"],
      store,
      clock,
    );
    expect(tz.code).toBe(2);
    expect(tz.stderr).toMatch(/--timezone "Nowhere\/Land"/);
  });

  it("creates a demo organisation idempotently from a seed", async () => {
    const first = await runCli(["demo", "--customers", "12", "--seed", "7", "--json"], store, clock);
    expect(first.code).toBe(0);
    const r1 = JSON.parse(first.stdout);
    expect(r1.organisation.created).toBe(true);
    expect(r1.asOf).toBe("2026-11-20");
    expect(r1.counts.contacts.created).toBe(12);
    expect(r1.counts.invoices.created).toBeGreaterThan(100);
    const second = JSON.parse(
      (await runCli(["demo", "--customers", "12", "--seed", "7", "--json"], store, clock)).stdout,
    );
    expect(second.organisation.created).toBe(false);
    expect(second.counts.invoices).toEqual({ created: 0, updated: 0, unchanged: r1.counts.invoices.created });
  });

  it("reports a bad setting by name", async () => {
    let stderr = "";
    const { run } = await import("../src/cli");
    const code = await run(["migrate"], {
      env: { PORT: "not-a-port" },
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
      },
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/PORT/);
  });
});
