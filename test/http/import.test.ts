/**
 * `/import` over HTTP: upload, the column mapper, the check (every bad row, nothing written), the import, and
 * the error paths a user hits: a viewer, a file that is not CSV, an oversized upload, a mapping to a column the
 * file does not have. Also the connect pages of an install without app keys, and the first-run checklist.
 */
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { UPLOAD_BODY_LIMIT_BYTES } from "../../src/http/limits";
import { importCsv } from "../../src/import/csv-import";
import { orgsOf } from "../../src/store/accounts";
import { auditLog, invoices, organisations } from "../../src/store/schema";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";
import { csv, tempFiles } from "../support/files";

/** Another system's export: its own column names and day-first dates; line 4 has a bad total. */
const EXPORT = csv(
  "Client Code,Client,Email,Inv No,Invoice Date,Due,Amount Inc VAT,Notes",
  "K1,Kestrel Ltd,ap@kestrel.example,S-100,03/09/2026,03/10/2026,1200.00,",
  "K1,Kestrel Ltd,ap@kestrel.example,S-101,15/10/2026,14/11/2026,450.50,rush",
  "K2,Heron & Co,,S-102,20/10/2026,19/11/2026,1,200.00,",
);
const FIXED = EXPORT.replace("1,200.00,", "1200.00,");

async function setup(env: Record<string, string> = {}) {
  const deps = await testDeps({ env: { CREDITPULSE_DEMO: "0", ...env } });
  return { deps, app: createApp(deps) };
}

async function upload(
  app: ReturnType<typeof createApp>,
  s: TestSession,
  text: string | Uint8Array<ArrayBuffer>,
  name = "sales.csv",
) {
  const form = new FormData();
  form.set("invoices", new File([text], name, { type: "text/csv" }));
  return app.request("/import", { method: "POST", headers: s.headers({ accept: "text/html" }), body: form });
}

async function post(
  app: ReturnType<typeof createApp>,
  s: TestSession,
  path: string,
  fields: Record<string, string>,
) {
  return app.request(path, {
    method: "POST",
    headers: s.headers({ "content-type": "application/x-www-form-urlencoded", accept: "text/html" }),
    body: new URLSearchParams(fields).toString(),
  });
}

const MAPPING = {
  col_customer_id: "Client Code",
  col_customer_name: "Client",
  col_customer_email: "Email",
  col_invoice_number: "Inv No",
  col_issue_date: "Invoice Date",
  col_due_date: "Due",
  col_total: "Amount Inc VAT",
  date_format: "DD/MM/YYYY",
  org: "",
  new_name: "Kestrel Trading",
  new_currency: "GBP",
  new_timezone: "Europe/London",
};

async function invoiceCount(deps: Deps) {
  const [r] = await deps.store.db.select({ n: count() }).from(invoices);
  return r!.n;
}

