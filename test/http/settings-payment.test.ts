/**
 * The settings page's Payment section and what it controls for a CSV organisation: a refused pay-URL template or
 * bank details re-render the form (422) with the message beside the field and the member's text kept; saved
 * settings fill the template for invoices without a link (an imported pay_url wins) on the customers' page; a
 * hostile pay_url in invoices.csv is refused with its reason. The template editor previews the statement email.
 */
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { importCsv } from "../../src/import/csv-import";
import { issuePageToken } from "../../src/portal/token";
import { listOrgs } from "../../src/store/orgs";
import { loadPaymentSettings } from "../../src/store/payment";
import { auditLog, contacts } from "../../src/store/schema";
import { compressedPdfText } from "../portal/support";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";
import { csv, tempFiles } from "../support/files";

const HEADER = "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,total,pay_url";
const NOW = Date.parse("2026-11-20T10:00:00Z");

let deps: Deps;
let app: ReturnType<typeof createApp>;
let owner: TestSession;

async function importInvoices(...rows: string[]) {
  const f = tempFiles({ "invoices.csv": csv(HEADER, ...rows) });
  return importCsv(deps.store, { org: "acme", invoices: f["invoices.csv"]!, currency: "GBP", now: NOW });
}

function postForm(path: string, fields: Record<string, string>, s: TestSession = owner) {
  return app.request(path, {
    method: "POST",
    headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
    body: new URLSearchParams(fields).toString(),
  });
}

beforeEach(async () => {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z", env: { PUBLIC_URL: "https://creditpulse.example" } });
  const imported = await importInvoices(
    "C1,Acme Ltd,a@acme.example,INV/7,2026-09-01,2026-10-01,1234.50,",
    "C1,Acme Ltd,a@acme.example,INV-8,2026-09-02,2026-10-02,10.00,https://pay.example.com/own/INV-8",
  );
  expect(imported.ok).toBe(true);
  app = createApp(deps);
  owner = await signIn(deps);
});
afterEach(async () => {
  await deps.store.close();
});

