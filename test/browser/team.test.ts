/**
 * The team in a real browser (Debian's Chromium via playwright-core, startServer on port 0, a real SMTP inbox),
 * at a laptop's 1366×900 and a phone's 390×844: an owner invites a bookkeeper to one of two organisations, the
 * bookkeeper opens the emailed link, sets a password and sees only that organisation; then a password reset by
 * email. Screenshots go to test-results/.
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
import { ensureOrg } from "../../src/store/orgs";
import { haveChromium, launchChromium } from "../support/browser";
import { testStore } from "../support/db";
import { startInbox, type TestInbox } from "../support/smtp";

const SHOTS = "test-results";

let browser: Browser;
let server: Server;
let store: Store;
let inbox: TestInbox;

const VIEWPORTS = [
  { name: "laptop", width: 1366, height: 900 },
  { name: "phone", width: 390, height: 844 },
];

async function noHorizontalScroll(page: Page) {
  const [scroll, inner] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  expect(scroll, page.url()).toBeLessThanOrEqual(inner);
}

/** The link in the newest message to `to`, waiting for it to arrive. */
async function linkFor(to: string, path: "invite" | "reset"): Promise<string> {
  let link: string | undefined;
  await expect
    .poll(
      () => {
        const m = [...inbox.messages]
          .reverse()
          .find((x) => x.envelope.to.includes(to) && x.raw.includes(`/${path}/`));
        link = m
          ? new RegExp(`http://[^\\s"<]+/${path}/[A-Za-z0-9_-]+`).exec(m.parsed.text ?? "")?.[0]
          : undefined;
        return link;
      },
      { timeout: 10_000 },
    )
    .toBeDefined();
  return link!;
}