describe("/import", () => {
  it("suggests the mapping and date format, lists every bad row without writing, then imports and owns the new organisation", async () => {
    const { deps, app } = await setup();
    const s = await signIn(deps, { email: "owner@example.com" });
    const up = await upload(app, s, EXPORT);
    expect(up.status).toBe(303);
    const where = up.headers.get("location")!;
    expect(where).toMatch(/^\/import\/[A-Za-z0-9_-]+$/);

    const mapper = await (await app.request(where, { headers: s.headers() })).text();
    // Suggested from the names: Client Code -> customer_id, Inv No -> invoice_number, Due -> due_date.
    expect(mapper).toMatch(/name="col_customer_id"[\s\S]*?<option value="Client Code" selected/);
    expect(mapper).toMatch(/name="col_invoice_number"[\s\S]*?<option value="Inv No" selected/);
    expect(mapper).toMatch(/name="col_due_date"[\s\S]*?<option value="Due" selected/);
    // "Amount Inc VAT" is nobody's synonym: total is left for the user to choose.
    expect(mapper).not.toMatch(
      /name="col_total"[\s\S]*?<\/select>[\s\S]*?selected[\s\S]*?name="col_amount_paid"/,
    );
    expect(mapper).toMatch(/<option value="DD\/MM\/YYYY" selected/);
    expect(mapper).toContain("can only be day/month/year");

    // Check: the bad row is reported with its line and column; nothing is written.
    const checked = await post(app, s, where, { ...MAPPING, action: "check" });
    expect(checked.status).toBe(422);
    const report = await checked.text();
    expect(report).toContain("Nothing was imported: 1 problem(s)");
    expect(report).toContain("sales.csv:4: 9 fields, but the header has 8");
    expect(await invoiceCount(deps)).toBe(0);
    expect(await deps.store.db.select().from(organisations)).toEqual([]);
    // The user's choices are kept in the form.
    expect(report).toMatch(/name="col_total"[\s\S]*?<option value="Amount Inc VAT" selected/);
    expect(report).toContain('value="Kestrel Trading"');

    // Fixed file, uploaded again: the check passes and writes nothing; the import writes.
    const again = (await upload(app, s, FIXED)).headers.get("location")!;
    const ok = await post(app, s, again, { ...MAPPING, action: "check" });
    expect(ok.status).toBe(200);
    const ready = await ok.text();
    expect(ready).toContain("Every row is valid: nothing has been written yet");
    expect(ready).toContain("3 invoice(s) from 3 row(s), 2 customer(s)");
    expect(await invoiceCount(deps)).toBe(0);

    const done = await post(app, s, again, { ...MAPPING, action: "import" });
    expect(done.status).toBe(200);
    const html = await done.text();
    expect(html).toContain("invoices: 3 created, 0 updated, 0 unchanged");
    expect(html).toContain("columns not imported: Notes");
    // Streamed with progress: the last line has checked every row the check pass counted, and rows were written.
    expect(done.headers.get("content-type")).toContain("text/html");
    const lines = [...html.matchAll(/data-testid="import-progress">[\s\S]*?<\/p>/g)].map((m) => m[0]);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toContain("0 of 3 rows imported (0%)");
    expect(lines.at(-1)).toContain(
      '<progress value="3" max="3">100%</progress><br>3 of 3 rows imported (100%)',
    );
    // The streamed page's sign-out form carries the CSRF field like every buffered page.
    expect(html).toMatch(/<form[^>]*action="\/logout"[^>]*><input type="hidden" name="_csrf" value="[^"]+"/);
    expect(await invoiceCount(deps)).toBe(3);
    const [org] = await deps.store.db.select().from(organisations);
    expect(org).toMatchObject({
      slug: "kestrel-trading",
      name: "Kestrel Trading",
      provider: "csv",
      baseCurrency: "GBP",
    });
    const [s100] = await deps.store.db.select().from(invoices).where(eq(invoices.number, "S-100"));
    expect(s100).toMatchObject({ issueDate: "2026-09-03", dueDate: "2026-10-03", totalMinor: 120_000 });
    const [row] = await deps.store.db.select().from(auditLog).where(eq(auditLog.action, "ledger.imported"));
    expect(row).toMatchObject({ actor: `user:${s.userId}` });
    expect(row!.detail).toMatchObject({ by: "owner@example.com" });
    // The importer owns what they created.
    expect((await orgsOf(deps.store.db, s.userId)).map((a) => [a.org.slug, a.role])).toEqual([
      ["kestrel-trading", "owner"],
    ]);
    // The staged files are gone: the same upload cannot be imported twice.
    expect((await app.request(again, { headers: s.headers({ accept: "text/html" }) })).status).toBe(404);
  });

  it("refuses a viewer, and hides an organisation the user does not belong to", async () => {
    const { deps, app } = await setup();
    const f = tempFiles({ "invoices.csv": FIXED });
    await importCsv(deps.store, {
      org: "acme",
      invoices: f["invoices.csv"]!,
      currency: "GBP",
      now: deps.clock.now(),
      dateFormat: "DD/MM/YYYY",
      map: {
        customer_id: "Client Code",
        invoice_number: "Inv No",
        issue_date: "Invoice Date",
        due_date: "Due",
        total: "Amount Inc VAT",
      },
    });
    const before = await invoiceCount(deps);
    const viewer = await signIn(deps, { email: "viewer@example.com", role: "viewer", orgs: ["acme"] });
    // The import page offers a viewer nothing to import into.
    const form = await (await app.request("/import", { headers: viewer.headers() })).text();
    expect(form).toContain("The import creates a new organisation");
    const where = (await upload(app, viewer, EXPORT.replace("S-100", "S-900"))).headers.get("location")!;
    const refused = await post(app, viewer, where, { ...MAPPING, org: "acme", action: "import" });
    expect(refused.status).toBe(403);
    const text = await refused.text();
    expect(text).toContain("(viewer) cannot import");
    expect(refused.headers.get("content-type")).toContain("text/html");
    const check = await post(app, viewer, where, { ...MAPPING, org: "acme", action: "check" });
    expect(check.status).toBe(403);
    expect(await invoiceCount(deps)).toBe(before);

    const stranger = await signIn(deps, { email: "stranger@example.com", orgs: [] });
    const hers = (await upload(app, stranger, FIXED)).headers.get("location")!;
    expect((await post(app, stranger, hers, { ...MAPPING, org: "acme", action: "import" })).status).toBe(404);
    // Someone else's upload is not found either.
    expect((await app.request(hers, { headers: viewer.headers({ accept: "text/html" }) })).status).toBe(404);
    expect(await invoiceCount(deps)).toBe(before);
  });

  it("answers a file that is not CSV, an empty upload and an oversized upload with a clear HTML page", async () => {
    const { deps, app } = await setup();
    const s = await signIn(deps);
    const png = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
    ]);
    const bad = await upload(app, s, png, "logo.png");
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toContain("text/html");
    expect(await bad.text()).toMatch(/logo\.png is not a CSV text file/);

    const empty = await upload(app, s, "", "invoices.csv");
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("Choose the invoices file (CSV) to upload: it is required.");

    const big = new Uint8Array(UPLOAD_BODY_LIMIT_BYTES + 1024).fill(0x41);
    const tooLarge = await upload(app, s, big, "huge.csv");
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("content-type")).toContain("text/html");
    const msg = await tooLarge.text();
    expect(msg).toContain("larger than 50 MB together, the most one upload may be. Nothing was uploaded.");
    expect(msg).toContain('href="/import"');
  });

  it("re-shows the mapper with the message beside the field for an unknown column or mapping", async () => {
    const { deps, app } = await setup();
    const s = await signIn(deps);
    const where = (await upload(app, s, FIXED)).headers.get("location")!;
    const unknown = await post(app, s, where, { ...MAPPING, col_total: "Gross", action: "check" });
    expect(unknown.status).toBe(422);
    const html = await unknown.text();
    expect(html).toContain('aria-describedby="col_total-error"');
    expect(html).toMatch(
      /id="col_total-error"[^>]*>Unknown column &quot;Gross&quot;: the file&#39;s columns are Client Code, Client/,
    );
    expect(html).toMatch(/<option value="Gross" selected/);

    const notCanonical = await post(app, s, where, { ...MAPPING, col_vat_rate: "Notes", action: "check" });
    expect(notCanonical.status).toBe(400);
    expect(await notCanonical.text()).toContain("Unknown column mapping vat_rate");

    const missing = await post(app, s, where, {
      ...MAPPING,
      col_due_date: "",
      date_format: "",
      action: "check",
    });
    expect(missing.status).toBe(422);
    const m = await missing.text();
    expect(m).toContain("Required: choose the file&#39;s column for due_date.");
    expect(m).toContain("Choose how dates are written");
    expect(await invoiceCount(deps)).toBe(0);
  });
});

