/**
 * Safe by default, in a real browser (Debian's Chromium via playwright-core, server on port 0, demo ledger,
 * real SMTP test inbox, the demo organisation connected to the fake Xero through msw):
 * an owner presses Send now and sees a confirmation listing the emails and holds first; nothing is held without
 * approval; a week after the final notices a second Send now proposes holds; approving one from the Credit
 * holds view writes it to Xero (the "Credit Hold" contact group) and shows it as active.
 * Screenshots go to test-results/ (gitignored).
 */
import { mkdirSync } from "node:fs";
import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/auth/password";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { seedDemo } from "../../src/import/demo";
import { silentLogger } from "../../src/log";
import { type Server, startServer } from "../../src/node";
import { ensureUser, grant } from "../../src/store/accounts";
import { sealTokens } from "../../src/store/connection-tokens";
import { createConnection } from "../../src/store/connections";
import type { Store } from "../../src/store/db";
import { contacts, holdProposals, organisations } from "../../src/store/schema";
import { sealerFromSecret } from "../../src/store/secrets";
import { CLIENT_ID, CLIENT_SECRET, createFakeXero, type FakeXero } from "../connectors/xero/fake-xero";
import { haveChromium, launchChromium } from "../support/browser";
import { testStore } from "../support/db";
import { TEST_SECRET } from "../support/deps";
import { startInbox, type TestInbox } from "../support/smtp";

const SHOTS = "test-results";
const SECRET = TEST_SECRET;
const DAY = 86_400_000;

let browser: Browser;
let server: Server;
let store: Store;
let inbox: TestInbox;
let fake: FakeXero;
const clock = fixedClock("2026-11-11T11:00:00Z"); // Wednesday
const msw = setupServer();

