/**
 * Issue 17, "reads at a glance": on the demo organisation, in Chromium at a laptop (1366×900) and a phone
 * (390×844). At 1366 px no risk-list row is taller than three lines of text (the row's bounding box against the
 * cell's computed line-height); at 390 px no page of the dashboard, nor the customers' page, nor the reminder
 * email scrolls sideways (document.documentElement.scrollWidth <= clientWidth), and the portfolio, reminders
 * and holds tables (filled first: Send now against a real SMTP test inbox, a proposed hold, holds placed and
 * released by hand) are stacked cards that do not scroll sideways inside their own box either. Each page is
 * kept as a screenshot in test-results/ (layout-<width>-<page>.png).
 */
import { mkdirSync } from "node:fs";
import { and, eq, gt } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/auth/password";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { type Server, startServer } from "../../src/node";
import { issuePageToken } from "../../src/portal/token";
import { ensureUser, grant } from "../../src/store/accounts";
import type { Store } from "../../src/store/db";
import { createProposal } from "../../src/store/holds";
import { listOrgs } from "../../src/store/orgs";
import { contacts, invoices } from "../../src/store/schema";
import { haveChromium, launchChromium } from "../support/browser";
import { testStore } from "../support/db";
import { startInbox, type TestInbox } from "../support/smtp";

const SHOTS = "test-results";
const SECRET = "layout-test-secret-0123456789abcdef0123456789abcdef";
const EMAIL = "owner@example.com";
const PASSWORD = "layout test password";

let browser: Browser;
let server: Server;
let store: Store;
let inbox: TestInbox;
let portalPath = "";
/** Demo customers (external ids) with open invoices: [0] gets a proposed hold, [1] and [2] are held by hand. */
let holdIds: string[] = [];
let propose: () => Promise<unknown>;

async function signIn(page: Page) {
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

/**
 * Horizontal overflow of the page as loaded: the document's scroll width against the viewport, and the first
 * elements that stick out past the right edge (outside a box that scrolls them itself, like a wide table's).
 */
const overflowOf = (page: Page) =>
  page.evaluate(() => {
    const d = document.documentElement;
    const scrolledInside = (e: Element) => {
      for (let p = e.parentElement; p && p !== document.body; p = p.parentElement)
        if (/(auto|scroll|hidden)/.test(getComputedStyle(p).overflowX)) return true;
      return false;
    };
    const wide = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > d.clientWidth + 1 && !scrolledInside(e))
      .slice(0, 5)
      .map(
        (e) =>
          `${e.tagName.toLowerCase()}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`,
      );
    return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, wide };
  });