describe("connect without app keys", () => {
  it("shows the steps, the redirect URL to register and the settings to set, not a JSON 404", async () => {
    const { deps, app } = await setup({ PUBLIC_URL: "https://credit.example.com" });
    const s = await signIn(deps);
    const xero = await app.request("/connect/xero", { headers: s.headers({ accept: "text/html" }) });
    expect(xero.status).toBe(200);
    expect(xero.headers.get("content-type")).toContain("text/html");
    const x = await xero.text();
    expect(x).toContain('value="https://credit.example.com/connect/xero/callback"');
    expect(x).toContain("XERO_CLIENT_ID=");
    expect(x).toContain("XERO_CLIENT_SECRET=");
    const qbo = await app.request("/connect/quickbooks", { headers: s.headers({ accept: "text/html" }) });
    expect(qbo.status).toBe(200);
    const q = await qbo.text();
    expect(q).toContain('value="https://credit.example.com/connect/quickbooks/callback"');
    expect(q).toContain("QBO_CLIENT_ID=");
    expect(q).toContain("QBO_ENVIRONMENT=");

    // Without PUBLIC_URL the address the page was reached on is the one to register.
    const { deps: d2, app: a2 } = await setup();
    const s2 = await signIn(d2);
    const local = await (
      await a2.request("http://127.0.0.1:41234/connect/xero", { headers: s2.headers() })
    ).text();
    expect(local).toContain('value="http://127.0.0.1:41234/connect/xero/callback"');
    expect(local).toContain("set <code>PUBLIC_URL</code>");
  });
});
