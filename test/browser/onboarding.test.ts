/**
 * A new owner on a fresh install, in Chromium, at a laptop's 1366×900 and a phone's 390×844: the setup link
 * creates the owner account, the first-run checklist shows, Connect Xero runs the real OAuth flow against the
 * fake Xero (test/connectors/xero/fake-xero.ts) on local ports reached through XERO_API_URL/XERO_IDENTITY_URL,
 * a CSV export with its own column names and DD/MM/YYYY dates goes through the column mapper (one column
 * matched by hand), its bad row is reported before anything is written, the fixed file imports, and the
 * checklist ticks; then the owner invites a bookkeeper on the team page, who accepts, and the team item
 * ticks; last the owner follows "Set the sender" to the organisation's mail settings, saves a sender name and
 * address, and the checklist shows all but QuickBooks ticked (no MAIL_FROM: only the saved sender can tick it).
 * Xero's own consent page (a web page on Xero's site) is stood in for by a page answering its URL in the
 * browser, whose "Allow access" returns to the redirect URI with a code, as Xero's does.
 * Screenshots: test-results/onboarding-<width>-*.png.
 */
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { startServer } from "../../src/node";
import { invoices } from "../../src/store/schema";
import { createFakeXero, type FakeXero } from "../connectors/xero/fake-xero";
import { seedLedger, XERO_ENV } from "../connectors/xero/harness";
import { haveChromium, launchChromium } from "../support/browser";
import { testStore } from "../support/db";
import { type Route, serveRoutes } from "../support/fake-routes";
import { csv } from "../support/files";

const SHOTS = "test-results";

const HEADER = "Client Code,Client,Email,Inv No,Invoice Date,Due,Amount Inc VAT,Notes";
const ROWS = [
  "K1,Kestrel Ltd,ap@kestrel.example,S-100,03/09/2026,03/10/2026,1200.00,",
  "K1,Kestrel Ltd,ap@kestrel.example,S-101,15/10/2026,14/11/2026,450.50,rush",
  "K2,Heron & Co,,S-102,20/10/2026,19/11/2026,875.00,",
];
/** Line 3 says the invoice fell due before it was issued. */
const WITH_BAD_ROW = csv(
  HEADER,
  ROWS[0]!,
  ROWS[1]!.replace("15/10/2026,14/11/2026", "15/10/2026,14/09/2026"),
  ROWS[2]!,
);
const FIXED = csv(HEADER, ...ROWS);

let browser: Browser;
const closers: (() => Promise<void>)[] = [];

async function checklistState(page: Page): Promise<Record<string, string>> {
  return page.$$eval("[data-testid=checklist] li[data-item]", (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute("data-item"), e.getAttribute("data-done")])),
  );
}

async function noHorizontalScroll(page: Page) {
  const [scroll, client] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  expect(scroll, `${page.url()} scrolls sideways`).toBeLessThanOrEqual(client);
}

