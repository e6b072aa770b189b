/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against startServer on port 0
 * with an in-memory store. Screenshots go to test-results/ (gitignored).
 */
import { mkdirSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/auth/password";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { type Server, startServer } from "../../src/node";
import { ensureUser, grant } from "../../src/store/accounts";
import type { Store } from "../../src/store/db";
import { listOrgs } from "../../src/store/orgs";
import { CHROMIUM, haveChromium, launchChromium } from "../support/browser";
import { testStore } from "../support/db";

if (!haveChromium)
  console.warn(`Skipping browser tests: ${CHROMIUM} is not installed (apt-get install chromium).`);
const SHOTS = "test-results";

let browser: Browser;
let server: Server;
let store: Store;

describe.skipIf(!haveChromium)("dashboard in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    store = testStore();
    const clock = fixedClock("2026-11-20T10:00:00Z");
    server = await startServer(
      loadConfig({ CREDITPULSE_DB: ":memory:", PORT: "0", CREDITPULSE_SCHEDULER: "0" }),
      { store, log: silentLogger, clock },
    );
    const now = clock.now();
    const { user } = await ensureUser(store.db, "bookkeeper@example.com", now, {
      passwordHash: await hashPassword("browser test password"),
    });
    for (const org of await listOrgs(store.db)) await grant(store.db, user.id, org.id, "bookkeeper", now);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  it("signs in, goes portfolio -> organisation -> customer, pauses chasing, and previews an edited template", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${server.url}/orgs/demo`);
    await expect.poll(() => page.url()).toContain("/login");
    await page.getByLabel("Email").fill("bookkeeper@example.com");
    await page.getByLabel("Password").fill("browser test password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/orgs\/demo$/);
    await page.goto(`${server.url}/`);
    await page.screenshot({ path: `${SHOTS}/1-portfolio.png`, fullPage: true });

    await page.locator(`tr[data-org="demo"] a[href="/orgs/demo"]`).click();
    await page.waitForURL(/\/orgs\/demo/);
    // One aging chart per currency the organisation's customers owe in.
    expect(await page.getByRole("img", { name: /Open balances by days past due, GBP/ }).count()).toBe(1);
    expect(await page.getByRole("img", { name: /Expected collections per week/ }).count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/2-organisation.png`, fullPage: true });
    await page
      .locator("section", { has: page.locator("#cash-in-h") })
      .screenshot({ path: `${SHOTS}/2b-forecast.png` });

    await page.locator("tr[data-customer] a").first().click();
    await page.waitForURL(/\/customers\//);
    await page.getByLabel("Pause chasing until").fill("2026-12-31");
    await page.getByRole("button", { name: "Pause chasing" }).click();
    await page.waitForURL(/done=/);
    expect(await page.getByTestId("chasing-state").textContent()).toBe("Paused until 31 Dec 2026");
    expect(await page.locator(".timeline").textContent()).toContain("Chasing paused until 31 Dec 2026");
    await page.screenshot({ path: `${SHOTS}/3-customer.png`, fullPage: true });

    await page.goto(`${server.url}/orgs/demo/settings?template=overdue&part=subject`);
    const preview = page.frameLocator("iframe#preview");
    await expect.poll(() => preview.getByTestId("subject").textContent()).toBeTruthy();
    const before = await preview.getByTestId("subject").textContent();
    await page
      .getByLabel(/overdue · subject/)
      .fill("Friendly nudge about {{ invoice_count }} invoice(s) for {{ customer.name }}");
    // The page previews as you type (progressive enhancement); the Preview button does the same without JS.
    await expect
      .poll(() => preview.getByTestId("subject").textContent(), { timeout: 5000 })
      .toBe("Friendly nudge about 2 invoice(s) for Sample Customer Ltd");
    expect(before).not.toBe("Friendly nudge about 2 invoice(s) for Sample Customer Ltd");
    await page.screenshot({ path: `${SHOTS}/4-template-preview.png`, fullPage: true });
    await page.close();
  }, 60_000);
});