describe.skipIf(!haveChromium)("the team in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    inbox = await startInbox();
    store = testStore();
    const clock = fixedClock("2026-11-20T10:00:00Z");
    const now = clock.now();
    for (const [slug, name] of [
      ["acme", "Acme Ltd"],
      ["globex", "Globex Corporation"],
    ] as const)
      await ensureOrg(
        store.db,
        { slug, name, baseCurrency: "GBP", timezone: "Europe/London", provider: "csv" },
        now,
      );
    server = await startServer(
      loadConfig({
        CREDITPULSE_DB: ":memory:",
        PORT: "0",
        CREDITPULSE_SCHEDULER: "0",
        CREDITPULSE_DEMO: "0",
        SMTP_URL: inbox.url,
        MAIL_FROM: "Creditpulse <team@creditpulse.test>",
      }),
      { store, log: silentLogger, clock },
    );
    const { user } = await ensureUser(store.db, "owner@example.com", now, {
      passwordHash: await hashPassword("owner password 123"),
    });
    for (const id of ["acme", "globex"]) {
      const org = await ensureOrg(
        store.db,
        { slug: id, name: "", baseCurrency: "GBP", timezone: "Europe/London", provider: "csv" },
        now,
      );
      await grant(store.db, user.id, org.org.id, "owner", now);
    }
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    await inbox?.close();
  });

  for (const vp of VIEWPORTS) {
    it(`${vp.name} ${vp.width}×${vp.height}: an owner invites a bookkeeper, who accepts by email and sees only that organisation`, async () => {
      const invitee = `books-${vp.name}@example.com`;
      const owner = await browser.newContext({ viewport: { width: vp.width, height: vp.height } });
      const page = await owner.newPage();
      await page.goto(`${server.url}/team`);
      await page.getByLabel("Email").fill("owner@example.com");
      await page.getByLabel("Password").fill("owner password 123");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/team$/);
      await noHorizontalScroll(page);
      await page.screenshot({ path: `${SHOTS}/team-1-page-${vp.name}.png`, fullPage: true });

      // A bad address first: the message beside the field, what was typed kept.
      await page.getByLabel("Their email address").fill("books at example");
      await page.getByLabel("Their email address").evaluate((e) => e.removeAttribute("type"));
      await page.getByRole("button", { name: "Send invitation" }).click();
      await expect
        .poll(() => page.locator("#email-problem").textContent())
        .toContain("is not an email address");
      expect(await page.getByLabel("Their email address").inputValue()).toBe("books at example");
      await page.screenshot({ path: `${SHOTS}/team-2-bad-email-${vp.name}.png`, fullPage: true });

      await page.getByLabel("Their email address").fill(invitee);
      await page.getByLabel("Role", { exact: true }).selectOption("bookkeeper");
      await page.getByLabel("Acme Ltd", { exact: true }).check();
      await page.getByLabel("Globex Corporation", { exact: true }).uncheck();
      await page.getByRole("button", { name: "Send invitation" }).click();
      await expect
        .poll(() => page.getByRole("status").textContent())
        .toContain(`We emailed the invitation to ${invitee}`);
      const shown = await page.locator("#invite-link").inputValue();
      expect(shown.startsWith(`${server.url}/invite/`)).toBe(true);
      await noHorizontalScroll(page);
      await page.screenshot({ path: `${SHOTS}/team-3-invited-${vp.name}.png`, fullPage: true });

      // The bookkeeper, in their own browser, opens the emailed link.
      const link = await linkFor(invitee, "invite");
      expect(link).toBe(shown);
      const books = await browser.newContext({ viewport: { width: vp.width, height: vp.height } });
      const bp = await books.newPage();
      await bp.goto(link);
      expect(await bp.getByRole("heading", { level: 1 }).textContent()).toBe("Join Acme Ltd");
      await bp.getByLabel(/Choose a password/).fill("bookkeeper password 1");
      await bp.screenshot({ path: `${SHOTS}/team-4-accept-${vp.name}.png`, fullPage: true });
      await bp.getByRole("button", { name: "Accept" }).click();
      await bp.waitForURL(/\/orgs\/acme$/);
      await bp.goto(`${server.url}/`);
      const home = (await bp.locator("main").textContent()) ?? "";
      expect(home).toContain("Acme Ltd");
      expect(home).not.toContain("Globex");
      expect((await bp.goto(`${server.url}/orgs/globex`))?.status()).toBe(404);
      await bp.goto(`${server.url}/team`);
      expect(await bp.getByRole("button", { name: "Send invitation" }).count()).toBe(0);
      await noHorizontalScroll(bp);
      await bp.screenshot({ path: `${SHOTS}/team-5-bookkeeper-${vp.name}.png`, fullPage: true });

      // The owner's team page now lists them as a bookkeeper of Acme.
      await page.goto(`${server.url}/team`);
      const acme = page.locator("section", { has: page.locator("#org-acme") });
      expect(await acme.locator("tr", { hasText: invitee }).textContent()).toContain("bookkeeper");
      await owner.close();
      await books.close();
    }, 90_000);
  }

  for (const vp of VIEWPORTS) {
    it(`${vp.name}: a forgotten password is reset through the emailed link`, async () => {
      const who = `reset-${vp.name}@example.com`;
      await ensureUser(store.db, who, Date.parse("2026-11-20T10:00:00Z"), {
        passwordHash: await hashPassword("the old password"),
      });
      const ctx = await browser.newContext({ viewport: { width: vp.width, height: vp.height } });
      const page = await ctx.newPage();
      await page.goto(`${server.url}/login`);
      await page.getByRole("link", { name: "Forgot password?" }).click();
      await page.waitForURL(/\/forgot$/);
      await page.getByLabel("Email").fill(who);
      await page.getByRole("button", { name: "Email me a link" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Check your email");
      await noHorizontalScroll(page);
      await page.screenshot({ path: `${SHOTS}/reset-1-asked-${vp.name}.png`, fullPage: true });

      await page.goto(await linkFor(who, "reset"));
      await page.getByLabel(/New password/).fill("short");
      await page.getByRole("button", { name: "Save password" }).click();
      await expect
        .poll(() => page.locator("#password-problem").textContent())
        .toContain("at least 10 characters");
      await page.getByLabel(/New password/).fill("the new password 42");
      await page.screenshot({ path: `${SHOTS}/reset-2-new-password-${vp.name}.png`, fullPage: true });
      await page.getByRole("button", { name: "Save password" }).click();
      await page.waitForURL(`${server.url}/`);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(/\/login$/);
      await page.getByLabel("Email").fill(who);
      await page.getByLabel("Password").fill("the new password 42");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${server.url}/`);
      await page.screenshot({ path: `${SHOTS}/reset-3-signed-in-${vp.name}.png`, fullPage: true });
      await ctx.close();
    }, 90_000);
  }
});
