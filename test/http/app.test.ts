import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { seedDemo } from "../../src/import/demo";
import { dateInZone } from "../../src/model";
import { forecastForOrg } from "../../src/scoring/forecast";
import { findOrgBySlug } from "../../src/store/orgs";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";
import { importInvoices } from "../support/files";

let deps: Deps;
beforeEach(async () => {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
});
afterEach(async () => {
  await deps.store.close();
});

async function importLedger() {
  await importInvoices(
    deps,
    "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid",
    // 2026-11-20 as-of: INV-1 is 50 days overdue (31-60), INV-2 5 days (1-30), INV-3 not yet due, INV-4 100 days (90+).
    "C1,Acme <Ltd>,INV-1,2026-09-01,2026-10-01,GBP,1000.00,250",
    "C1,Acme <Ltd>,INV-2,2026-10-15,2026-11-15,GBP,200.00,",
    "C2,Bolt,INV-3,2026-11-10,2026-12-10,GBP,300.00,",
    "C3,Cedar,INV-4,2026-07-13,2026-08-12,EUR,50.00,",
  );
}

describe("HTTP app", () => {
  it("answers /healthz", async () => {
    const res = await createApp(deps).request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("lists organisations with outstanding and overdue totals per currency", async () => {
    await importLedger();
    const s = await signIn(deps);
    const html = await (await createApp(deps).request("/", { headers: s.headers() })).text();
    expect(html).toContain('href="/orgs/acme"');
    expect(html).toContain("£1,250.00"); // outstanding GBP: 750 + 200 + 300
    expect(html).toContain("£950.00"); // overdue GBP: 750 + 200
    expect(html).toContain("€50.00");
  });

  it("shows each customer's balance in aging buckets, escaping names", async () => {
    await importLedger();
    const s = await signIn(deps);
    const res = await createApp(deps).request("/orgs/acme?aging=1", { headers: s.headers() });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Acme &lt;Ltd&gt;");
    expect(html).not.toContain("Acme <Ltd>");
    const row = (id: string) => html.match(new RegExp(`<tr data-customer="${id}">(.*?)</tr>`))?.[1] ?? "";
    const cells = (id: string) =>
      [...row(id).matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]).slice(0, -1);
    // grade, name, trend, then overdue, current, 1-30, 31-60, 61-90, 90+, oldest (then the main reason)
    expect(cells("C1").slice(3)).toEqual(["£950.00", "–", "£200.00", "£750.00", "–", "–", "50 d"]);
    expect(cells("C2").slice(3)).toEqual(["£0.00", "£300.00", "–", "–", "–", "–", "–"]);
    expect(cells("C3").slice(3)).toEqual(["€50.00", "–", "–", "–", "–", "€50.00", "100 d"]);
    // Without ?aging=1 the buckets are hidden: outstanding, overdue and oldest overdue only.
    const plain = await (await createApp(deps).request("/orgs/acme", { headers: s.headers() })).text();
    const plainRow = plain.match(/<tr data-customer="C1">(.*?)<\/tr>/)?.[1] ?? "";
    expect([...plainRow.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]).slice(3, -1)).toEqual([
      "£950.00",
      "£950.00",
      "50 d",
    ]);
    expect(plain).toContain('href="?aging=1"');
  });

  it("labels the demo organisation as demo data", async () => {
    await seedDemo(deps.store, { customers: 12, seed: 3, now: deps.clock.now() });
    const s = await signIn(deps);
    const html = await (await createApp(deps).request("/orgs/demo", { headers: s.headers() })).text();
    expect(html).toMatch(/Demo data\./);
  });

  it("shows the cash-in forecast on the organisation page: 13 weeks, the same figures as the forecast command", async () => {
    await seedDemo(deps.store, { customers: 12, seed: 3, now: deps.clock.now() });
    const s = await signIn(deps);
    const html = await (await createApp(deps).request("/orgs/demo", { headers: s.headers() })).text();
    const org = (await findOrgBySlug(deps.store.db, "demo"))!;
    const asOf = dateInZone(deps.clock.now(), org.timezone);
    const [f] = await forecastForOrg(deps.store.db, org, asOf);
    expect(f!.currency).toBe(org.baseCurrency);
    expect(html).toContain(`Cash-in forecast (${org.baseCurrency})`);
    const desc = html.match(/<desc>(week of [^<]*)<\/desc>/)?.[1] ?? "";
    expect(desc.split("; ")).toHaveLength(13);
    expect(desc.startsWith(`week of ${f!.weeks[0]!.week_start}: `)).toBe(true);
  });

  it("answers unknown pages and organisations with an HTML 404 page, and JSON 404s only under /api/", async () => {
    const app = createApp(deps);
    const s = await signIn(deps);
    for (const path of ["/orgs/nope", "/no/such/page", "/orgs/nope/settings"]) {
      const res = await app.request(path, { headers: s.headers() });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toContain("text/html");
      const html = await res.text();
      expect(html).toMatch(/<h1>Page not found<\/h1>/);
      expect(html).toMatch(/<a href="\/(orgs\/nope)?">Back to/);
      expect(html).not.toContain('{"error"');
    }
    const api = await app.request("/api/orgs/nope", { headers: s.headers() });
    expect(api.status).toBe(404);
    const body = await api.json();
    expect(body.error.code).toBe("not_found");
    expect(body.error.requestId).toBeTruthy();
    const unknownApi = await app.request("/api/no/such", { headers: s.headers() });
    expect(unknownApi.status).toBe(404);
    expect((await unknownApi.json()).error.code).toBe("not_found");
  });

  it("answers a forbidden change and an expired form with a friendly 403 page, not JSON", async () => {
    await importLedger();
    const app = createApp(deps);
    const viewer = await signIn(deps, { email: "viewer@example.com", role: "viewer" });
    const res = await app.request("/orgs/acme/holds/mode", {
      method: "POST",
      headers: viewer.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: "mode=automatic",
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("Your role here (viewer) cannot change this.");
    const noCsrf = await app.request("/orgs/acme/holds/mode", {
      method: "POST",
      headers: { cookie: viewer.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "mode=automatic",
    });
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.text()).toContain("reload the page and try again");
  });
});

describe("disputes in the dashboard", () => {
  it("lists a customer's open dispute and lets a bookkeeper resolve it, so the invoice is chased again", async () => {
    const { eq } = await import("drizzle-orm");
    const { invoiceDisputes, invoices } = await import("../../src/store/schema");
    await importLedger();
    const [inv] = await deps.store.db.select().from(invoices).where(eq(invoices.number, "INV-1"));
    const now = deps.clock.now();
    await deps.store.db.update(invoices).set({ disputedAt: now }).where(eq(invoices.id, inv!.id));
    await deps.store.db.insert(invoiceDisputes).values({
      id: "dsp_test",
      orgId: inv!.orgId,
      contactId: inv!.contactId,
      invoiceId: inv!.id,
      reason: "wrong_amount",
      comment: "<b>we ordered 3</b>",
      createdAt: now,
    });
    const app = createApp(deps);
    const s = await signIn(deps, { role: "bookkeeper" });
    const page = await (await app.request("/orgs/acme/customers/C1", { headers: s.headers() })).text();
    expect(page).toContain('data-dispute="INV-1"');
    expect(page).toContain("&lt;b&gt;we ordered 3&lt;/b&gt;");
    const body = new URLSearchParams({ invoice_id: inv!.id, resolution: "credit note issued" });
    const res = await app.request("/orgs/acme/customers/C1/resolve-dispute", {
      method: "POST",
      headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body,
    });
    expect(res.status).toBe(303);
    const [after] = await deps.store.db.select().from(invoices).where(eq(invoices.id, inv!.id));
    expect(after!.disputedAt).toBeNull();
    const [d] = await deps.store.db.select().from(invoiceDisputes);
    expect(d!.resolvedAt).toBe(now);
    // A second resolve finds nothing open.
    const again = await app.request("/orgs/acme/customers/C1/resolve-dispute", {
      method: "POST",
      headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: new URLSearchParams({ invoice_id: inv!.id }),
    });
    expect(again.status).toBe(404);
  });
});
