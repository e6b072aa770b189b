import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importCsv } from "../../src/import/csv-import";
import type { Store } from "../../src/store/db";
import { contacts, invoices, organisations, paymentAllocations, payments } from "../../src/store/schema";
import { testStore } from "../support/db";
import { csv, tempFiles } from "../support/files";

const HEADER =
  "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total,amount_paid,paid_date,status";
const NOW = Date.parse("2026-11-20T10:00:00Z");

let store: Store;
beforeEach(() => {
  store = testStore();
});
afterEach(async () => {
  await store.close();
});

async function importFiles(
  files: Record<string, string>,
  extra: Partial<Parameters<typeof importCsv>[1]> = {},
) {
  const f = tempFiles(files);
  return importCsv(store, {
    org: "acme",
    invoices: f["invoices.csv"]!,
    payments: f["payments.csv"],
    customers: f["customers.csv"],
    currency: "GBP",
    now: NOW,
    ...extra,
  });
}

async function invoiceRows() {
  return store.db.select().from(invoices).orderBy(invoices.number);
}

describe("CSV import: happy path", () => {
  it("creates the organisation, customers, invoices and payments with amounts in minor units", async () => {
    const result = await importFiles({
      "invoices.csv": csv(
        HEADER,
        "C1,Acme Ltd,a@acme.example;b@acme.example,INV-1,2026-08-01,2026-08-31,GBP,1200.00,,2026-09-05,",
        "C1,Acme Ltd,a@acme.example,INV-2,2026-09-01,2026-10-01,GBP,800.5,300,,",
        "C2,Yen Corp,y@yen.example,INV-3,2026-09-10,2026-10-10,JPY,25000,,,",
        "C3,Cedar,,INV-4,2026-10-01,2026-10-31,,99.99,,,void",
      ),
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.summary.organisation).toEqual({ slug: "acme", name: "Acme", created: true });
    expect(result.summary.customers).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect(result.summary.invoices).toEqual({ created: 4, updated: 0, unchanged: 0 });
    // INV-1 paid in full on a known date: one synthesized payment.
    expect(result.summary.payments).toEqual({ created: 1, updated: 0, unchanged: 0 });

    const rows = await invoiceRows();
    expect(
      rows.map((r) => [r.number, r.status, r.totalMinor, r.amountPaidMinor, r.amountDueMinor, r.paidOn]),
    ).toEqual([
      ["INV-1", "paid", 120000, 120000, 0, "2026-09-05"],
      ["INV-2", "authorised", 80050, 30000, 50050, null],
      ["INV-3", "authorised", 25000, 0, 25000, null],
      ["INV-4", "void", 9999, 0, 0, null],
    ]);
    expect(rows.find((r) => r.number === "INV-3")?.currency).toBe("JPY");
    const acme = await store.db.select().from(contacts).where(eq(contacts.externalId, "C1"));
    expect(acme[0]?.emails).toEqual(["a@acme.example"]);
    const org = await store.db.select().from(organisations);
    expect(org[0]).toMatchObject({ slug: "acme", baseCurrency: "GBP", timezone: "UTC", provider: "csv" });
  });

  it("accepts columns in any order and any case", async () => {
    const result = await importFiles({
      "invoices.csv": csv(
        "TOTAL,Due_Date,Issue_Date,Invoice_Number,Customer_Name,CUSTOMER_ID",
        "10.00,2026-02-01,2026-01-01,X-1,Zed,Z",
      ),
    });
    expect(result.ok).toBe(true);
    expect((await invoiceRows())[0]).toMatchObject({
      number: "X-1",
      totalMinor: 1000,
      dueDate: "2026-02-01",
    });
  });

  it("uses payments.csv as the payment truth, with partial payments", async () => {
    const result = await importFiles({
      "invoices.csv": csv(
        HEADER,
        "C1,Acme,,INV-1,2026-08-01,2026-08-31,GBP,100.00,100,2026-08-02,",
        "C1,Acme,,INV-2,2026-08-01,2026-08-31,GBP,100.00,,,",
      ),
      "payments.csv": csv(
        "invoice_number,payment_date,amount",
        "INV-1,2026-09-01,40",
        "INV-1,2026-09-10,60.00",
        "INV-2,2026-09-03,25.5",
      ),
    });
    expect(result.ok).toBe(true);
    const rows = await invoiceRows();
    expect(rows.map((r) => [r.number, r.status, r.amountPaidMinor, r.amountDueMinor, r.paidOn])).toEqual([
      ["INV-1", "paid", 10000, 0, "2026-09-10"],
      ["INV-2", "authorised", 2550, 7450, null],
    ]);
    const allocs = await store.db.select().from(paymentAllocations);
    expect(allocs.map((a) => [a.amountMinor, a.date]).sort()).toEqual([
      [2550, "2026-09-03"],
      [4000, "2026-09-01"],
      [6000, "2026-09-10"],
    ]);
  });

  it("takes names, credit limits and timezones from customers.csv", async () => {
    const result = await importFiles({
      "invoices.csv": csv(
        "customer_id,invoice_number,issue_date,due_date,total",
        "C1,INV-1,2026-08-01,2026-08-31,10",
      ),
      "customers.csv": csv(
        "customer_id,customer_name,customer_email,credit_limit,timezone",
        "C1,Acme Ltd,ar@acme.example,5000.00,Pacific/Auckland",
      ),
    });
    expect(result.ok).toBe(true);
    const c = (await store.db.select().from(contacts))[0];
    expect(c).toMatchObject({
      name: "Acme Ltd",
      emails: ["ar@acme.example"],
      creditLimitMinor: 500000,
      timezone: "Pacific/Auckland",
    });
  });
});

describe("CSV import: re-import", () => {
  const files = {
    "invoices.csv": csv(
      HEADER,
      "C1,Acme,a@acme.example,INV-1,2026-08-01,2026-08-31,GBP,100.00,,,",
      "C2,Bolt,b@bolt.example,INV-2,2026-08-01,2026-08-31,GBP,50.00,,2026-09-01,",
    ),
    "payments.csv": undefined as unknown as string,
  };

  it("changes nothing when the same files are imported again", async () => {
    const first = await importFiles({ "invoices.csv": files["invoices.csv"] });
    const before = await invoiceRows();
    const again = await importFiles({ "invoices.csv": files["invoices.csv"] });
    expect(first.ok && again.ok).toBe(true);
    if (!again.ok) return;
    expect(again.summary.organisation.created).toBe(false);
    expect(again.summary.customers).toEqual({ created: 0, updated: 0, unchanged: 2 });
    expect(again.summary.invoices).toEqual({ created: 0, updated: 0, unchanged: 2 });
    expect(again.summary.payments).toEqual({ created: 0, updated: 0, unchanged: 1 });
    expect(await invoiceRows()).toEqual(before);
  });

  it("updates only what changed in an updated file, keyed by customer_id and invoice_number", async () => {
    await importFiles({ "invoices.csv": files["invoices.csv"] });
    const [inv1Before] = await invoiceRows();
    const updated = await importFiles(
      {
        "invoices.csv": csv(
          HEADER,
          "C1,Acme Renamed,a@acme.example,INV-1,2026-08-01,2026-09-15,GBP,100.00,,,",
          "C2,Bolt,b@bolt.example,INV-2,2026-08-01,2026-08-31,GBP,50.00,,2026-09-01,",
          "C2,Bolt,b@bolt.example,INV-3,2026-10-01,2026-10-31,GBP,70.00,,,",
        ),
      },
      { now: NOW + 60_000 },
    );
    if (!updated.ok) throw new Error("import failed");
    expect(updated.summary.customers).toEqual({ created: 0, updated: 1, unchanged: 1 });
    expect(updated.summary.invoices).toEqual({ created: 1, updated: 1, unchanged: 1 });
    const [inv1] = await invoiceRows();
    expect(inv1).toMatchObject({ id: inv1Before!.id, dueDate: "2026-09-15", updatedAt: NOW + 60_000 });
  });

  it("retires a payment that is no longer in payments.csv, so the invoice is open again", async () => {
    const inv = csv(HEADER, "C1,Acme,,INV-1,2026-08-01,2026-08-31,GBP,100.00,,,");
    await importFiles({
      "invoices.csv": inv,
      "payments.csv": csv("invoice_number,payment_date,amount", "INV-1,2026-09-01,40", "INV-1,2026-09-02,60"),
    });
    expect((await invoiceRows())[0]?.status).toBe("paid");
    const second = await importFiles(
      {
        "invoices.csv": inv,
        "payments.csv": csv("invoice_number,payment_date,amount", "INV-1,2026-09-01,40"),
      },
      { now: NOW + 60_000 },
    );
    if (!second.ok) throw new Error("import failed");
    expect((await invoiceRows())[0]).toMatchObject({
      status: "authorised",
      amountPaidMinor: 4000,
      amountDueMinor: 6000,
    });
    const live = await store.db.select().from(payments).where(eq(payments.deleted, false));
    expect(live.map((p) => p.externalId)).toEqual(["INV-1#1"]);
    expect(await store.db.select().from(paymentAllocations)).toHaveLength(1);
  });
});

describe("CSV import: validation reports every bad row and writes nothing", () => {
  const good = "C1,Acme,a@acme.example,INV-OK,2026-08-01,2026-08-31,GBP,10.00,,,";
  const cases: [
    string,
    Record<string, string>,
    { file: string; line: number; column: string | null; reason: RegExp },
  ][] = [
    [
      "a bad date",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,INV-2,2026-13-01,2026-08-31,GBP,1,,,") },
      { file: "invoices.csv", line: 3, column: "issue_date", reason: /bad date "2026-13-01"/ },
    ],
    [
      "a due date before the issue date",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,INV-2,2026-08-01,2026-07-01,GBP,1,,,") },
      { file: "invoices.csv", line: 3, column: "due_date", reason: /before issue date/ },
    ],
    [
      "a negative total",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,INV-2,2026-08-01,2026-08-31,GBP,-5.00,,,") },
      { file: "invoices.csv", line: 3, column: "total", reason: /negative total/ },
    ],
    [
      "an unknown currency",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,INV-2,2026-08-01,2026-08-31,XYZ,5,,,") },
      { file: "invoices.csv", line: 3, column: "currency", reason: /unknown currency "XYZ"/ },
    ],
    [
      "a duplicate invoice number",
      { "invoices.csv": csv(HEADER, good, "C2,Bolt,,INV-OK,2026-08-01,2026-08-31,GBP,5,,,") },
      {
        file: "invoices.csv",
        line: 3,
        column: "invoice_number",
        reason: /duplicate invoice number "INV-OK" \(first on line 2\)/,
      },
    ],
    [
      "paid more than the total",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,INV-2,2026-08-01,2026-08-31,GBP,5,6,,") },
      { file: "invoices.csv", line: 3, column: "amount_paid", reason: /more than the total/ },
    ],
    [
      "an amount with too many decimals",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,INV-2,2026-08-01,2026-08-31,GBP,5.001,,,") },
      { file: "invoices.csv", line: 3, column: "total", reason: /not an amount in GBP/ },
    ],
    [
      "a bad email",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,not-an-email,INV-2,2026-08-01,2026-08-31,GBP,5,,,") },
      {
        file: "invoices.csv",
        line: 3,
        column: "customer_email",
        reason: /not an email address: not-an-email/,
      },
    ],
    [
      "a missing required value",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,,2026-08-01,2026-08-31,GBP,5,,,") },
      { file: "invoices.csv", line: 3, column: "invoice_number", reason: /required value is empty/ },
    ],
    [
      "an unknown status",
      { "invoices.csv": csv(HEADER, good, "C1,Acme,,INV-2,2026-08-01,2026-08-31,GBP,5,,,cancelled") },
      { file: "invoices.csv", line: 3, column: "status", reason: /unknown status/ },
    ],
    [
      "a missing required column",
      {
        "invoices.csv": csv(
          "customer_id,customer_name,invoice_number,issue_date,total",
          "C1,Acme,INV-1,2026-08-01,5",
        ),
      },
      { file: "invoices.csv", line: 1, column: "due_date", reason: /missing required column/ },
    ],
    [
      "a payment for an unknown invoice",
      {
        "invoices.csv": csv(HEADER, good),
        "payments.csv": csv("invoice_number,payment_date,amount", "INV-NOPE,2026-09-01,5"),
      },
      { file: "payments.csv", line: 2, column: "invoice_number", reason: /unknown invoice "INV-NOPE"/ },
    ],
    [
      "payments adding up to more than the total",
      {
        "invoices.csv": csv(HEADER, good),
        "payments.csv": csv(
          "invoice_number,payment_date,amount",
          "INV-OK,2026-09-01,6",
          "INV-OK,2026-09-02,6",
        ),
      },
      { file: "payments.csv", line: 3, column: "amount", reason: /more than its total/ },
    ],
    [
      "a payment before the invoice was issued",
      {
        "invoices.csv": csv(HEADER, good),
        "payments.csv": csv("invoice_number,payment_date,amount", "INV-OK,2026-07-01,6"),
      },
      { file: "payments.csv", line: 2, column: "payment_date", reason: /before the invoice's issue date/ },
    ],
    [
      "a bad timezone in customers.csv",
      {
        "invoices.csv": csv(HEADER, good),
        "customers.csv": csv("customer_id,customer_name,timezone", "C1,Acme,Mars/Olympus"),
      },
      { file: "customers.csv", line: 2, column: "timezone", reason: /unknown timezone/ },
    ],
    [
      "a bad credit limit in customers.csv",
      {
        "invoices.csv": csv(HEADER, good),
        "customers.csv": csv("customer_id,customer_name,credit_limit", "C1,Acme,lots"),
      },
      { file: "customers.csv", line: 2, column: "credit_limit", reason: /not a non-negative amount/ },
    ],
  ];

  it.each(cases)("reports %s with file, line, column and reason", async (_name, files, expected) => {
    const result = await importFiles(files);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.file === expected.file && i.line === expected.line);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue!.column).toBe(expected.column);
    expect(issue!.reason).toMatch(expected.reason);
    // Nothing at all was written: not even the organisation or the good row.
    expect(await store.db.select().from(organisations)).toHaveLength(0);
    expect(await store.db.select().from(invoices)).toHaveLength(0);
  });

  it("reports every bad row, not only the first", async () => {
    const result = await importFiles({
      "invoices.csv": csv(
        HEADER,
        "C1,Acme,,INV-1,2026-02-30,2026-08-31,GBP,1,,,",
        good,
        "C1,Acme,,INV-3,2026-08-01,2026-08-31,GBP,abc,,,",
        "C1,Acme,,INV-4,2026-08-01,2026-08-31,GBP,-1,,,",
      ),
    });
    if (result.ok) throw new Error("expected failure");
    expect(result.issues.map((i) => [i.line, i.column])).toEqual([
      [2, "issue_date"],
      [4, "total"],
      [5, "total"],
    ]);
  });

  it("leaves an existing organisation's data untouched when a re-import has a bad row", async () => {
    await importFiles({ "invoices.csv": csv(HEADER, good) });
    const before = await invoiceRows();
    const result = await importFiles({
      "invoices.csv": csv(
        HEADER,
        "C1,Acme,a@acme.example,INV-OK,2026-08-01,2026-08-31,GBP,99.00,,,",
        "C1,Acme,,INV-2,bad,2026-08-31,GBP,1,,,",
      ),
    });
    expect(result.ok).toBe(false);
    expect(await invoiceRows()).toEqual(before);
  });

  it("refuses a currency-less row for a new organisation without --currency", async () => {
    const result = await importFiles(
      {
        "invoices.csv": csv(
          "customer_id,customer_name,invoice_number,issue_date,due_date,total",
          "C1,Acme,INV-1,2026-08-01,2026-08-31,5",
        ),
      },
      { currency: undefined },
    );
    if (result.ok) throw new Error("expected failure");
    expect(result.issues[0]).toMatchObject({ line: 2, column: "currency" });
    expect(result.issues[0]?.reason).toMatch(/pass --currency/);
  });
});
