/**
 * The customer page's credit-limit field shows the limit in the currency's own decimals, the way the form reads
 * it back: saving the form unchanged keeps the limit (a JPY limit of ¥5,000 once showed as 50, and saving
 * again stored ¥50).
 */
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { importCsv } from "../../src/import/csv-import";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";
import { csv, tempFiles } from "../support/files";

let deps: Deps;
afterEach(async () => {
  await deps.store.close();
});

async function orgIn(currency: string, total: string) {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
  const f = tempFiles({
    "invoices.csv": csv(
      "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total",
      `C1,Acme,ap@acme.example,INV-1,2026-09-01,2026-10-01,${currency},${total}`,
    ),
  });
  const r = await importCsv(deps.store, {
    org: "acme",
    invoices: f["invoices.csv"]!,
    currency,
    now: deps.clock.now(),
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
}

describe("credit-limit field", () => {
  it.each([
    { currency: "JPY", total: "120000", typed: "5000", shown: "5000", minor: 5000 },
    { currency: "GBP", total: "1000.00", typed: "1234.5", shown: "1234.50", minor: 123450 },
  ])(
    "$currency: shows $typed as $shown, and saving it again keeps it",
    async ({ currency, total, typed, shown, minor }) => {
      await orgIn(currency, total);
      const s = await signIn(deps, { email: "bk@example.com", role: "bookkeeper" });
      const app = createApp(deps);
      const save = (limit: string) =>
        app.request("/orgs/acme/customers/C1/credit-limit", {
          method: "POST",
          headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
          body: new URLSearchParams({ limit }).toString(),
        });
      const stored = async () =>
        (await deps.store.db.all<{ m: number }>(sql`select credit_limit_minor as m from contacts`))[0]?.m;
      const field = async () => {
        const page = await (await app.request("/orgs/acme/customers/C1", { headers: s.headers() })).text();
        return /id="limit"[^>]*value="([^"]*)"/.exec(page)?.[1];
      };

      expect((await save(typed)).status).toBeLessThan(400);
      expect(await stored()).toBe(minor);
      expect(await field()).toBe(shown);
      expect((await save((await field())!)).status).toBeLessThan(400);
      expect(await stored()).toBe(minor);
    },
  );
});
