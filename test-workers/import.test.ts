/**
 * CSV import over HTTP on Workers: an owner uploads the files to POST /api/orgs/:slug/imports; the Worker puts
 * them in R2 and one `import` message on the jobs queue; the consumer (miniflare's Queues delivering to this
 * Worker) reads them back and runs the CLI's own import on D1; GET .../imports/:id shows the outcome. Also: an
 * invitation accepted over HTTP in workerd, and that a viewer may not upload.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { signedSetupLink } from "../src/auth/setup";
import { createInvite } from "../src/store/accounts";
import { invoices } from "../src/store/schema";
import { countingD1 } from "./d1-count";
import { seedOrg } from "./seed";
import { BASE, Browser, consume, recordingEnv, testDeps } from "./support";
import { worker } from "./worker";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const uploads = () => (env as unknown as { UPLOADS: R2Bucket }).UPLOADS;

function upload(
  browser: Browser,
  slug: string,
  files: Record<string, string>,
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [kind, text] of Object.entries(files))
    form.append(kind, new File([text], `${kind}.csv`, { type: "text/csv" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return browser.fetch(`/api/orgs/${slug}/imports`, {
    method: "POST",
    headers: { "x-csrf-token": browser.csrf },
    body: form,
  });
}

async function outcome(browser: Browser, statusUrl: string) {
  let body: { status: string; result: Record<string, unknown> | null } | undefined;
  await vi.waitFor(
    async () => {
      const res = await browser.fetch(statusUrl);
      expect(res.status).toBe(200);
      body = (await res.json()) as typeof body;
      expect(["done", "failed"]).toContain(body!.status);
    },
    { timeout: 30_000, interval: 250 },
  );
  return body!;
}

describe("CSV import over HTTP on Workers (R2 + queue)", () => {
  let deps: Awaited<ReturnType<typeof testDeps>>;
  let orgId: string;
  const owner = new Browser();

  beforeAll(async () => {
    deps = await testDeps();
    orgId = (await seedOrg(deps, "ledgerco")).id;
    const link = new URL(await signedSetupLink(deps.secret, BASE, Date.now()));
    await owner.page(link.pathname + link.search);
    const created = await owner.post("/setup", {
      token: link.searchParams.get("token")!,
      email: "owner@ledger.test",
      password: "correct horse battery",
      timezone: "Europe/London",
    });
    expect(created.status).toBe(303);
    await owner.page("/orgs/ledgerco");
  });

  it("stores the upload in R2, imports it from the queue with the CLI's import, and reports it", async () => {
    const csv = [
      "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total",
      `C9,Nine Ltd,ap@nine.test,INV-900,${day(-60)},${day(-30)},GBP,250.00`,
      `C9,Nine Ltd,ap@nine.test,INV-901,${day(-20)},${day(10)},GBP,99.50`,
    ].join("\n");
    const res = await upload(owner, "ledgerco", { invoices: csv });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as { id: string; status: string; status_url: string };
    expect(queued).toMatchObject({ status: "queued", status_url: `/api/orgs/ledgerco/imports/${queued.id}` });

    const done = await outcome(owner, queued.status_url);
    expect(done.status).toBe("done");
    expect(done.result).toMatchObject({
      ok: true,
      rows: { read: 2, created: 2 },
      invoices: { created: 2 },
      customers: { created: 1 },
    });
    const rows = await deps.store.db
      .select()
      .from(invoices)
      .where(and(eq(invoices.orgId, orgId), eq(invoices.number, "INV-900")));
    expect(rows).toMatchObject([{ totalMinor: 25_000, amountDueMinor: 25_000, currency: "GBP" }]);
    // The files are deleted from R2 once imported.
    expect((await uploads().list({ prefix: "uploads/" })).objects).toEqual([]);
    const customer = await owner.page("/orgs/ledgerco/customers/C9");
    expect(customer.status).toBe(200);
    expect(customer.html).toContain("INV-901");
  });

  it("a file with a bad row imports nothing and reports the row, as the CLI does", async () => {
    const csv = [
      "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total",
      `C8,Eight Ltd,INV-800,${day(-40)},${day(-10)},GBP,120.00`,
      `C8,Eight Ltd,INV-801,not-a-date,${day(-10)},GBP,80.00`,
    ].join("\n");
    const res = await upload(owner, "ledgerco", { invoices: csv });
    expect(res.status).toBe(202);
    const failed = await outcome(owner, ((await res.json()) as { status_url: string }).status_url);
    expect(failed.status).toBe("failed");
    expect(failed.result).toMatchObject({
      ok: false,
      error_count: 1,
      errors: [{ file: "invoices.csv", line: 3, column: "issue_date" }],
    });
    const none = await deps.store.db.select().from(invoices).where(eq(invoices.number, "INV-800"));
    expect(none).toEqual([]);
  });

  it("an invitation is accepted over HTTP; a viewer may read the organisation but not upload", async () => {
    const token = await createInvite(
      deps.store.db,
      { email: "viewer@ledger.test", orgId, role: "viewer" },
      Date.now(),
    );
    const viewer = new Browser();
    const form = await viewer.page(`/invite/${token}`);
    expect(form.status).toBe(200);
    expect(form.html).toContain("viewer");
    const accepted = await viewer.post(`/invite/${token}`, { password: "another long password" });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get("location")).toBe("/orgs/ledgerco");
    const page = await viewer.page("/orgs/ledgerco");
    expect(page.status).toBe(200);
    // The link works once.
    expect((await new Browser().page(`/invite/${token}`)).html).not.toContain("Accept");

    const refused = await upload(viewer, "ledgerco", { invoices: "customer_id,invoice_number\n" });
    expect(refused.status).toBe(403);
    expect((await uploads().list({ prefix: "uploads/" })).objects).toEqual([]);
  });

  it("one message imports a 1,000-invoice upload; what reaches D1 is counted", async () => {
    const header = "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid";
    const rows = Array.from(
      { length: 1000 },
      (_, i) =>
        `K${i % 100},Cust ${i % 100},K-${i},${day(-60)},${day(-30)},GBP,${i + 1}.00,${i % 3 ? "" : "1.00"}`,
    );
    // The upload through the Worker's fetch with its queue recorded, then the one message consumed on a D1
    // binding that counts calls (a batch is one) and statements.
    const { env: e, sent } = recordingEnv();
    const form = new FormData();
    form.append("invoices", new File([[header, ...rows].join("\n")], "invoices.csv"));
    const cookie = [...owner.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${BASE}/api/orgs/ledgerco/imports`, {
        method: "POST",
        headers: { "x-csrf-token": owner.csrf, cookie },
        body: form,
      }),
      e,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(202);
    expect(sent).toHaveLength(1);
    const { d1, count } = countingD1(env.DB);
    const { result } = await consume(sent[0]!, { DB: d1 } as never);
    expect(result.retryMessages).toEqual([]);
    const done = await outcome(owner, ((await res.json()) as { status_url: string }).status_url);
    expect(done.result).toMatchObject({ ok: true, invoices: { created: 1000 } });
    // Measured: 76 calls carrying 1,155 statements (README "D1 notes").
    expect(count.calls).toBeLessThan(200);
    expect(count.statements).toBeLessThan(2000);
  });
});