describe.skipIf(!haveChromium)("the dashboard reads at a glance (Chromium, 1366×900 and 390×844)", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    store = testStore();
    const clock = fixedClock("2026-11-20T10:00:00Z");
    inbox = await startInbox();
    server = await startServer(
      loadConfig({
        CREDITPULSE_DB: ":memory:",
        PORT: "0",
        CREDITPULSE_SCHEDULER: "0",
        SMTP_URL: inbox.url,
        MAIL_FROM: "Oakridge accounts <billing@oakridge.example>",
      }),
      { store, log: silentLogger, clock, secret: SECRET },
    );
    const now = clock.now();
    const { user } = await ensureUser(store.db, EMAIL, now, { passwordHash: await hashPassword(PASSWORD) });
    const demo = (await listOrgs(store.db)).find((o) => o.slug === "demo")!;
    await grant(store.db, user.id, demo.id, "owner", now);
    // The customers' page of a demo customer with open invoices (the link a reminder carries).
    const [open] = await store.db
      .select({ contactId: invoices.contactId })
      .from(invoices)
      .where(and(eq(invoices.orgId, demo.id), gt(invoices.amountDueMinor, 0)))
      .limit(1);
    const token = await issuePageToken(
      store.db,
      SECRET,
      { orgId: demo.id, contactId: open!.contactId },
      now,
      30,
    );
    portalPath = `/c/${token}`;
    const owing = await store.db
      .selectDistinct({ id: contacts.id, externalId: contacts.externalId })
      .from(contacts)
      .innerJoin(invoices, eq(invoices.contactId, contacts.id))
      .where(and(eq(contacts.orgId, demo.id), gt(invoices.amountDueMinor, 0)))
      .limit(3);
    expect(owing).toHaveLength(3);
    holdIds = owing.map((c) => c.externalId);
    propose = () =>
      createProposal(
        store,
        {
          orgId: demo.id,
          contactId: owing[0]!.id,
          reason: "final notice sent 7 days ago and still 90 days overdue",
          notice: false,
        },
        now,
      );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    await inbox?.close();
  });

  it("at 1366×900 every risk-list row is at most three lines of text tall", async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await signIn(page);
    for (const [name, path] of [
      ["organisation", "/orgs/demo"],
      ["organisation-aging", "/orgs/demo?aging=1"],
    ] as const) {
      await page.goto(`${server.url}${path}`);
      const rows = await page.evaluate(() =>
        [...document.querySelectorAll("tr[data-customer]")].map((tr) => {
          const cell = tr.querySelector("td")!;
          const lh = Number.parseFloat(getComputedStyle(cell).lineHeight);
          const pad =
            Number.parseFloat(getComputedStyle(cell).paddingTop) +
            Number.parseFloat(getComputedStyle(cell).paddingBottom);
          return { id: tr.getAttribute("data-customer"), height: tr.getBoundingClientRect().height, lh, pad };
        }),
      );
      await page.screenshot({ path: `${SHOTS}/layout-1366-${name}.png`, fullPage: true });
      expect(rows.length).toBeGreaterThan(20);
      // A real line height (the page is in standards mode; "normal" would make this check vacuous).
      expect(rows.every((r) => Number.isFinite(r.lh) && r.lh > 10)).toBe(true);
      const tall = rows.filter((r) => r.height > 3 * r.lh + r.pad + 2);
      const lines = rows.map((r) => (r.height - r.pad) / r.lh);
      console.log(
        `${name}: ${rows.length} rows, line-height ${rows[0]!.lh}px, tallest ${Math.max(...lines).toFixed(2)} lines`,
      );
      expect(tall, `${name}: rows taller than 3 lines`).toEqual([]);
      // Without the aging buckets every row is at most two lines (the issue's "reads at a glance").
      if (name === "organisation")
        expect(rows.filter((r) => r.height > 2 * r.lh + r.pad + 3).map((r) => r.id)).toEqual([]);
      expect(await overflowOf(page), name).toMatchObject({ wide: [] });
      // The whole row is in view: the list does not scroll sideways inside its own box either.
      const box = await page.evaluate(() => {
        const w = document.querySelector("table.risk")!.parentElement!;
        return { scroll: w.scrollWidth, client: w.clientWidth };
      });
      expect(box.scroll, `${name}: the risk list scrolls sideways`).toBeLessThanOrEqual(box.client);
    }
    // All reasons open in place.
    const first = page.locator("tr[data-customer] details").first();
    await first.locator("summary").click();
    expect(await first.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    await page.screenshot({ path: `${SHOTS}/layout-1366-organisation-reasons.png` });
    await page.close();
  }, 60_000);

  it("at 390×844 no page of the dashboard, the customers' page or the reminder email scrolls sideways", async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await ctx.newPage();
    const pages: [string, string][] = [
      ["login", "/login"],
      ["customers-page", portalPath],
    ];
    const before: string[] = [];
    for (const [name, path] of pages) {
      await page.goto(`${server.url}${path}`);
      await page.screenshot({ path: `${SHOTS}/layout-390-${name}.png`, fullPage: true });
      const o = await overflowOf(page);
      if (o.scrollWidth > o.clientWidth || o.wide.length > 0) before.push(`${name}: ${JSON.stringify(o)}`);
    }
    await signIn(page);
    await page.goto(`${server.url}/orgs/demo`);
    const customerPath = (await page.locator("tr[data-customer] a").first().getAttribute("href")) ?? "";
    expect(customerPath).toMatch(/^\/orgs\/demo\/customers\//);
    const failures: string[] = [...before];
    // Rows in the reminders and holds tables: Send now (real SMTP), two holds placed by hand, one released.
    await page.goto(`${server.url}/orgs/demo/reminders`);
    await page.getByRole("button", { name: "Send now" }).click();
    await page.getByRole("button", { name: /^Confirm: send \d+ emails? now$/ }).click();
    await page.waitForURL(/\/reminders\?done=/);
    expect(inbox.messages.length).toBeGreaterThan(0);
    expect(await propose()).toBeTruthy();
    for (const id of holdIds.slice(1)) {
      await page.goto(`${server.url}/orgs/demo/holds`);
      await page.getByLabel("Customer id").fill(id);
      await page
        .getByLabel("Reason")
        .fill("placed by hand: waiting for the director to call back about the account");
      await page.getByRole("button", { name: "Place hold", exact: true }).click();
      await page.waitForURL(/\/holds\?done=/);
    }
    await page
      .getByTestId("holds-active")
      .locator("tr")
      .filter({ has: page.getByRole("button", { name: "Release" }) })
      .first()
      .getByRole("button", { name: "Release" })
      .click();
    await page.waitForURL(/\/holds\?done=/);
    for (const kind of ["proposed", "active", "released"])
      expect(await page.getByTestId(`holds-${kind}`).locator("tbody tr").count(), kind).toBeGreaterThan(0);
    for (const [name, path] of [
      ["portfolio", "/"],
      ["organisation", "/orgs/demo"],
      ["organisation-aging", "/orgs/demo?aging=1"],
      ["customer", customerPath],
      ["reminders", "/orgs/demo/reminders"],
      ["holds", "/orgs/demo/holds"],
      ["settings", "/orgs/demo/settings"],
      ["account", "/account"],
      ["email", "/orgs/demo/settings/templates/preview?name=overdue&part=html"],
    ] as const) {
      const res = await page.goto(`${server.url}${path}`);
      expect(res?.status(), name).toBe(200);
      await page.screenshot({ path: `${SHOTS}/layout-390-${name}.png`, fullPage: true });
      await page.screenshot({ path: `${SHOTS}/layout-390-${name}-top.png` });
      const o = await overflowOf(page);
      if (o.scrollWidth > o.clientWidth || o.wide.length > 0) failures.push(`${name}: ${JSON.stringify(o)}`);
      // Tables shown as stacked cards (the risk list, a customer's invoices) fit without scrolling in their box.
      const stacked = await page.evaluate(() =>
        [...document.querySelectorAll("table.stack")].map((t) => ({
          scroll: t.parentElement!.scrollWidth,
          client: t.parentElement!.clientWidth,
        })),
      );
      if (stacked.some((b) => b.scroll > b.client))
        failures.push(`${name}: cards ${JSON.stringify(stacked)}`);
      if (name.startsWith("organisation") && stacked.length !== 1)
        failures.push(`${name}: no stacked risk list`);
      // The portfolio, sent emails and holds tables: every one is stacked cards, and its wrapping box does
      // not scroll sideways (the table is not cut at the box's edge, nor its caption).
      if (name === "portfolio" || name === "reminders" || name === "holds") {
        const tables = await page.evaluate(() =>
          [...document.querySelectorAll<HTMLTableElement>("main table")].map((t) => ({
            id: t.getAttribute("data-testid") ?? t.className,
            stack: t.classList.contains("stack"),
            rows: t.querySelectorAll("tbody tr").length,
            scroll: t.parentElement!.scrollWidth,
            client: t.parentElement!.clientWidth,
            caption: t.caption
              ? t.caption.scrollWidth <= t.caption.clientWidth &&
                t.caption.getBoundingClientRect().right <= t.parentElement!.getBoundingClientRect().right + 1
              : true,
          })),
        );
        console.log(`${name} at 390: ${JSON.stringify(tables)}`);
        await page
          .locator("main table")
          .first()
          .evaluate((t) => t.scrollIntoView());
        await page.screenshot({ path: `${SHOTS}/layout-390-${name}-table.png` });
        const expected = { portfolio: 1, reminders: 1, holds: 3 }[name];
        if (tables.filter((t) => t.rows > 0).length < expected)
          failures.push(`${name}: expected ${expected} table(s) with rows, got ${JSON.stringify(tables)}`);
        for (const t of tables)
          if (!t.stack || t.scroll > t.client || !t.caption)
            failures.push(`${name}: table ${t.id} scrolls in its box or is not cards ${JSON.stringify(t)}`);
      }
    }
    // A closer look at the risk list as cards.
    await page.goto(`${server.url}/orgs/demo`);
    await page.locator("#risk-h").scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById("risk-h")!.scrollIntoView());
    await page.screenshot({ path: `${SHOTS}/layout-390-organisation-risk-list.png` });
    await ctx.close();
    expect(failures).toEqual([]);
  }, 90_000);
});
