/**
 * Pay-now links end to end, on recorded-shape provider responses and a real SMTP server:
 * - Xero: the reminder run fetches each listed invoice's online invoice (GET /Invoices/{id}/OnlineInvoice, the
 *   shape of test/fixtures/xero/invoice-online-invoice.spec.json) once, caches it (a 400 is cached as "none"),
 *   and the link reaches the email, the customers' page and its PDF statement; a sync never erases it.
 * - QuickBooks: the InvoiceLink asked for with include=invoiceLink reaches the same three places, and survives an
 *   incremental (CDC) sync.
 * - An invoice without a link shows the organisation's bank details; a hostile link is never a link.
 */
import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { registerConnector } from "../../connectors/registry";
import { createXeroConnector } from "../../connectors/xero/index";
import { fixedClock } from "../../src/clock";
import { createApp } from "../../src/http/app";
import { runRemindersFor } from "../../src/reminders/run-for";
import type { Organisation } from "../../src/store/orgs";
import { cachedOnlineLinks, savePaymentSettings } from "../../src/store/payment";
import { invoices, organisations } from "../../src/store/schema";
import { connectTenants } from "../../src/sync/connect";
import { syncOrgConnection } from "../../src/sync/sync-connections";
import { connectedOrg, FakeQbo, qboDeps } from "../connectors/quickbooks/fake-qbo";
import { createFakeXero, invoiceRecord, msDate } from "../connectors/xero/fake-xero";
import { seedLedger, XERO_ENV } from "../connectors/xero/harness";
import { compressedPdfText } from "../portal/support";
import { testDeps } from "../support/deps";
import { useInbox } from "../support/smtp";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());
const inbox = useInbox();

/** The recorded online invoice URL (Xero's documented example response). */
const RECORDED = JSON.parse(
  readFileSync(new URL("../fixtures/xero/invoice-online-invoice.spec.json", import.meta.url), "utf8"),
) as { OnlineInvoices: { OnlineInvoiceUrl: string }[] };
const XERO_URL = RECORDED.OnlineInvoices[0]!.OnlineInvoiceUrl;
const BANK = "Kiwi Bank\nAccount 12-3456-7890123-00\nReference: your invoice number";
const mailEnv = () => ({ SMTP_URL: inbox.url, MAIL_FROM: "Accounts <accounts@demo.example>" });

const messageTo = (address: string) => {
  const m = inbox.messages.find((x) => x.envelope.to.includes(address));
  if (!m) throw new Error(`no message to ${address}`);
  return { html: String(m.parsed.html), text: m.parsed.text ?? "" };
};
const pagePath = (text: string) => {
  const m = /https:\/\/creditpulse\.[a-z.]+(\/c\/[\w.-]+)/.exec(text);
  if (!m) throw new Error("no customers' page link");
  return m[1]!.replace(/\/unsubscribe$/, "");
};

