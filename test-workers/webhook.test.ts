/**
 * A Xero webhook on the Worker: answered at once, its re-pull sent to the jobs queue, and the Queues service
 * (miniflare's, delivering to this Worker's queue handler as wrangler.toml configures) re-pulls the invoice.
 */

import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signHmacSha256Base64 } from "../connectors/hmac";
import { JOBS } from "../src/jobs";
import { invoices, webhookEvents } from "../src/store/schema";
import type { FakeXero } from "./fake-xero";
import { drain, runCron, testDeps } from "./support";
import { self } from "./worker";
import { xeroOrg } from "./xero-fixture";

const KEY = "test-webhook-key-0123456789abcdefghijklmnopqrstuv";

describe("Xero webhook -> queue -> re-pull", () => {
  let deps: Awaited<ReturnType<typeof testDeps>>;
  let xero: FakeXero;

  beforeAll(async () => {
    deps = await testDeps();
    ({ xero } = await xeroOrg(deps, "hooked", "tenant-hook", 5));
    await drain(await runCron(JOBS.find((j) => j.name === "sync")!.cron, Date.now()));
  });
  afterAll(() => xero.restore());

  const deliver = async (body: string) =>
    self.fetch("http://creditpulse.test/webhooks/xero", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-xero-signature": await signHmacSha256Base64(KEY, body),
      },
      body,
    });

  it("answers 200 at once, then the queue consumer re-pulls the changed invoice, once per event", async () => {
    const [before] = await deps.store.db.select().from(invoices).where(eq(invoices.number, "NW-3"));
    expect(before!.status).toBe("authorised");
    const inv = xero.data.Invoices!.find((i) => i.InvoiceNumber === "NW-3")!;
    Object.assign(inv, {
      AmountPaid: 103,
      AmountDue: 0,
      Status: "PAID",
      UpdatedDateUTC: `/Date(${Date.now()}+0000)/`,
    });
    const body = JSON.stringify({
      events: [
        {
          resourceUrl: "https://api.xero.com/api.xro/2.0/Invoices/inv-3",
          resourceId: "inv-3",
          eventDateUtc: "2026-11-20T10:00:01.123",
          eventType: "UPDATE",
          eventCategory: "INVOICE",
          tenantId: "tenant-hook",
          tenantType: "ORGANISATION",
        },
      ],
      firstEventSequence: 1,
      lastEventSequence: 1,
      entropy: "S0m3r4Nd0mt3xt",
    });
    const res = await deliver(body);
    expect(res.status).toBe(200);
    await vi.waitFor(
      async () => {
        const [row] = await deps.store.db.select().from(invoices).where(eq(invoices.number, "NW-3"));
        expect(row!.status).toBe("paid");
      },
      { timeout: 20_000, interval: 200 },
    );
    await vi.waitFor(async () => {
      const [e] = await deps.store.db.select().from(webhookEvents);
      expect(e!.processedAt).not.toBeNull();
    });
    const byId = () => xero.calls.filter((c) => c.path === "Invoices" && c.query.IDs === "inv-3").length;
    expect(byId()).toBe(1);
    // Xero redelivers the same event: answered, recorded once, not re-pulled again.
    expect((await deliver(body)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(byId()).toBe(1);
  });
});