async function signIn(page: Page) {
  await page.goto(`${server.url}/orgs/demo/reminders`);
  await page.getByLabel("Email").fill("owner@example.com");
  await page.getByLabel("Password").fill("browser test password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/orgs\/demo\/reminders$/);
}

describe.skipIf(!haveChromium)("Send now and credit holds in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    inbox = await startInbox();
    fake = await createFakeXero({ clock });
    msw.use(...fake.handlers);
    msw.listen({ onUnhandledRequest: "bypass" });
    store = testStore();
    const config = loadConfig({
      CREDITPULSE_DB: ":memory:",
      PORT: "0",
      CREDITPULSE_SCHEDULER: "0",
      SMTP_URL: inbox.url,
      MAIL_FROM: "Demo Trading <billing@demo.example>",
      PUBLIC_URL: "https://creditpulse.example",
      CREDITPULSE_SECRET: SECRET,
      XERO_CLIENT_ID: CLIENT_ID,
      XERO_CLIENT_SECRET: CLIENT_SECRET,
      LOG_LEVEL: "silent",
    });
    // The demo ledger (seeded by hand: with Xero configured the server does not seed it itself).
    await seedDemo(store, { now: clock.now() });
    server = await startServer(config, { store, log: silentLogger, clock, secret: SECRET });
    const now = clock.now();
    const { user } = await ensureUser(store.db, "owner@example.com", now, {
      passwordHash: await hashPassword("browser test password"),
    });
    const [demo] = await store.db.select().from(organisations).where(eq(organisations.slug, "demo"));
    await grant(store.db, user.id, demo!.id, "owner", now);
    // The demo organisation keeps its ledger but writes holds back to the fake Xero's tenant.
    await store.db.update(organisations).set({ provider: "xero" }).where(eq(organisations.id, demo!.id));
    const tokens = { ...(await fake.grant()), expiresAt: now + 30 * 60_000 };
    await createConnection(
      store.db,
      { orgId: demo!.id, provider: "xero", tenantId: fake.tenants[0]!.id, tenantName: fake.tenants[0]!.name },
      await sealTokens(await sealerFromSecret(SECRET), tokens),
      tokens.expiresAt,
      now,
    );
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    msw.close();
    await inbox?.close();
  });

  it("confirms before sending, holds nothing without approval, and an approved hold is written to Xero", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await signIn(page);

    // 1. Send now: the confirmation comes first.
    await page.getByRole("button", { name: "Send now" }).click();
    await page.waitForURL(/\/reminders\/send-now\??$/);
    const nowItems = await page.getByTestId("confirm-now").locator("li").count();
    expect(nowItems).toBeGreaterThan(0);
    expect(await page.getByRole("heading", { name: /^Credit holds: 0$/ }).count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/safe-1-confirm.png`, fullPage: true });
    await page.getByRole("button", { name: /^Confirm: send \d+ emails? now$/ }).click();
    await page.waitForURL(/\/reminders\?done=/);
    const done1 = await page.getByTestId("done").textContent();
    expect(done1).toMatch(new RegExp(`^Sent ${nowItems} emails?`));
    expect(done1).toContain("holds: 0 proposed for approval, 0 placed");
    await page.screenshot({ path: `${SHOTS}/safe-2-sent.png`, fullPage: true });
    expect(inbox.messages.length).toBeGreaterThanOrEqual(nowItems);
    expect(await store.db.select().from(contacts).where(eq(contacts.holdState, "on_hold"))).toEqual([]);

    // 2. Later, with the final notices older than HOLD_NOTICE_DAYS: Send now proposes holds, places none.
    clock.set(clock.now() + 16 * DAY); // Friday 27 November: the notices sent on day 0 are 16 days old
    await signIn(page); // the session has ended meanwhile
    await page.goto(`${server.url}/orgs/demo/reminders/send-now`);
    const proposals = page.getByTestId("confirm-holds").locator("li", { hasText: "hold proposed" });
    await page.screenshot({ path: `${SHOTS}/safe-3-confirm-holds.png`, fullPage: true });
    const proposedCount = await proposals.count();
    expect(proposedCount).toBeGreaterThan(0);
    await page.getByRole("button", { name: /^Confirm: send/ }).click();
    await page.waitForURL(/\/reminders\?done=/);
    expect(await page.getByTestId("done").textContent()).toContain(
      `holds: ${proposedCount} proposed for approval, 0 placed`,
    );
    expect(await store.db.select().from(contacts).where(eq(contacts.holdState, "on_hold"))).toEqual([]);
    expect(fake.apiCalls().filter((c) => c.method !== "GET")).toEqual([]);
    const open = await store.db.select().from(holdProposals).where(eq(holdProposals.status, "proposed"));
    expect(open).toHaveLength(proposedCount);

    // 3. Approve one from the Credit holds view: written to Xero, shown as active.
    await page.getByRole("link", { name: "Credit holds" }).click();
    await page.waitForURL(/\/orgs\/demo\/holds$/);
    await page.screenshot({ path: `${SHOTS}/safe-4-holds.png`, fullPage: true });
    const row = page.getByTestId("holds-proposed").locator("tbody tr").first();
    const customerId = await row.getAttribute("data-customer");
    await row.getByRole("button", { name: "Approve hold" }).click();
    await page.waitForURL(/\/holds\?done=/);
    expect(await page.locator(".notice").textContent()).toMatch(
      /approved: the account is on hold\. Written to Xero\./,
    );
    const active = page.getByTestId("holds-active").locator(`tr[data-customer="${customerId}"]`);
    expect(await active.textContent()).toContain("written to Xero");
    expect(await page.getByTestId("holds-proposed").locator("tbody tr").count()).toBe(proposedCount - 1);
    await page.screenshot({ path: `${SHOTS}/safe-5-approved.png`, fullPage: true });
    const group = fake.tenants[0] && (await fakeGroup());
    expect(group?.map((c: { ContactID: string }) => c.ContactID)).toEqual([customerId]);
    const held = await store.db.select().from(contacts).where(eq(contacts.holdState, "on_hold"));
    expect(held.map((c) => c.externalId)).toEqual([customerId]);
    await page.close();
  }, 120_000);
});

/** The contacts of the fake Xero's "Credit Hold" group, read through its API as Xero would answer. */
async function fakeGroup() {
  const calls = fake.apiCalls().filter((c) => c.method === "PUT" && c.path.includes("/ContactGroups/"));
  expect(calls.length).toBeGreaterThan(0);
  const res = await fetch("https://api.xero.com/api.xro/2.0/ContactGroups", {
    headers: {
      authorization: `Bearer ${(await fake.grant()).accessToken}`,
      "xero-tenant-id": fake.tenants[0]!.id,
    },
  });
  const body = (await res.json()) as { ContactGroups: { Name: string; Contacts: { ContactID: string }[] }[] };
  return body.ContactGroups.find((g) => g.Name === "Credit Hold")?.Contacts;
}
