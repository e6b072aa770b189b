/**
 * Issue 17's risk list: search by name, id and invoice number; the CSV exports (risk list and aging report) with
 * the page's numbers, proper quoting and formula-safe cells, checked like the page; trend wording that never
 * disagrees with its change (over the rendered demo page); the favicon.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { seedDemo } from "../../src/import/demo";
import { dateInZone } from "../../src/model";
import { runScoring } from "../../src/scoring/run-scoring";
import { ensureOrg, findOrgBySlug } from "../../src/store/orgs";
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
    '"C1","=HYPERLINK(""http://evil.example"",""x"")",INV-1,2026-09-01,2026-10-01,GBP,1000.00,250',
    '"C1","=HYPERLINK(""http://evil.example"",""x"")",INV-2,2026-10-15,2026-11-15,GBP,200.00,',
    '"C2","Bolt, Nuts & ""Sons""",INV-3,2026-11-10,2026-12-10,GBP,300.00,',
    "C3,Cedar,PO-7788,2026-07-13,2026-08-12,EUR,50.00,",
  );
}

/** A small RFC 4180 reader (quoted fields, doubled quotes, CRLF), to read the exports back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  const s = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && s[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

const ids = (html: string) => [...html.matchAll(/<tr data-customer="([^"]+)"/g)].map((m) => m[1]);

describe("risk list", () => {
  it("search matches customer names, ids and invoice numbers", async () => {
    await importLedger();
    const s = await signIn(deps);
    const app = createApp(deps);
    const page = async (q: string) =>
      (await app.request(`/orgs/acme?q=${encodeURIComponent(q)}`, { headers: s.headers() })).text();
    expect(ids(await page("po-7788"))).toEqual(["C3"]); // an invoice number, any case
    expect(ids(await page("INV-3"))).toEqual(["C2"]);
    expect(ids(await page("nuts"))).toEqual(["C2"]); // part of a name
    expect(ids(await page("c1"))).toEqual(["C1"]); // an id
    expect(ids(await page("INV-"))).toHaveLength(2); // INV-1, INV-2 (C1) and INV-3 (C2)
    expect(ids(await page("%"))).toEqual([]); // LIKE wildcards match only themselves
    expect(await page("nothing-like-this")).toContain("No customers match.");
  });

  it("exports the risk list and the aging report as CSV: the page's numbers, quoted, formula-safe, access-checked", async () => {
    await importLedger();
    const s = await signIn(deps);
    const app = createApp(deps);
    const res = await app.request("/orgs/acme/export/risk.csv", { headers: s.headers() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="acme-risk-2026-11-20.csv"');
    const text = await res.text();
    expect(text).toContain("\r\n");
    const [header, ...rows] = parseCsv(text);
    const col = (name: string) => header!.indexOf(name);
    expect(header).toEqual(
      expect.arrayContaining(["customer_id", "customer_name", "currency", "outstanding", "overdue", "90+"]),
    );
    const byId = new Map(rows.map((r) => [r[col("customer_id")], r]));
    expect(rows).toHaveLength(3);
    // A name that is a formula is written as text; a comma and quotes survive quoting.
    expect(byId.get("C1")![col("customer_name")]).toBe(`'=HYPERLINK("http://evil.example","x")`);
    expect(byId.get("C2")![col("customer_name")]).toBe('Bolt, Nuts & "Sons"');
    // Money in major units beside its currency: the same figures as the page.
    expect(byId.get("C1")!.slice(col("currency"), col("outstanding") + 2)).toEqual([
      "GBP",
      "950.00",
      "950.00",
    ]);
    expect(byId.get("C3")!.slice(col("currency"), col("outstanding") + 2)).toEqual(["EUR", "50.00", "50.00"]);
    expect(byId.get("C3")![col("90+")]).toBe("50.00");
    expect(byId.get("C3")![col("oldest_overdue_days")]).toBe("100");
    const html = await (await app.request("/orgs/acme?aging=1", { headers: s.headers() })).text();
    expect(html).toContain("£950.00");
    expect(html).toContain("100 d");
    // The page's filters apply to the export.
    const filtered = parseCsv(
      await (await app.request("/orgs/acme/export/risk.csv?q=PO-7788", { headers: s.headers() })).text(),
    );
    expect(filtered.slice(1).map((r) => r[col("customer_id")])).toEqual(["C3"]);

    const aging = parseCsv(
      await (await app.request("/orgs/acme/export/aging.csv", { headers: s.headers() })).text(),
    );
    expect(aging[0]).toEqual([
      "customer_id",
      "customer_name",
      "currency",
      "current",
      "1-30",
      "31-60",
      "61-90",
      "90+",
      "total",
    ]);
    expect(aging.find((r) => r[0] === "C1")).toEqual([
      "C1",
      `'=HYPERLINK("http://evil.example","x")`,
      "GBP",
      "0.00",
      "200.00",
      "750.00",
      "0.00",
      "0.00",
      "950.00",
    ]);
    expect(aging.find((r) => r[1] === "Total GBP")).toEqual([
      "",
      "Total GBP",
      "GBP",
      "300.00",
      "200.00",
      "750.00",
      "0.00",
      "0.00",
      "1250.00",
    ]);
    expect(aging.find((r) => r[1] === "Total EUR")).toEqual([
      "",
      "Total EUR",
      "EUR",
      "0.00",
      "0.00",
      "0.00",
      "0.00",
      "50.00",
      "50.00",
    ]);

    // Access as the page: signed out -> sign in; a member of another organisation only -> 404.
    const out = await app.request("/orgs/acme/export/risk.csv");
    expect(out.status).not.toBe(200);
    expect(await out.text()).not.toContain("C1");
    await ensureOrg(
      deps.store.db,
      { slug: "other", name: "Other", provider: "csv", baseCurrency: "GBP", timezone: "Europe/London" },
      deps.clock.now(),
    );
    const stranger = await signIn(deps, { email: "stranger@example.com", orgs: ["other"] });
    for (const path of ["/orgs/acme/export/risk.csv", "/orgs/acme/export/aging.csv"]) {
      const r = await app.request(path, { headers: stranger.headers() });
      expect(r.status, path).toBe(404);
      expect(await r.text()).not.toContain("C1");
    }
  });

  it("trend wording and its change never disagree on the rendered demo page (deteriorating reads later, improving sooner)", async () => {
    await seedDemo(deps.store, { customers: 60, seed: 7, now: deps.clock.now() });
    const demo = (await findOrgBySlug(deps.store.db, "demo"))!;
    await runScoring(deps.store, demo, {
      now: deps.clock.now(),
      asOf: dateInZone(deps.clock.now(), demo.timezone),
    });
    const s = await signIn(deps);
    const html = await (await createApp(deps).request("/orgs/demo", { headers: s.headers() })).text();
    const rows = [...html.matchAll(/<tr data-customer="[^"]+">(.*?)<\/tr>/g)].map((m) => m[1]!);
    expect(rows.length).toBeGreaterThan(20);
    const trends = rows.map((r) => ({
      word: r.match(/data-trend="([a-z_]+)"/)?.[1],
      title: r.match(/class="trend[^"]*" title="([^"]*)"/)?.[1] ?? "",
      text: r.match(/data-trend="[a-z_]+">(.*?)<\/span><\/td>/)?.[1] ?? "",
      row: r,
    }));
    const moving = trends.filter((t) => t.word === "deteriorating" || t.word === "improving");
    expect(moving.length).toBeGreaterThan(0);
    expect(moving.some((t) => /\d+ days? (later|sooner)/.test(t.text))).toBe(true);
    for (const t of trends) {
      if (t.word === "deteriorating") {
        expect(t.row).not.toMatch(/sooner|better|earlier/);
        expect(t.title).toMatch(/^deteriorating(: paying \d+ days? later than usual)?$/);
      }
      if (t.word === "improving") {
        expect(t.row).not.toMatch(/ later\b|worse/);
        expect(t.title).toMatch(/^improving(: paying \d+ days? sooner than usual)?$/);
      }
      if (t.word === "stable") expect(t.text).not.toMatch(/later|sooner/);
    }
    // The reasons come from the same judgement: a deteriorating customer's trend reason says "later".
    for (const t of moving) {
      const reason = t.row.match(/paying \d+ days? (later|sooner) than its usual/)?.[1];
      if (reason) expect(reason).toBe(t.word === "deteriorating" ? "later" : "sooner");
    }
  });

  it("serves a favicon, linked from every dashboard page", async () => {
    const app = createApp(deps);
    for (const path of ["/favicon.svg", "/favicon.ico"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/svg+xml");
      expect(await res.text()).toMatch(/^<svg /);
    }
    const login = await (await app.request("/login")).text();
    expect(login).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml"/>');
  });
});
