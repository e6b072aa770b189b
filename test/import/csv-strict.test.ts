/**
 * Issue 14: a CSV import is right or refuses. Field counts, duplicate headers, future dates, empty files,
 * column mapping and date formats for other systems' exports, the disputed column, and the summary counts.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { and, eq, like } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseColumnMap, parseDateAs, resolveColumns } from "../../connectors/csv/mapping";
import { importCsv } from "../../src/import/csv-import";
import type { Store } from "../../src/store/db";
import { recordDispute } from "../../src/store/disputes";
import { listOrgs } from "../../src/store/orgs";
import { contacts, invoices, organisations, payments } from "../../src/store/schema";
import { openSqliteStore } from "../../src/store/sqlite";
import { runCli } from "../support/cli";
import { testStore } from "../support/db";
import { csv, tempFiles } from "../support/files";

const HEADER =
  "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid,paid_date";
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

async function nothingWritten() {
  expect(await store.db.select().from(organisations)).toHaveLength(0);
  expect(await store.db.select().from(invoices)).toHaveLength(0);
  expect(await store.db.select().from(contacts)).toHaveLength(0);
}

function failure(r: Awaited<ReturnType<typeof importCsv>>) {
  if (r.ok) throw new Error(`expected the import to be refused: ${JSON.stringify(r.summary)}`);
  return r;
}

describe("CSV import refuses what it cannot read exactly", () => {
  it("refuses a row with an unquoted thousands separator (one field too many), naming the line", async () => {
    const r = failure(
      await importFiles({
        "invoices.csv": csv(
          HEADER,
          "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10.00,0,",
          "C1,Acme,INV-2,2026-08-01,2026-08-31,GBP,1,234.50,0,",
        ),
      }),
    );
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ file: "invoices.csv", line: 3, column: null });
    expect(r.issues[0]!.reason).toMatch(/10 fields, but the header has 9.*thousands separator/);
    await nothingWritten();
  });

  it("refuses a row with fewer fields than the header", async () => {
    const r = failure(
      await importFiles({ "invoices.csv": csv(HEADER, "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10.00") }),
    );
    expect(r.issues[0]).toMatchObject({ line: 2, column: null });
    expect(r.issues[0]!.reason).toMatch(/7 fields, but the header has 9/);
    await nothingWritten();
  });

  it("refuses a duplicate column name instead of letting the second win", async () => {
    const r = failure(
      await importFiles({
        "invoices.csv": csv(`${HEADER},Total`, "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10.00,,,99.00"),
      }),
    );
    expect(r.issues[0]).toMatchObject({ line: 1, column: "Total" });
    expect(r.issues[0]!.reason).toMatch(/duplicate column "Total" \(columns 7 and 10\)/);
    await nothingWritten();
  });

  it("refuses a paid date after today in the organisation's timezone", async () => {
    const r = failure(
      await importFiles({
        "invoices.csv": csv(HEADER, "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10,,2099-01-01"),
      }),
    );
    expect(r.issues[0]).toMatchObject({ line: 2, column: "paid_date" });
    expect(r.issues[0]!.reason).toMatch(/after today \(2026-11-20/);
    await nothingWritten();
    // 10:00 UTC on the 20th is already the 21st at UTC+14: that date is today there, not the future.
    const tomorrowUtc = csv(HEADER, "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10,,2026-11-21");
    failure(await importFiles({ "invoices.csv": tomorrowUtc }));
    const ok = await importFiles({ "invoices.csv": tomorrowUtc }, { timezone: "Pacific/Kiritimati" });
    expect(ok.ok).toBe(true);
  });

  it("refuses a payment dated after today", async () => {
    const r = failure(
      await importFiles({
        "invoices.csv": csv(HEADER, "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10,,"),
        "payments.csv": csv("invoice_number,payment_date,amount", "INV-1,2026-12-01,5"),
      }),
    );
    expect(r.issues[0]).toMatchObject({ file: "payments.csv", line: 2, column: "payment_date" });
    expect(r.issues[0]!.reason).toMatch(/after today/);
    await nothingWritten();
  });

  it("refuses an empty file and a header-only file, creating no organisation", async () => {
    const empty = failure(await importFiles({ "invoices.csv": "" }));
    expect(empty.issues[0]!.reason).toMatch(/the file is empty/);
    await nothingWritten();
    const headerOnly = failure(await importFiles({ "invoices.csv": `${HEADER}\n` }));
    expect(headerOnly.issues[0]!.reason).toMatch(/header but no invoice rows/);
    await nothingWritten();
    const blank = failure(await importFiles({ "invoices.csv": csv(HEADER, ",,,,,,,,", ",,,,,,,,") }));
    expect(blank.issues[0]!.reason).toMatch(/every row is empty/);
    await nothingWritten();
  });

  it("refuses ambiguous values with the reason", async () => {
    const r = failure(
      await importFiles({
        "invoices.csv": csv(
          HEADER,
          "C1,Acme,INV-1,1/5/2026,2026-08-31,GBP,10,,",
          'C1,Acme,INV-2,2026-08-01,2026-08-31,GBP,"1,234.50",,',
          "C1,Acme,INV-3,2026-08-01,2026-08-31,GBP,12,5;50,",
        ),
      }),
    );
    const reasons = r.issues.map((i) => `${i.line} ${i.column}: ${i.reason}`);
    expect(reasons[0]).toMatch(/^2 issue_date: .*1\/5 is ambiguous .*--date-format/);
    expect(reasons[1]).toMatch(/^3 total: .*thousands separators are ambiguous/);
    expect(reasons[2]).toMatch(/^4 amount_paid: /);
    await nothingWritten();
  });
});

describe("CSV import of other systems' exports: --map and --date-format", () => {
  const THEIRS =
    "countryCode,customerID,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,SettledDate";
  const MAP = parseColumnMap(
    "customer_id=customerID,invoice_number=invoiceNumber,issue_date=InvoiceDate,due_date=DueDate,total=InvoiceAmount,paid_date=SettledDate,disputed=Disputed",
  ).map;

  it("imports M/D/YYYY dates through a mapping, lists unused columns, names customers by id", async () => {
    const r = await importFiles(
      {
        "invoices.csv": csv(
          THEIRS,
          "391,0379-NEVHP,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013",
          "406,8976-AMJEO,0007900770,1/26/2013,2/25/2013,61.74,Yes,3/3/2013",
          "406,8976-AMJEO,0007900771,12/26/2013,1/25/2014,10.00,,",
        ),
      },
      { currency: "USD", map: MAP, dateFormat: "MM/DD/YYYY" },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.summary.ignoredColumns).toEqual(["countryCode"]);
    expect(r.summary.defaults).toEqual(["customer_name = customer_id"]);
    expect(r.summary.rows).toEqual({ read: 3, created: 3, updated: 0, unchanged: 0, ignored: 0 });
    const rows = await store.db.select().from(invoices).orderBy(invoices.number);
    expect(rows.map((i) => [i.number, i.issueDate, i.dueDate, i.totalMinor, i.paidOn, i.disputedAt])).toEqual(
      [
        ["0000611365", "2013-01-02", "2013-02-01", 5594, "2013-01-15", null],
        ["0007900770", "2013-01-26", "2013-02-25", 6174, "2013-03-03", NOW],
        ["0007900771", "2013-12-26", "2014-01-25", 1000, null, null],
      ],
    );
    const names = await store.db.select({ id: contacts.externalId, name: contacts.name }).from(contacts);
    expect(names.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: "0379-NEVHP", name: "0379-NEVHP" },
      { id: "8976-AMJEO", name: "8976-AMJEO" },
    ]);
  });

  it("refuses dates the given format cannot mean, and two-digit years", async () => {
    const r = failure(
      await importFiles(
        {
          "invoices.csv": csv(
            THEIRS,
            "391,C1,I1,13/2/2013,2/20/2013,5,No,",
            "391,C1,I2,1/2/13,2/20/2013,5,No,",
            "391,C1,I3,2013-01-02,2/20/2013,5,No,",
            "391,C1,I4,2/30/2013,3/20/2013,5,maybe,",
          ),
        },
        { currency: "USD", map: MAP, dateFormat: "MM/DD/YYYY" },
      ),
    );
    const reasons = r.issues.map((i) => `${i.line} ${i.column}: ${i.reason}`);
    expect(reasons).toEqual([
      expect.stringMatching(/^2 issue_date: .*month 13 does not exist.*DD\/MM\/YYYY\?/),
      expect.stringMatching(/^3 issue_date: .*year "13" is ambiguous/),
      expect.stringMatching(/^4 issue_date: .*expected MM\/DD\/YYYY \(the file mixes date formats\)/),
      expect.stringMatching(/^5 issue_date: .*day 30 does not exist in month 2/),
      expect.stringMatching(/^5 disputed: "maybe" is neither yes nor no/),
    ]);
    await nothingWritten();
  });

  it("refuses a mapping to a column the file does not have, naming it", async () => {
    const r = failure(
      await importFiles(
        { "invoices.csv": csv(THEIRS, "391,C1,I1,1/2/2013,2/1/2013,5,No,") },
        { currency: "USD", map: { ...MAP, total: "Amount" }, dateFormat: "MM/DD/YYYY" },
      ),
    );
    expect(r.issues[0]).toMatchObject({ line: 1, column: "total" });
    expect(r.issues[0]!.reason).toMatch(/mapped to "Amount", but the header has no such column/);
    await nothingWritten();
  });

  it("runs from the command line with --map-file and --date-format, and reports rows and unused columns", async () => {
    const f = tempFiles({
      "theirs.csv": csv(
        THEIRS,
        "391,C1,I1,1/2/2013,2/1/2013,5.00,No,1/15/2013",
        ",,,,,,,",
        "391,C1,I2,1/3/2013,2/2/2013,7.50,Yes,",
      ),
      "map.txt": [
        "# IBM-style export",
        "customer_id = customerID",
        "invoice_number = invoiceNumber",
        "issue_date = InvoiceDate, due_date = DueDate",
        "total = InvoiceAmount",
        "paid_date = SettledDate",
        "disputed = Disputed",
      ].join("\n"),
    });
    const args = [
      "import",
      f["theirs.csv"]!,
      "--org",
      "theirs",
      "--currency",
      "USD",
      "--map-file",
      f["map.txt"]!,
      "--date-format",
      "MM/DD/YYYY",
    ];
    const human = await runCli(args, store);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("rows:      3 read: 2 created, 0 updated, 0 unchanged, 1 ignored (empty)");
    expect(human.stdout).toContain("columns not imported: countryCode");
    const again = await runCli([...args, "--json"], store);
    const json = JSON.parse(again.stdout);
    expect(json.rows).toEqual({ read: 3, created: 0, updated: 0, unchanged: 2, ignored: 1 });
    expect(json.ignored_columns).toEqual(["countryCode"]);
    expect(json.invoices).toEqual({ created: 0, updated: 0, unchanged: 2 });
    const bad = await runCli([...args, "--map", "totl=InvoiceAmount"], store);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown column "totl"/);
    const badFormat = await runCli([...args.slice(0, -1), "D/M/Y"], store);
    expect(badFormat.code).toBe(2);
  });
});

describe("CSV import: the disputed column", () => {
  const H = `${HEADER},disputed`;
  it("marks, keeps and clears disputes the way the customers' page stores them, counting changes", async () => {
    const file = (a: string, b: string) =>
      csv(
        H,
        `C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10,,,${a}`,
        `C1,Acme,INV-2,2026-08-01,2026-08-31,GBP,10,,,${b}`,
      );
    const first = await importFiles({ "invoices.csv": file("yes", "") });
    if (!first.ok) throw new Error(JSON.stringify(first.issues));
    const disputed = async () =>
      (await store.db.select().from(invoices).orderBy(invoices.number)).map((i) => i.disputedAt);
    expect(await disputed()).toEqual([NOW, null]);
    // Stated again: unchanged, and the dispute keeps its original time.
    const same = await importFiles({ "invoices.csv": file("TRUE", "") }, { now: NOW + 1000 });
    if (!same.ok) throw new Error("failed");
    expect(same.summary.rows).toMatchObject({ updated: 0, unchanged: 2 });
    expect(await disputed()).toEqual([NOW, null]);
    // A customer disputes INV-2 on the customers' page; the next file says "no" to both.
    const [inv2] = await store.db.select().from(invoices).where(eq(invoices.number, "INV-2"));
    await recordDispute(
      store,
      {
        orgId: inv2!.orgId,
        contactId: inv2!.contactId,
        invoiceId: inv2!.id,
        reason: "wrong_amount",
        comment: null,
      },
      NOW + 2000,
    );
    const cleared = await importFiles({ "invoices.csv": file("no", "0") }, { now: NOW + 3000 });
    if (!cleared.ok) throw new Error("failed");
    expect(cleared.summary.rows).toMatchObject({ updated: 1, unchanged: 1 });
    // The imported dispute is cleared; the customer's open dispute is not (a bookkeeper resolves it).
    expect(await disputed()).toEqual([null, NOW + 2000]);
  });
});

describe("CSV import: a first import is invisible until complete, and leaves nothing when it fails", () => {
  function bigFile(n: number, badAt?: number) {
    const rows: string[] = [];
    for (let i = 0; i < n; i++)
      rows.push(
        i === badAt
          ? `C${i % 50},Cust,INV-${i},2026-08-01,2026-08-31,GBP,oops,,`
          : `C${i % 50},Cust,INV-${i},2026-08-01,2026-08-31,GBP,${i + 1}.00,,2026-09-01`,
      );
    return csv(HEADER, ...rows);
  }

  it("writes in several short steps under a hidden slug that nothing lists, then publishes", async () => {
    const seen: { listed: number; hiddenInvoices: number }[] = [];
    const r = await importFiles(
      { "invoices.csv": bigFile(3000) },
      {
        pace: { holdMs: 5, gapMs: 0 },
        onProgress: () => {
          void (async () => {
            // Listed first: if the hidden organisation still exists after, the listing ran while it existed.
            const listed = (await listOrgs(store.db)).length;
            const hidden = await store.db
              .select({ id: organisations.id })
              .from(organisations)
              .where(like(organisations.slug, "~import-%"));
            const n = hidden[0]
              ? (await store.db.select().from(invoices).where(eq(invoices.orgId, hidden[0].id))).length
              : 0;
            seen.push({ listed, hiddenInvoices: n });
          })();
        },
      },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(seen.length).toBeGreaterThan(2);
    // Mid-import the rows were there, under an organisation no listing showed.
    expect(seen.some((s) => s.hiddenInvoices > 0 && s.hiddenInvoices < 3000)).toBe(true);
    expect(seen.filter((s) => s.hiddenInvoices > 0).every((s) => s.listed === 0)).toBe(true);
    expect((await listOrgs(store.db)).map((o) => o.slug)).toEqual(["acme"]);
    expect(await store.db.select().from(invoices)).toHaveLength(3000);
    // The connection (shared with the server when the import runs in-process) gets its checkpoint setting back.
    expect((await store.runMany("PRAGMA wal_autocheckpoint", [[]]))[0]![0]![0]).toBe(1000);
  });

  it("removes what it wrote when a late row is bad, memberships of the hidden organisation included", async () => {
    let granted = false;
    const r = failure(
      await importFiles(
        { "invoices.csv": bigFile(3000, 2900) },
        {
          pace: { holdMs: 5, gapMs: 0 },
          onProgress: () => {
            if (granted) return;
            granted = true;
            // First-user setup running meanwhile makes its user owner of every organisation, hidden ones too.
            void store.runMany(
              "insert into users (id, email, created_at, updated_at) values ('usr_x', 'x@example.com', 0, 0)",
              [[]],
            );
            void store.runMany(
              "insert into memberships (user_id, org_id, role, created_at) select 'usr_x', id, 'owner', 0 from organisations",
              [[]],
            );
          },
        },
      ),
    );
    expect(granted).toBe(true);
    expect(r.issues[0]).toMatchObject({ line: 2902, column: "total" });
    await nothingWritten();
    expect(await store.db.select().from(payments)).toHaveLength(0);
    expect(await store.runMany("select count(*) from memberships", [[]])).toEqual([[[0]]]);
  });

  it("removes what it wrote when it fails for another reason mid-way", async () => {
    let calls = 0;
    await expect(
      importFiles(
        { "invoices.csv": bigFile(3000) },
        {
          pace: { holdMs: 5, gapMs: 0 },
          onProgress: () => {
            if (++calls === 2) throw new Error("disk full");
          },
        },
      ),
    ).rejects.toThrow("disk full");
    await nothingWritten();
  });

  it("purges an interrupted import's hidden organisation at the next import, after 6 hours", async () => {
    const f = tempFiles({ "invoices.csv": bigFile(10) });
    // An import killed mid-way leaves its hidden organisation behind.
    await store.db.insert(organisations).values({
      id: "org_dead",
      slug: "~import-dead",
      name: "Dead",
      baseCurrency: "GBP",
      timezone: "UTC",
      provider: "csv",
      createdAt: NOW - 7 * 3600_000,
      updatedAt: NOW - 7 * 3600_000,
    });
    await store.db.insert(contacts).values({
      id: "cus_dead",
      orgId: "org_dead",
      externalId: "X",
      name: "X",
      emails: [],
      createdAt: NOW,
      updatedAt: NOW,
    });
    expect(await listOrgs(store.db)).toEqual([]);
    const r = await importCsv(store, {
      org: "other",
      invoices: f["invoices.csv"]!,
      currency: "GBP",
      now: NOW,
    });
    expect(r.ok).toBe(true);
    expect((await store.db.select().from(organisations)).map((o) => o.slug)).toEqual(["other"]);
    expect(
      await store.db
        .select()
        .from(contacts)
        .where(and(eq(contacts.orgId, "org_dead"))),
    ).toEqual([]);
  });
});

describe("column mapping is a pure function of the header (for the command line and a browser upload)", () => {
  it("resolves canonical names, mapped names, unused columns and errors", () => {
    expect(
      resolveColumns(["Customer_ID", "No", "issue_date", "due_date", "Amount", "Extra", ""], "invoices", {
        invoice_number: "no",
        total: "amount",
      }),
    ).toEqual({
      columns: { customer_id: 0, invoice_number: 1, issue_date: 2, due_date: 3, total: 4 },
      ignored: ["Extra", "(unnamed column 7)"],
      errors: [],
    });
    expect(resolveColumns(["customer_id"], "invoices").errors[0]!.reason).toMatch(/missing required/);
    expect(parseColumnMap("total=A,total=B").errors[0]).toMatch(/mapped twice/);
    expect(parseColumnMap('{"total": "Amount"}').map).toEqual({ total: "Amount" });
    expect(parseDateAs("5/1/2013", "DD/MM/YYYY")).toEqual({ ok: true, date: "2013-01-05" });
    expect(parseDateAs("02/29/2024", "MM/DD/YYYY")).toEqual({ ok: true, date: "2024-02-29" });
  });
});

describe("CSV re-import into an existing organisation: compare first, then a short write", () => {
  const first = csv(
    `${HEADER},customer_email,disputed`,
    "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10,,2026-09-01,a@acme.example,",
    "C1,Acme,INV-2,2026-08-01,2026-08-31,GBP,20,,,a@acme.example,",
    "C2,Bolt,INV-3,2026-08-01,2026-08-31,GBP,30,5,,,",
    "C3,Cedar,INV-4,2026-08-01,2026-08-31,GBP,40,,2026-09-02,,yes",
  );
  const second = csv(
    `${HEADER},customer_email,disputed`,
    "C1,Acme Ltd,INV-1,2026-08-01,2026-08-31,GBP,10,,,a@acme.example,",
    "C1,Acme Ltd,INV-2,2026-08-01,2026-08-31,GBP,20,,2026-09-03,a@acme.example,",
    "C2,Bolt,INV-3,2026-08-01,2026-08-31,GBP,30,5,,,",
    "C3,Cedar,INV-4,2026-08-01,2026-08-31,GBP,40,,2026-09-02,,no",
    "C4,Dune,INV-5,2026-08-01,2026-08-31,GBP,50,,,,",
  );

  async function ledger(s: Store) {
    const inv = await s.db.select().from(invoices).orderBy(invoices.number);
    const con = await s.db.select().from(contacts).orderBy(contacts.externalId);
    const pay = await s.db.select().from(payments).orderBy(payments.externalId);
    return {
      invoices: inv.map(({ id, contactId, createdAt, updatedAt, orgId, ...rest }) => rest),
      contacts: con.map(({ id, createdAt, updatedAt, orgId, ...rest }) => rest),
      payments: pay.map(({ id, contactId, createdAt, updatedAt, orgId, ...rest }) => rest),
    };
  }

  it("writes the same ledger and counts as one transaction over the whole file", async () => {
    const results = [];
    for (const diffLimit of [5000, 0]) {
      store = testStore();
      await importFiles({ "invoices.csv": first });
      const r = await importFiles({ "invoices.csv": second }, { now: NOW + 60_000, diffLimit });
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      results.push({ summary: r.summary, ledger: await ledger(store) });
      await store.close();
    }
    store = testStore();
    expect(results[0]).toEqual(results[1]);
    expect(results[0]!.summary.rows).toEqual({ read: 5, created: 1, updated: 3, unchanged: 1, ignored: 0 });
    expect(results[0]!.summary.customers).toMatchObject({ created: 1, updated: 1 });
    expect(results[0]!.ledger.invoices.map((i) => [i.number, i.status, i.paidOn, i.disputedAt])).toEqual([
      ["INV-1", "authorised", null, null],
      ["INV-2", "paid", "2026-09-03", null],
      ["INV-3", "authorised", null, null],
      ["INV-4", "paid", "2026-09-02", null],
      ["INV-5", "authorised", null, null],
    ]);
  });

  it("compares again when someone writes the ledger between its comparison and its write", async () => {
    const file = csv(
      HEADER,
      "C1,Acme,INV-1,2026-08-01,2026-08-31,GBP,10,,",
      "C1,Acme,INV-2,2026-08-01,2026-08-31,GBP,20,,",
    );
    await importFiles({ "invoices.csv": file });
    let meddled = false;
    const r = await importFiles(
      { "invoices.csv": file },
      {
        now: NOW + 60_000,
        chunkSize: 1,
        onProgress: () => {
          if (meddled) return;
          meddled = true;
          // INV-1 was compared (chunks of one row) and found unchanged; now someone changes it behind the import.
          void store.db
            .update(invoices)
            .set({ totalMinor: 99_900 })
            .where(eq(invoices.number, "INV-1"))
            .run();
        },
      },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(meddled).toBe(true);
    const rows = await store.db.select().from(invoices).orderBy(invoices.number);
    expect(rows.map((i) => i.totalMinor)).toEqual([1000, 2000]);
    expect(r.summary.rows).toMatchObject({ updated: 1, unchanged: 1 });
  });

  it("holds no write lock while it reads and compares the file", async () => {
    const f = tempFiles({ "invoices.csv": first, "second.csv": second });
    const path = join(f.dir, "cp.db");
    const own = openSqliteStore(path);
    const other = new Database(path);
    other.pragma("busy_timeout = 0");
    try {
      const a = await importCsv(own, {
        org: "acme",
        invoices: f["invoices.csv"]!,
        currency: "GBP",
        now: NOW,
      });
      expect(a.ok).toBe(true);
      let checked = 0;
      const b = await importCsv(own, {
        org: "acme",
        invoices: f["second.csv"]!,
        now: NOW + 60_000,
        chunkSize: 1,
        onProgress: (p) => {
          if (p.phase !== "validate") return;
          // Another process can take the write lock at once: the import is not holding it.
          other.exec("BEGIN IMMEDIATE");
          other.exec("ROLLBACK");
          checked++;
        },
      });
      expect(b.ok).toBe(true);
      expect(checked).toBeGreaterThan(0);
    } finally {
      other.close();
      await own.close();
    }
  });
});