describe.skipIf(!haveChromium)("onboarding in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const close of closers.reverse()) await close();
  });

  for (const [width, height] of [
    [1366, 900],
    [390, 844],
  ] as const) {
    it(`a new owner completes setup, connects Xero, imports a CSV through the mapper, invites a bookkeeper and sets the sender at ${width}×${height}`, async () => {
      const shot = (name: string) =>
        page.screenshot({ path: `${SHOTS}/onboarding-${width}-${name}.png`, fullPage: true });
      // The fake Xero on two local ports, reached only through the configurable endpoints.
      let fake: FakeXero | undefined;
      const routes = (): Route[] => fake?.routes ?? [];
      const api = await serveRoutes(routes);
      const identity = await serveRoutes(routes);
      closers.push(api.close, identity.close);
      const clock = fixedClock("2026-11-20T10:00:00Z");
      fake = await createFakeXero({ clock, apiUrl: api.origin, identityUrl: identity.origin });
      seedLedger(fake.data());

      const store = testStore();
      const server = await startServer(
        loadConfig({
          CREDITPULSE_DB: ":memory:",
          PORT: "0",
          CREDITPULSE_SCHEDULER: "0",
          XERO_CLIENT_ID: XERO_ENV.XERO_CLIENT_ID,
          XERO_CLIENT_SECRET: XERO_ENV.XERO_CLIENT_SECRET,
          XERO_API_URL: api.origin,
          XERO_IDENTITY_URL: identity.origin,
        }),
        { store, log: silentLogger, clock },
      );
      closers.push(async () => {
        await server.close();
        await store.close();
      });
      expect(server.setupUrl).toBeTruthy();

      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      // Xero's consent page: "Allow access" sends the browser back to the redirect URI with a code and the state.
      await context.route(/^https:\/\/login\.xero\.com\//, async (route) => {
        const u = new URL(route.request().url());
        const back = `${u.searchParams.get("redirect_uri")}?code=good-code&state=${encodeURIComponent(u.searchParams.get("state") ?? "")}`;
        await route.fulfill({
          contentType: "text/html",
          body: `<!doctype html><meta name="viewport" content="width=device-width"><title>Xero</title><h1>Allow Creditpulse to access your Xero organisation?</h1><a href="${back}">Allow access</a>`,
        });
      });

      // Setup link -> the owner account.
      await page.goto(server.setupUrl!);
      await page.getByLabel("Email").fill("owner@kestrel.example");
      await page.getByLabel("Password (10 characters or more)").fill("a long enough password");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL(`${server.url}/`);
      expect(await page.getByTestId("checklist").textContent()).toContain("0 of 5 done");
      expect(await checklistState(page)).toEqual({
        xero: "no",
        quickbooks: "no",
        import: "no",
        sender: "no",
        team: "no",
      });
      await noHorizontalScroll(page);
      await shot("1-checklist");

      // Connect Xero: consent, choose the tenant, connected.
      await page.getByRole("link", { name: "Connect Xero" }).click();
      await page.getByRole("link", { name: "Allow access" }).click();
      await page.waitForURL(/\/connect\/xero\/callback/);
      await shot("2-choose-tenant");
      await page.getByRole("button", { name: "Connect" }).click();
      await page.getByRole("heading", { name: "Xero connected" }).waitFor();
      expect(await page.getByRole("link", { name: "Demo Company (NZ)" }).count()).toBe(1);
      expect(fake.state.tokenCalls.map((t) => t.grant)).toEqual(["authorization_code"]);

      // QuickBooks has no keys here: its button explains how to register, with this server's redirect URL.
      await page.goto(`${server.url}/`);
      await page.getByRole("link", { name: "Connect QuickBooks" }).click();
      await expect
        .poll(() => page.locator("#qbo-redirect").inputValue())
        .toBe(`${server.url}/connect/quickbooks/callback`);
      await noHorizontalScroll(page);
      await shot("3-quickbooks-steps");

      // Import: upload, the mapper, one column matched by hand.
      await page.goto(`${server.url}/`);
      await page.getByRole("link", { name: "Import a file" }).click();
      await page.setInputFiles("#file-invoices", {
        name: "kestrel-sales.csv",
        mimeType: "text/csv",
        buffer: Buffer.from(WITH_BAD_ROW),
      });
      await page.getByRole("button", { name: "Upload and match columns" }).click();
      await page.waitForURL(/\/import\/[A-Za-z0-9]+$/);
      expect(await page.locator("#col_customer_id").inputValue()).toBe("Client Code");
      expect(await page.locator("#col_invoice_number").inputValue()).toBe("Inv No");
      expect(await page.locator("#col_issue_date").inputValue()).toBe("Invoice Date");
      expect(await page.locator("#col_total").inputValue()).toBe("");
      expect(await page.locator("#date_format").inputValue()).toBe("DD/MM/YYYY");
      await noHorizontalScroll(page);
      await shot("4-mapper");
      await page.locator("#col_total").selectOption("Amount Inc VAT");
      await page.getByLabel("New organisation's name").fill("Kestrel Trading");
      await page.getByLabel("Base currency (new)").fill("GBP");
      await page.getByRole("button", { name: "Check every row" }).click();
      const issues = page.getByTestId("issues");
      await issues.waitFor();
      expect(await issues.textContent()).toContain(
        "kestrel-sales.csv:3 [due_date]: due date 2026-09-14 is before issue date 2026-10-15",
      );
      // The correction made in the form is kept, and nothing was written.
      expect(await page.locator("#col_total").inputValue()).toBe("Amount Inc VAT");
      expect(await store.db.select().from(invoices)).toHaveLength(7); // the Xero backfill's only
      await shot("5-bad-row");

      // The fixed file: check, then import.
      await page.getByRole("link", { name: "Upload other files" }).click();
      await page.setInputFiles("#file-invoices", {
        name: "kestrel-sales.csv",
        mimeType: "text/csv",
        buffer: Buffer.from(FIXED),
      });
      await page.getByRole("button", { name: "Upload and match columns" }).click();
      await page.waitForURL(/\/import\/[A-Za-z0-9]+$/);
      await page.locator("#col_total").selectOption("Amount Inc VAT");
      await page.getByLabel("New organisation's name").fill("Kestrel Trading");
      await page.getByLabel("Base currency (new)").fill("GBP");
      await page.getByRole("button", { name: "Check every row" }).click();
      await page.getByTestId("ready").waitFor();
      await shot("6-ready");
      await page.getByRole("button", { name: "Import 3 invoice(s)" }).click();
      const imported = page.getByTestId("imported");
      await imported.waitFor();
      expect(await imported.textContent()).toContain("invoices: 3 created, 0 updated, 0 unchanged");
      await noHorizontalScroll(page);
      await shot("7-imported");

      // The organisation's page shows the imported customers; the checklist ticks.
      await page.getByRole("link", { name: "Open Kestrel Trading" }).click();
      await page.waitForURL(/\/orgs\/kestrel-trading$/);
      expect(await page.locator("main").textContent()).toContain("Kestrel Ltd");
      await page.goto(`${server.url}/`);
      expect(await checklistState(page)).toEqual({
        xero: "yes",
        quickbooks: "no",
        import: "yes",
        sender: "no",
        team: "no",
      });
      expect(await page.getByTestId("checklist").textContent()).toContain("2 of 5 done");
      expect(await page.locator("tr[data-org]").count()).toBe(2);
      await shot("8-checklist-ticked");

      // Invite your team (the team page): a bookkeeper for the imported organisation, who accepts.
      const invitee = `books-${width}@kestrel.example`;
      await page.getByRole("link", { name: "Invite your team" }).click();
      await page.waitForURL(/\/team$/);
      await page.getByLabel("Their email address").fill(invitee);
      await page.getByLabel("Role", { exact: true }).selectOption("bookkeeper");
      await page.getByLabel("Kestrel Trading", { exact: true }).check();
      await page.getByLabel("Demo Company (NZ)", { exact: true }).uncheck();
      await page.getByRole("button", { name: "Send invitation" }).click();
      const link = await page.locator("#invite-link").inputValue();
      expect(link.startsWith(`${server.url}/invite/`)).toBe(true);
      await shot("9-invited");
      const books = await browser.newContext({ viewport: { width, height } });
      const bp = await books.newPage();
      await bp.goto(link);
      await bp.getByLabel(/Choose a password/).fill("bookkeeper password 1");
      await bp.getByRole("button", { name: "Accept" }).click();
      await bp.waitForURL(/\/orgs\/kestrel-trading$/);
      await books.close();

      await page.goto(`${server.url}/`);
      expect(await checklistState(page)).toEqual({
        xero: "yes",
        quickbooks: "no",
        import: "yes",
        sender: "no",
        team: "yes",
      });
      expect(await page.getByTestId("checklist").textContent()).toContain("3 of 5 done");
      await noHorizontalScroll(page);
      await shot("10-checklist-team");

      // Set the sender: the checklist's link opens the mail settings of an organisation the owner owns.
      await page.getByRole("link", { name: "Set the sender" }).click();
      await page.waitForURL(/\/orgs\/[a-z0-9-]+\/settings#mail$/);
      const settingsUrl = page.url();
      await page.getByLabel("Sender name").fill("Kestrel accounts");
      await page.getByLabel("Sender address").fill("billing@kestrel.example");
      await noHorizontalScroll(page);
      await page.getByRole("button", { name: "Save mail settings" }).click();
      await page.waitForURL(/settings\?done=mail_saved#mail$/);
      expect(page.url().split("?")[0]).toBe(settingsUrl.split("#")[0]);
      expect(await page.getByLabel("Sender address").inputValue()).toBe("billing@kestrel.example");
      // What is still needed no longer names a sender (this install has no mail server, so that stays).
      const missing = await page.getByTestId("mail-missing").textContent();
      expect(missing).not.toContain("a sender address");
      expect(missing).toContain("a mail server");
      await page.locator("#mail").screenshot({ path: `${SHOTS}/onboarding-${width}-11-mail-saved.png` });

      await page.goto(`${server.url}/`);
      expect(await checklistState(page)).toEqual({
        xero: "yes",
        quickbooks: "no",
        import: "yes",
        sender: "yes",
        team: "yes",
      });
      const checklist = page.getByTestId("checklist");
      expect(await checklist.textContent()).toContain("4 of 5 done");
      expect(await checklist.locator("li[data-item=sender]").textContent()).toContain(
        "A sender address is saved in the mail settings",
      );
      await noHorizontalScroll(page);
      await shot("12-checklist-sender");
      await context.close();
    }, 90_000);
  }
});
