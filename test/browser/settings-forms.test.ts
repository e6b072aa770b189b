/**
 * The settings forms in a real browser (Debian's Chromium, playwright-core) at a laptop's 1366×900 and a phone's
 * 390×844: a bad value in each settings form comes back with its message beside the field and the input kept;
 * the policy table's add, move and remove buttons work (no JavaScript involved: they post the form); the page
 * never scrolls sideways on the phone. Screenshots go to test-results/.
 */
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/auth/password";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { type Server, startServer } from "../../src/node";
import { ensureUser, grant } from "../../src/store/accounts";
import type { Store } from "../../src/store/db";
import { listOrgs } from "../../src/store/orgs";
import { haveChromium, launchChromium } from "../support/browser";
import { testStore } from "../support/db";

const SHOTS = "test-results";

let browser: Browser;
let server: Server;
let store: Store;

const VIEWPORTS = [
  { name: "laptop", width: 1366, height: 900 },
  { name: "phone", width: 390, height: 844 },
];

async function signedInPage(viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill("owner@example.com");
  await page.getByLabel("Password").fill("browser test password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
  return page;
}

/** The text of the message the field points at with aria-describedby. */
async function messageOf(page: Page, selector: string): Promise<string> {
  const id = await page.locator(selector).getAttribute("aria-describedby");
  if (!id) return "";
  return (await page.locator(`#${id}`).textContent()) ?? "";
}

const noSidewaysScroll = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe.skipIf(!haveChromium)("settings forms in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    store = testStore();
    const clock = fixedClock("2026-11-20T10:00:00Z");
    server = await startServer(
      loadConfig({ CREDITPULSE_DB: ":memory:", PORT: "0", CREDITPULSE_SCHEDULER: "0" }),
      {
        store,
        log: silentLogger,
        clock,
      },
    );
    const now = clock.now();
    const { user } = await ensureUser(store.db, "owner@example.com", now, {
      passwordHash: await hashPassword("browser test password"),
    });
    for (const org of await listOrgs(store.db)) await grant(store.db, user.id, org.id, "owner", now);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  for (const vp of VIEWPORTS) {
    it(`${vp.name} ${vp.width}×${vp.height}: each settings form keeps a bad value and says what is wrong beside it`, async () => {
      const page = await signedInPage(vp);
      const settings = `${server.url}/orgs/demo/settings`;
      await page.goto(settings);
      expect(await noSidewaysScroll(page)).toBe(true);
      await page.screenshot({ path: `${SHOTS}/forms-${vp.name}-0-settings.png`, fullPage: true });

      // Sending window: an unknown timezone.
      await page.locator("#timezone").fill("Mars/Olympus");
      await page.locator("#window button[type=submit]").click();
      await page.waitForLoadState();
      expect(await page.locator("#timezone").inputValue()).toBe("Mars/Olympus");
      expect(await messageOf(page, "#timezone")).toContain("“Mars/Olympus” is not a timezone");
      await page.locator("#window").screenshot({ path: `${SHOTS}/forms-${vp.name}-1-window-error.png` });

      // Policy: an offset that is not a number.
      await page.goto(settings);
      await page.locator("#policy-0-offset-2").fill("a week");
      await page.locator("#policy-0").getByRole("button", { name: "Save policy" }).click();
      await page.waitForLoadState();
      expect(await page.locator("#policy-0-offset-2").inputValue()).toBe("a week");
      expect(await messageOf(page, "#policy-0-offset-2")).toContain("Enter whole days from the due date");
      await page.locator("#policy-0").screenshot({ path: `${SHOTS}/forms-${vp.name}-2-policy-error.png` });

      // Mail settings: a bad address and a nonsense minimum amount.
      await page.goto(`${settings}#mail`);
      await page.getByLabel("Sender address").fill("billing(at)acme");
      await page.getByLabel(/Minimum amount worth chasing/).fill("ten");
      await page.getByRole("button", { name: "Save mail settings" }).click();
      await page.waitForLoadState();
      expect(await page.locator("#mail-sender_email").inputValue()).toBe("billing(at)acme");
      expect(await page.locator("#mail-min_amount").inputValue()).toBe("ten");
      expect(await messageOf(page, "#mail-min_amount")).toContain("“ten” is not an amount");
      expect(await messageOf(page, "#mail-sender_email")).toContain("is not an email address");
      await page.locator("#mail").screenshot({ path: `${SHOTS}/forms-${vp.name}-3-mail-error.png` });
      // Corrected, it saves.
      await page.getByLabel("Sender address").fill("billing@demo.example");
      await page.getByLabel(/Minimum amount worth chasing/).fill("10,000");
      await page.getByRole("button", { name: "Save mail settings" }).click();
      await page.waitForURL(/done=mail_saved/);
      expect(await page.locator("#mail-min_amount").inputValue()).toMatch(/^10000(\.00)?$/);

      // Template editor: Liquid that does not render.
      await page.goto(`${settings}?template=overdue&part=subject`);
      await page.locator("#body").fill("Hello {{ customer.name");
      await page.getByRole("button", { name: "Save template" }).click();
      await page.waitForLoadState();
      expect(await page.locator("#body").inputValue()).toBe("Hello {{ customer.name");
      expect(await messageOf(page, "#body")).toContain("does not render");
      expect(await noSidewaysScroll(page)).toBe(true);
      await page.locator("#templates").screenshot({ path: `${SHOTS}/forms-${vp.name}-4-template-error.png` });

      // A customer's credit limit typed as words.
      await page.goto(`${server.url}/orgs/demo`);
      await page.locator("tr[data-customer] a").first().click();
      await page.waitForURL(/\/customers\//);
      await page.locator("#limit").fill("ten");
      await page.getByRole("button", { name: "Save limit" }).click();
      await page.waitForLoadState();
      expect(await page.locator("#limit").inputValue()).toBe("ten");
      expect(await messageOf(page, "#limit")).toContain("“ten” is not an amount");
      await page.screenshot({ path: `${SHOTS}/forms-${vp.name}-5-credit-limit-error.png`, fullPage: true });
      await page.close();
    }, 90_000);
  }

  it("the policy table adds, moves and removes levels, then saves (1366×900 and 390×844)", async () => {
    for (const vp of VIEWPORTS) {
      const page = await signedInPage(vp);
      await page.goto(`${server.url}/orgs/demo/settings#policies`);
      const form = page.locator("#policy-1"); // "firm"
      const offsets = () =>
        form
          .locator('input[name="offset"]')
          .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
      const start = await offsets();
      await form.getByRole("button", { name: "Add level" }).click();
      await page.waitForLoadState();
      expect(await offsets()).toEqual([...start, String(Number(start.at(-1)) + 7)]);
      await expect.poll(() => page.locator("#policy-1 .notice").textContent()).toContain("not saved yet");
      await page.locator("#policy-1").getByRole("button", { name: "Move level 2 down" }).click();
      await page.waitForLoadState();
      const moved = await offsets();
      expect(moved.slice(0, 3)).toEqual([start[0], start[2], start[1]]);
      await page.locator("#policy-1").getByRole("button", { name: "Remove level 1" }).click();
      await page.waitForLoadState();
      expect(await offsets()).toEqual(moved.slice(1));
      await page.locator("#policy-1").screenshot({ path: `${SHOTS}/forms-${vp.name}-6-policy-edited.png` });
      // Out of order now (level 2 moved down): Save refuses it beside the cell; move it back and save.
      await page.locator("#policy-1").getByRole("button", { name: "Save policy" }).click();
      await page.waitForLoadState();
      expect(await messageOf(page, "#policy-1-offset-1")).toContain("Must be later than level 1");
      await page.locator("#policy-1").getByRole("button", { name: "Move level 1 down" }).click();
      await page.waitForLoadState();
      await page.locator("#policy-1").getByRole("button", { name: "Remove level 1" }).click();
      await page.waitForLoadState();
      const final = await offsets();
      await page.locator("#policy-1").getByRole("button", { name: "Save policy" }).click();
      await page.waitForURL(/done=policy_saved/);
      expect(await offsets()).toEqual(final);
      expect(await noSidewaysScroll(page)).toBe(true);
      await page.locator("#policy-1").screenshot({ path: `${SHOTS}/forms-${vp.name}-7-policy-saved.png` });
      await page.close();
    }
  }, 120_000);
});
