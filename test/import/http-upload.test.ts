/**
 * CSV import over HTTP on Node: POST /api/orgs/:slug/imports imports in-process through the CLI's own
 * `importCsv`, answers with the summary (200) or the bad rows (422), and keeps the outcome for GET. The
 * Workers suite covers the R2 + queue path (test-workers/import.test.ts).
 */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { importCsv } from "../../src/import/csv-import";
import { invoices } from "../../src/store/schema";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";
import { tempFiles } from "../support/files";

const HEADER = "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total";

async function setup() {
  const deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
  const f = tempFiles({
    "invoices.csv": `${HEADER}\nC1,One Ltd,ap@one.test,INV-1,2026-09-01,2026-10-01,GBP,100.00\n`,
  });
  const first = await importCsv(deps.store, {
    org: "shop",
    invoices: f["invoices.csv"]!,
    currency: "GBP",
    now: deps.clock.now(),
  });
  expect(first.ok).toBe(true);
  const app = createApp(deps);
  return { deps, app };
}

describe("POST /api/orgs/:slug/imports on Node", () => {
  it("imports a raw text/csv body at once and keeps the outcome for GET", async () => {
    const { deps, app } = await setup();
    const owner = await signIn(deps, { role: "bookkeeper" });
    const body = `${HEADER}\nC1,One Ltd,ap@one.test,INV-1,2026-09-01,2026-10-01,GBP,100.00\nC2,Two Ltd,ap@two.test,INV-2,2026-10-01,2026-10-31,GBP,42.10\n`;
    const res = await app.request("/api/orgs/shop/imports", {
      method: "POST",
      headers: owner.headers({ "content-type": "text/csv" }),
      body,
    });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { id: string; status: string; status_url: string; result: unknown };
    expect(json).toMatchObject({
      status: "done",
      files: { invoices: { name: "invoices.csv", bytes: body.length } },
      result: {
        ok: true,
        rows: { read: 2, created: 1, unchanged: 1 },
        invoices: { created: 1, unchanged: 1 },
      },
    });
    const [inv] = await deps.store.db
      .select()
      .from(invoices)
      .where(and(eq(invoices.number, "INV-2")));
    expect(inv).toMatchObject({ totalMinor: 4210 });
    const again = await app.request(json.status_url, { headers: owner.headers() });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: json.id, status: "done" });
  });

  it("names the bad row (multipart, with the CLI's options), writes nothing; viewers and strangers are refused", async () => {
    const { deps, app } = await setup();
    const owner = await signIn(deps);
    const form = new FormData();
    form.append(
      "invoices",
      new File(
        [
          `${HEADER}\nC3,Three,ap@three.test,INV-3,01/10/2026,31/10/2026,GBP,10\nC3,Three,ap@three.test,INV-4,31/10/2026,2026-13-01,GBP,10\n`,
        ],
        "ledger.csv",
      ),
    );
    form.append("date_format", "DD/MM/YYYY");
    const res = await app.request("/api/orgs/shop/imports", {
      method: "POST",
      headers: owner.headers(),
      body: form,
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      status: "failed",
      result: { ok: false, error_count: 1, errors: [{ file: "ledger.csv", line: 3, column: "due_date" }] },
    });
    expect(await deps.store.db.select().from(invoices).where(eq(invoices.number, "INV-3"))).toEqual([]);

    const bad = await app.request("/api/orgs/shop/imports", {
      method: "POST",
      headers: owner.headers({ "content-type": "text/csv" }),
      body: `${HEADER}\n`,
    });
    expect(bad.status).toBe(422); // no data rows: the import's own refusal
    const badOption = await app.request("/api/orgs/shop/imports?date_format=DD.MM.YYYY", {
      method: "POST",
      headers: owner.headers({ "content-type": "text/csv" }),
      body: `${HEADER}\n`,
    });
    expect(badOption.status).toBe(422);
    expect(((await badOption.json()) as { error: { message: string } }).error.message).toMatch(/date_format/);

    const viewer = await signIn(deps, { email: "viewer@example.com", role: "viewer" });
    const refused = await app.request("/api/orgs/shop/imports", {
      method: "POST",
      headers: viewer.headers({ "content-type": "text/csv" }),
      body: `${HEADER}\n`,
    });
    expect(refused.status).toBe(403);
    const stranger = await app.request("/api/orgs/shop/imports", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: `${HEADER}\n`,
    });
    expect(stranger.status).toBe(403); // no session: no CSRF token either
  });
});