describe("Xero online invoice links", () => {
  it("are fetched once when a reminder first lists the invoice, cached, and shown in the email, the page and the PDF", async () => {
    const clock = fixedClock("2026-11-20T10:00:00Z");
    const fake = await createFakeXero({ clock });
    server.use(...fake.handlers);
    const ids = seedLedger(fake.data());
    // A second open invoice for Ridgeway University, due the same day as INV-0006.
    fake.data().Invoices.push(
      invoiceRecord({
        id: ids.inv(9),
        contactId: ids.c(4),
        number: "INV-0009",
        date: "2026-10-01",
        due: "2026-10-31",
        total: 300,
        updated: ids.T0 + 40 * ids.HOUR,
      }),
    );
    const deps = await testDeps({ clock, env: { ...XERO_ENV, ...mailEnv() } });
    const connector = createXeroConnector({ clock, sleep: async (ms) => clock.advance(ms), pageSize: 50 });
    registerConnector(connector);
    const grant = await fake.grant();
    const tokens = { ...grant, expiresAt: clock.now() + 30 * 60_000 };
    const t = fake.tenants[0]!;
    await connectTenants(
      deps,
      "xero",
      tokens,
      [{ tenantId: t.id, tenantName: t.name, providerConnectionId: t.connectionId }],
      (x) =>
        connector.organisation({
          orgId: "",
          connectionId: "",
          tenantId: x.tenantId,
          accessToken: async () => tokens.accessToken,
        }),
    );
    const [org] = (await deps.store.db.select().from(organisations)) as Organisation[];
    expect((await syncOrgConnection(deps, org!.id))!.report.status).toBe("ok");
    await savePaymentSettings(deps.store.db, org!.id, { payUrlTemplate: null, bankDetails: BANK }, 0);

    // INV-0002 (Boom FM): the recorded URL. INV-0003 (City Agency): a hostile URL, never a link. INV-0004 (City
    // Agency) and INV-0009 (Ridgeway): the fake's own URLs. INV-0006 (Ridgeway): Xero refuses (400: cached as
    // "none").
    fake.onlineInvoiceUrls.set(ids.inv(2), XERO_URL);
    fake.onlineInvoiceUrls.set(ids.inv(3), "javascript:alert(document.cookie)");
    fake.state.faults.push({
      status: 400,
      path: `/Invoices/${ids.inv(6)}/OnlineInvoice`,
      body: {
        ErrorNumber: 10,
        Type: "ValidationException",
        Message: "A validation exception occurred",
        Elements: [{ ValidationErrors: [{ Message: "Online invoicing is not available for this invoice" }] }],
      },
    });
    fake.resetCounters();
    const onlineCalls = () =>
      fake.state.calls.filter((c) => c.path.endsWith("/OnlineInvoice")).map((c) => c.path.split("/")[2]);
    const sent = (r: Awaited<ReturnType<typeof runRemindersFor>>) =>
      r!.emails.filter((e) => e.status === "sent").map((e) => e.invoice_numbers);

    const first = await runRemindersFor(deps, org!, { kind: "opening", date: "2026-11-23" });
    expect(sent(first)).toEqual(
      expect.arrayContaining([["INV-0002"], ["INV-0003", "INV-0004"], ["INV-0006", "INV-0009"]]),
    );
    expect(onlineCalls().sort()).toEqual([2, 3, 4, 6, 9].map((n) => ids.inv(n)).sort());
    const id = (n: number) => storeId(deps, ids.inv(n));
    const cached = await cachedOnlineLinks(deps.store.db, org!.id, [await id(4), await id(9)]);
    const link4 = cached.get(await id(4))!;
    const link9 = cached.get(await id(9))!;
    expect(link4).toMatch(/^https:\/\/in\.xero\.com\//);

    // Boom FM: every invoice has a link, so no bank details.
    const boom = messageTo("ap@boomfm.example");
    expect(boom.html).toContain(`INV-0002<br><a href="${XERO_URL}">Pay now</a>`);
    expect(boom.text).toContain(`Pay online: ${XERO_URL}`);
    expect(boom.html).not.toContain("Paying by bank transfer");
    // City Agency: INV-0004 has its link; INV-0003's hostile one is nowhere, so the bank details are there.
    const city = messageTo("accounts@city.example");
    expect(city.html).toContain(`INV-0004<br><a href="${link4}">Pay now</a>`);
    expect(city.html).toMatch(/<td[^>]*>INV-0003<\/td>/);
    expect(city.html + city.text).not.toContain("javascript:");
    expect(city.html).toContain(
      "Paying by bank transfer</strong> (invoices without a Pay now link):<br>Kiwi Bank<br />\nAccount 12-3456-7890123-00",
    );
    expect(city.text).toContain(`Paying by bank transfer (invoices without a pay link):\n${BANK}`);
    // Ridgeway: INV-0009 linked, INV-0006 (Xero said no) with bank details.
    const ridgeway = messageTo("finance@ridgeway.example");
    expect(ridgeway.html).toContain(`INV-0009<br><a href="${link9}">Pay now</a>`);
    expect(ridgeway.html).toMatch(/<td[^>]*>INV-0006<\/td>/);
    expect(ridgeway.text).toContain(BANK);

    // The customers' page and its PDF statement show the same, and never call Xero.
    fake.resetCounters();
    const app = createApp(deps);
    const cityPage = await (await app.request(pagePath(city.text))).text();
    expect(cityPage).toContain(`<a href="${link4}" rel="noopener noreferrer" target="_blank">Pay online</a>`);
    expect(cityPage).toContain('<a href="#bank-details">By bank transfer</a>');
    expect(cityPage).toContain(`<p class="bank">${BANK}</p>`);
    expect(cityPage).not.toContain("javascript:");
    const pdf = compressedPdfText(
      Buffer.from(await (await app.request(`${pagePath(city.text)}/statement.pdf`)).arrayBuffer()),
    );
    expect(pdf).toContain(`Pay online: ${link4}`);
    expect(pdf).not.toContain("javascript");
    expect(pdf).toContain("Paying by bank transfer");
    expect(pdf).toContain("Account 12-3456-7890123-00");
    const boomPage = await (await app.request(pagePath(boom.text))).text();
    expect(boomPage).toContain(`href="${XERO_URL}"`);
    expect(boomPage).not.toContain("bank-details");
    expect(onlineCalls()).toEqual([]);

    // A sync that re-reads the invoice (pay_url null from Xero) leaves the cached link alone.
    clock.advance(60_000);
    const inv2 = fake.data().Invoices.find((i) => i.InvoiceID === ids.inv(2))!;
    Object.assign(inv2, { Reference: "edited", UpdatedDateUTC: msDate(clock.now()) });
    const again = await syncOrgConnection(deps, org!.id);
    expect(again!.report.entities.invoices.updated).toBe(1);
    expect((await cachedOnlineLinks(deps.store.db, org!.id, [await id(2)])).get(await id(2))).toBe(XERO_URL);

    // A week on, Ridgeway's final notice lists both invoices again: INV-0009's cached link is not fetched again;
    // INV-0006's "none" is a week old, so Xero is asked once more, and now has a link.
    inbox.clear();
    fake.resetCounters();
    const later = await runRemindersFor(deps, org!, { kind: "opening", date: "2026-11-30" });
    expect(sent(later)).toEqual([["INV-0006", "INV-0009"]]);
    expect(onlineCalls()).toEqual([ids.inv(6)]);
    const link6 = (await cachedOnlineLinks(deps.store.db, org!.id, [await id(6)])).get(await id(6))!;
    const final = messageTo("finance@ridgeway.example");
    expect(final.html).toContain(`INV-0006<br><a href="${link6}">Pay now</a>`);
    expect(final.html).toContain(`href="${link9}"`);
    expect(final.html).not.toContain("Paying by bank transfer");
  });
});

async function storeId(deps: Awaited<ReturnType<typeof testDeps>>, externalId: string): Promise<string> {
  const [row] = await deps.store.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(eq(invoices.externalId, externalId));
  return row!.id;
}

describe("QuickBooks InvoiceLink", () => {
  it("is asked for with include=invoiceLink and reaches the email, the page and the PDF, across CDC syncs", async () => {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const link = "https://connect.intuit.com/t/scs-v1-5f0b8a1c2d3e4f5a6b7c8d9e0f1a2b3c";
    fake.data.Invoice.get("101")!.InvoiceLink = link;
    const { deps, clock, service } = await qboDeps({ env: mailEnv() });
    const { org, connection } = await connectedOrg(deps, fake);
    await savePaymentSettings(deps.store.db, org.id, { payUrlTemplate: null, bankDetails: BANK }, 0);
    await service.sync(connection);
    expect(fake.apiCalls("/query").length).toBeGreaterThan(0);

    // An incremental sync (CDC) re-reads invoice 101: its link is asked for again, not lost.
    clock.advance(60 * 60_000);
    const inv = fake.data.Invoice.get("101")!;
    inv.MetaData = { ...inv.MetaData, LastUpdatedTime: new Date(clock.now()).toISOString() };
    await service.sync(connection);
    const cdc = fake.calls.filter((c) => c.path.includes("/cdc"));
    expect(cdc.length).toBeGreaterThan(0);
    const [row] = await deps.store.db
      .select({ payUrl: invoices.payUrl })
      .from(invoices)
      .where(eq(invoices.externalId, "101"));
    expect(row!.payUrl).toBe(link);

    const report = await runRemindersFor(deps, org, { kind: "opening", date: "2026-11-23" });
    expect(report!.emails.filter((e) => e.status === "sent").map((e) => e.invoice_numbers)).toEqual([
      ["1001", "1002"],
    ]);
    const mail = messageTo("ap@anchorcafe.example");
    expect(mail.html).toContain(`1001<br><a href="${link}">Pay now</a>`);
    expect(mail.text).toContain(`Pay online: ${link}`);
    // 1002 has no InvoiceLink: the bank details are shown for it.
    expect(mail.text).toContain(BANK);

    const app = createApp(deps);
    const page = await (await app.request(pagePath(mail.text))).text();
    expect(page).toContain(`<a href="${link}" rel="noopener noreferrer" target="_blank">Pay online</a>`);
    expect(page).toContain(`<p class="bank">${BANK}</p>`);
    const pdf = compressedPdfText(
      Buffer.from(await (await app.request(`${pagePath(mail.text)}/statement.pdf`)).arrayBuffer()),
    );
    expect(pdf).toContain(`Pay online: ${link}`);
    expect(pdf).toContain("Kiwi Bank");
  });
});
