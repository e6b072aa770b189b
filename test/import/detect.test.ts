/** The column mapper's suggestions and the date-format guess (pure), and the check pass that writes nothing. */
import { count } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { detectDateFormat, suggestInvoiceColumns } from "../../connectors/csv/detect";
import { checkCsv, importCsv } from "../../src/import/csv-import";
import { invoices, organisations } from "../../src/store/schema";
import { useTestStore } from "../support/db";
import { csv, tempFiles } from "../support/files";

describe("suggestInvoiceColumns", () => {
  it("takes canonical names first, then other systems' names, each file column once", () => {
    expect(
      suggestInvoiceColumns([
        "customerID",
        "Customer",
        "Invoice No.",
        "Date",
        "Due Date",
        "Total",
        "Amount",
        "Paid",
      ]),
    ).toEqual({
      customer_id: "customerID",
      customer_name: "Customer",
      customer_email: null,
      invoice_number: "Invoice No.",
      issue_date: "Date",
      due_date: "Due Date",
      currency: null,
      total: "Total",
      amount_paid: "Paid",
      paid_date: null,
      status: null,
      disputed: null,
      pay_url: null,
    });
    // The IBM sample's own headers.
    const ibm = suggestInvoiceColumns([
      "customerID",
      "invoiceNumber",
      "InvoiceDate",
      "DueDate",
      "InvoiceAmount",
      "SettledDate",
      "Disputed",
    ]);
    expect(ibm).toMatchObject({
      customer_id: "customerID",
      invoice_number: "invoiceNumber",
      issue_date: "InvoiceDate",
      due_date: "DueDate",
      total: "InvoiceAmount",
      paid_date: "SettledDate",
      disputed: "Disputed",
    });
  });
});

describe("detectDateFormat", () => {
  it("tells the formats apart only when the values prove it", () => {
    expect(detectDateFormat(["2026-01-05", "2026-12-31"]).format).toBe("YYYY-MM-DD");
    expect(detectDateFormat(["01/05/2026", "15/10/2026"])).toMatchObject({ format: "DD/MM/YYYY" });
    expect(detectDateFormat(["1/5/2013", "12/31/2013"])).toMatchObject({ format: "MM/DD/YYYY" });
    expect(detectDateFormat(["01/05/2026", "02/06/2026"])).toMatchObject({ format: null });
    expect(detectDateFormat(["13/01/2026", "01/13/2026"]).reason).toContain("day first");
    expect(detectDateFormat(["5 Jan 2026"]).format).toBeNull();
    expect(detectDateFormat(["", " "]).format).toBeNull();
  });
});

describe("checkCsv", () => {
  const store = useTestStore();
  const HEADER = "customer_id,invoice_number,issue_date,due_date,total";

  it("validates and counts without writing, for a new organisation and for an existing one", async () => {
    const good = tempFiles({
      "invoices.csv": csv(HEADER, "C1,I1,2026-10-01,2026-10-31,10", "C2,I2,2026-10-02,2026-11-01,20.5"),
    });
    const now = Date.parse("2026-11-20T10:00:00Z");
    const first = await checkCsv(store, {
      org: "acme",
      invoices: good["invoices.csv"]!,
      currency: "GBP",
      now,
    });
    expect(first).toMatchObject({
      ok: true,
      summary: { organisation: { created: true }, invoices: { created: 2 }, customers: { created: 2 } },
    });
    expect(await store.db.select().from(organisations)).toEqual([]);

    await importCsv(store, { org: "acme", invoices: good["invoices.csv"]!, currency: "GBP", now });
    const bad = tempFiles({
      "invoices.csv": csv(
        HEADER,
        "C1,I1,2026-10-01,2026-10-31,10",
        "C3,I3,2026-10-02,2026-09-01,5",
        "C4,I4,2026-10-02,2026-11-01,1,5",
      ),
    });
    const r = await checkCsv(store, { org: "acme", invoices: bad["invoices.csv"]!, now });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => `${i.line}:${i.column}`)).toEqual(["3:due_date", "4:null"]);
    const [n] = await store.db.select({ n: count() }).from(invoices);
    expect(n!.n).toBe(2);
  });
});
