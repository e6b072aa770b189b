/**
 * D1 binds at most 100 parameters per statement. The store opened with `maxParams: 100` refuses any statement
 * over that (as D1 does: "too many SQL variables") and makes the query code chunk to it; the heavy paths run
 * here at sizes that would exceed it: the demo ledger of 1,000 customers imported, scored twice (a week apart,
 * so deterioration alerts are recorded), the dashboard figures, the reminder plan load and a real reminder run
 * claiming hundreds of customers, and the digest rows.
 */

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { loadDigestRows } from "../../src/digest/load";
import { seedDemo } from "../../src/import/demo";
import { silentLogger } from "../../src/log";
import type { Mailer, OutgoingMail } from "../../src/mail/mailer";
import { addDays, dateInZone } from "../../src/model";
import { runReminders } from "../../src/reminders/dispatch";
import { runScoring } from "../../src/scoring/run-scoring";
import { warmTodaysSummary } from "../../src/store/dashboard-summary";
import type { Store } from "../../src/store/db";
import { listOrgs, type Organisation } from "../../src/store/orgs";
import { loadPlanRows } from "../../src/store/plan-rows";
import { contacts, reminders } from "../../src/store/schema";
import { DETERIORATION_ALERT } from "../../src/store/scores";
import { countParams, openSqliteStore } from "../../src/store/sqlite";

const NOW = Date.parse("2026-11-24T10:30:00Z"); // a Tuesday morning in London

describe("every statement binds at most 100 parameters (D1)", () => {
  let store: Store;
  let org: Organisation;

  beforeAll(async () => {
    store = openSqliteStore(":memory:", { maxParams: 100 });
    await seedDemo(store, { now: NOW, customers: 1000, seed: 7 });
    org = (await listOrgs(store.db))[0]!;
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  it("the guard counts placeholders outside quotes and refuses a statement over 100", async () => {
    expect(countParams("select ? , '?' , \"a?\" , ?")).toBe(2);
    const many = Array.from({ length: 101 }, () => "?").join(",");
    const err = await (async () => store.db.run(sql.raw(`select ${many}`)))().then(
      () => null,
      (e: Error) => e,
    );
    expect(String(err?.cause ?? err)).toMatch(/too many SQL variables: 101/);
  });

  it("imports, scores 1,000 customers twice and records the deterioration alerts", async () => {
    const [{ n }] = (await store.db.all(sql`select count(*) as n from contacts`)) as [{ n: number }];
    expect(n).toBe(1000);
    const today = dateInZone(NOW, org.timezone);
    const weekAgo = await runScoring(store, org, { now: NOW, asOf: addDays(today, -7) });
    const r = await runScoring(store, org, { now: NOW, asOf: today });
    expect(r.results).toHaveLength(1000);
    const [{ alerts }] = (await store.db.all(
      sql`select count(*) as alerts from audit_log where action = ${DETERIORATION_ALERT}`,
    )) as [{ alerts: number }];
    expect(weekAgo.newAlerts.length).toBeGreaterThan(0);
    expect(alerts).toBe(weekAgo.newAlerts.length + r.newAlerts.length);
  }, 120_000);

  it("computes the dashboard figures, the reminder plan rows and the digest rows", async () => {
    const today = dateInZone(NOW, org.timezone);
    expect(await warmTodaysSummary(store, org, NOW)).toBe("computed");
    const rows = await loadPlanRows(store.db, org, { asOf: today, maxDueDate: today });
    expect(rows.invoices.length).toBeGreaterThan(100);
    const digest = await loadDigestRows(store.db, org, today);
    expect(digest).toBeDefined();
  }, 60_000);

  it("a reminder run claims and sends to hundreds of customers", async () => {
    const config = loadConfig({
      MAIL_FROM: "credit@demo.test",
      SMTP_URL: "smtp://127.0.0.1:25",
      LOG_LEVEL: "silent",
    });
    // What is under test is the store's statements: mail goes to a Mailer that keeps what it is given.
    const outbox: OutgoingMail[] = [];
    const mailer: Mailer = {
      async send(m) {
        outbox.push(m);
        return { messageId: m.messageId, accepted: m.to, rejected: [], response: "250 kept" };
      },
      async close() {},
    };
    try {
      const report = await runReminders(
        { store, config, log: silentLogger, secret: "s".repeat(40), mailer },
        { org, at: { kind: "instant", at: fixedClock(NOW).now() }, now: NOW },
      );
      const sent = report.emails.filter((e) => e.status === "sent").length;
      expect(sent).toBeGreaterThan(100);
      expect(outbox.length).toBeGreaterThanOrEqual(sent);
      const [{ claimed }] = (await store.db.all(
        sql`select count(distinct contact_id) as claimed from ${reminders}`,
      )) as [{ claimed: number }];
      expect(claimed).toBeGreaterThanOrEqual(sent);
    } finally {
      await mailer.close();
    }
    expect((await store.db.select().from(contacts)).length).toBe(1000);
  }, 120_000);

  it("a CSV file of 300 invoices imported into an existing organisation, then re-imported", async () => {
    const { tempFiles } = await import("../support/files");
    const { importCsv } = await import("../../src/import/csv-import");
    const header = "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid";
    const rows = Array.from(
      { length: 300 },
      (_, i) =>
        `K${i % 40},Cust ${i % 40},CSV-${i},2026-09-01,2026-10-01,GBP,${i + 1}.00,${i % 3 === 0 ? "1.00" : ""}`,
    );
    const first = tempFiles({
      "invoices.csv": [header, "K0,Cust 0,CSV-seed,2026-09-01,2026-10-01,GBP,5.00,"].join("\n"),
    });
    expect(
      (
        await importCsv(store, {
          org: "csvshop",
          invoices: first["invoices.csv"]!,
          currency: "GBP",
          now: NOW,
        })
      ).ok,
    ).toBe(true);
    const f = tempFiles({ "invoices.csv": [header, ...rows].join("\n") });
    const r = await importCsv(store, { org: "csvshop", invoices: f["invoices.csv"]!, now: NOW });
    expect(r.ok && r.summary.invoices.created).toBe(300);
    // Payments changed in the file: the re-import compares and retires the ones no longer listed.
    const g = tempFiles({
      "invoices.csv": [header, ...rows.map((l) => l.replace(/,1\.00$/, ","))].join("\n"),
    });
    const again = await importCsv(store, { org: "csvshop", invoices: g["invoices.csv"]!, now: NOW + 60_000 });
    expect(again.ok && again.summary.invoices.updated).toBe(100);
  }, 60_000);
});