describe("Payment settings", () => {
  it("refuses a link that is not http(s) or names another field, beside the field, keeping what was typed", async () => {
    for (const [template, why] of [
      ["javascript:alert(1)//{{ invoice_number }}", "the link must start with https://"],
      ["https://pay.example.com/{{ customer.email }}", "unknown field {{ customer.email }}"],
      ["https://pay.example.com/{{ invoice_number", "is not closed"],
    ] as const) {
      const res = await postForm("/orgs/acme/settings/payment", {
        pay_url_template: template,
        bank_details: "Sort code 00-00-00",
      });
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toMatch(
        /<p class="problem" role="alert" id="pay_url_template-error">[^<]*<\/p>\s*<input id="pay_url_template"/,
      );
      expect(html).toContain(why.replace(/"/g, "&quot;"));
      expect(html).toMatch(
        /id="pay_url_template"[^>]*aria-invalid="true"[^>]*aria-describedby="pay_url_template-error"/,
      );
      expect(html).toContain(`value="${template.replace(/"/g, "&quot;")}"`);
      expect(html).toContain(">Sort code 00-00-00</textarea>");
    }
    const org = (await listOrgs(deps.store.db))[0]!;
    expect(await loadPaymentSettings(deps.store.db, org.id)).toEqual({
      payUrlTemplate: null,
      bankDetails: null,
    });
  });

  it("refuses bank details that are too long", async () => {
    const res = await postForm("/orgs/acme/settings/payment", {
      pay_url_template: "",
      bank_details: "x".repeat(1001),
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('id="bank_details-error"');
    expect(html).toMatch(/id="bank_details"[^>]*aria-describedby="bank_details-error"/);
  });

  it("saves both with an audit row, shows them on the settings page, and viewers cannot change them", async () => {
    const res = await postForm("/orgs/acme/settings/payment", {
      pay_url_template: "https://pay.example.com/acme?invoice={{ invoice_number }}&amount={{amount_due}}",
      bank_details: "Acme Bank\r\nSort code 00-00-00",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orgs/acme/settings?done=payment_saved#payment");
    const page = await (
      await app.request("/orgs/acme/settings?done=payment_saved", { headers: owner.headers() })
    ).text();
    expect(page).toContain("Payment settings saved.");
    expect(page).toContain(
      'value="https://pay.example.com/acme?invoice={{ invoice_number }}&amp;amount={{amount_due}}"',
    );
    expect(page).toContain(">Acme Bank\nSort code 00-00-00</textarea>");
    const org = (await listOrgs(deps.store.db))[0]!;
    const rows = await deps.store.db.select().from(auditLog).where(eq(auditLog.action, "settings.payment"));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.actor).toBe(`user:${owner.userId}`);

    const viewer = await signIn(deps, { email: "viewer@example.com", role: "viewer" });
    const refused = await postForm(
      "/orgs/acme/settings/payment",
      { pay_url_template: "", bank_details: "" },
      viewer,
    );
    expect(refused.status).toBe(403);
    expect((await loadPaymentSettings(deps.store.db, org.id)).bankDetails).toBe(
      "Acme Bank\nSort code 00-00-00",
    );
  });

  it("fills the template for invoices without a link on the customers' page; an imported pay_url wins", async () => {
    await postForm("/orgs/acme/settings/payment", {
      pay_url_template: "https://pay.example.com/acme?invoice={{ invoice_number }}&amount={{ amount_due }}",
      bank_details: "",
    });
    const org = (await listOrgs(deps.store.db))[0]!;
    const [c] = await deps.store.db.select().from(contacts).where(eq(contacts.orgId, org.id));
    const token = await issuePageToken(
      deps.store.db,
      deps.secret,
      { orgId: org.id, contactId: c!.id },
      NOW,
      30,
    );
    const page = await (await app.request(`/c/${token}`)).text();
    expect(page).toContain('href="https://pay.example.com/acme?invoice=INV%2F7&amp;amount=1234.50"');
    expect(page).toContain('href="https://pay.example.com/own/INV-8"');
    expect(page).not.toContain("bank-details");
  });
});

describe("Sample PDF statement in the Payment section", () => {
  it("shows the saved bank details and a sample ledger link, as customers will see them", async () => {
    await postForm("/orgs/acme/settings/payment", {
      pay_url_template: "",
      bank_details: "Acme Bank\nSort code 00-00-00",
    });
    const page = await (await app.request("/orgs/acme/settings", { headers: owner.headers() })).text();
    expect(page).toContain('href="/orgs/acme/settings/payment/statement-preview.pdf"');
    const res = await app.request("/orgs/acme/settings/payment/statement-preview.pdf", {
      headers: owner.headers(),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const text = compressedPdfText(Buffer.from(await res.arrayBuffer()));
    expect(text).toContain("Sample Customer Ltd");
    expect(text).toContain("Pay online: https://pay.example/sample-ledger-link");
    expect(text).toContain("Paying by bank transfer");
    expect(text).toContain("Sort code 00-00-00");
  });
});

describe("CSV pay_url column", () => {
  it("refuses a row whose pay_url is not an http(s) link, naming the column and the line", async () => {
    const result = await importInvoices(
      "C2,Evil Ltd,e@evil.example,INV-9,2026-09-01,2026-10-01,5.00,javascript:alert(1)",
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toContainEqual(
      expect.objectContaining({ line: 2, column: "pay_url", reason: expect.stringContaining("https://") }),
    );
  });
});

describe("Statement preview in settings", () => {
  it("offers the statement template and previews it for a sample customer", async () => {
    const page = await (
      await app.request("/orgs/acme/settings?template=statement&part=html", { headers: owner.headers() })
    ).text();
    expect(page).toContain('<option value="statement" selected="">statement</option>');
    const preview = await app.request("/orgs/acme/settings/templates/preview?name=statement&part=html", {
      headers: owner.headers(),
    });
    expect(preview.status).toBe(200);
    const html = await preview.text();
    expect(html).toContain("Your statement from Acme");
    expect(html).toContain("Here is your statement of account with Acme");
    expect(html).toContain("Paying by bank transfer");
    const text = await (
      await app.request("/orgs/acme/settings/templates/preview?name=statement&part=text", {
        headers: owner.headers(),
      })
    ).text();
    expect(text).toContain("The statement is attached as a PDF.");
  });
});
