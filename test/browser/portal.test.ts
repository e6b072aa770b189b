/**
 * The customers' page in a real browser (playwright-core driving Debian's Chromium): reminders go through a
 * real SMTP server, each customer opens the link in the message it received, takes one action, and the next
 * reminder run honours it. Screenshots land in test-results/.
 */
import { existsSync, mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { silentLogger } from "../../src/log";
import { createSmtpMailer } from "../../src/mail/smtp-mailer";
import { runReminders } from "../../src/reminders/dispatch";
import { CUSTOMER_ACTIONS } from "../../src/store/audit";
import { brokenPromises } from "../../src/store/pauses";
import { auditLog } from "../../src/store/schema";
import { makeCustomer, makeInvoice, makeOrg, testConfig } from "../reminders/factories";
import { CHROMIUM, launchChromium } from "../support/browser";
import { testStore } from "../support/db";
import { testDeps } from "../support/deps";
import { startInbox, type TestInbox } from "../support/smtp";

const OWNER = "owner@acme.example";
const SHOTS = "test-results";

describe.skipIf(!existsSync(CHROMIUM))(
  "customers' page in Chromium (skipped: /usr/bin/chromium absent)",
  () => {
    let inbox: TestInbox;
    let browser: Browser;
    let server: ReturnType<typeof serve>;
    let base = "";
    const store = testStore();
    const clock = fixedClock("2026-03-10T10:00:00Z");
    let deps: Deps;

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      inbox = await startInbox();
      let handler: (req: Request, env: unknown) => Response | Promise<Response> = () =>
        new Response("starting", { status: 503 });
      server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch: (req, env) => handler(req, env), port: 0, hostname: "127.0.0.1" }, () =>
          resolve(s),
        );
      });
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      deps = await testDeps({
        store,
        clock,
        config: testConfig(inbox, { PUBLIC_URL: base, OWNER_EMAIL: OWNER }),
      });
      const app = createApp(deps);
      handler = (req, env) => app.fetch(req, env);
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      await inbox?.close();
      await store.close();
    });

    async function remind(org: Awaited<ReturnType<typeof makeOrg>>) {
      const mailer = createSmtpMailer({ url: inbox.url, timeoutMs: 5_000 });
      try {
        return await runReminders(
          { store, config: deps.config, log: silentLogger, secret: deps.secret, mailer },
          { org, at: { kind: "instant", at: clock.now() }, now: clock.now() },
        );
      } finally {
        await mailer.close();
      }
    }

    function linkFor(address: string): string {
      const msg = inbox.messages.find((m) => m.envelope.to.includes(address));
      if (!msg) throw new Error(`no reminder reached ${address}`);
      const html = String(msg.parsed.html);
      const m = /<a href="([^"]+)">View your account online<\/a>/.exec(html);
      if (!m) throw new Error("no customers' page link in the reminder");
      return m[1]!.replaceAll("&amp;", "&");
    }

    it("opens each reminder's link, takes each action, and the next reminder run honours it", async () => {
      const org = await makeOrg(store);
      const names = ["paid", "promise", "dispute", "address", "stop"] as const;
      const who: Record<string, { id: string; externalId: string; email: string; number: string }> = {};
      for (const n of names) {
        const email = `ap@${n}.example`;
        const c = await makeCustomer(store, org, {
          name: `${n[0]!.toUpperCase()}${n.slice(1)} Trading Ltd`,
          emails: [email],
        });
        const number = `INV-${n.toUpperCase()}`;
        await makeInvoice(store, org, c.externalId, {
          number,
          issueDate: "2026-02-05",
          dueDate: "2026-03-05",
          totalMinor: 250_00,
          payUrl: "https://pay.example/x",
        });
        who[n] = { ...c, email, number };
      }

      const first = await remind(org);
      expect(first.emails.filter((e) => e.status === "sent")).toHaveLength(5);

      const page = await browser.newPage();
      try {
        // I've already paid.
        await page.goto(linkFor(who.paid!.email));
        await expect(page.locator("h1").first().textContent()).resolves.toBe("Acme Supplies Ltd");
        await expect(page.content()).resolves.toContain("£250.00");
        await page.screenshot({ path: `${SHOTS}/portal-page.png`, fullPage: true });
        const [pdf] = await Promise.all([
          page.waitForEvent("download"),
          page.click("text=Download a statement (PDF)"),
        ]);
        expect(pdf.suggestedFilename()).toBe("statement-2026-03-10.pdf");
        await page.click(`summary:has-text("I've already paid ${who.paid!.number}")`);
        const paidForm = page.locator('form[data-action="paid"]');
        await paidForm.locator('input[name="paid_on"]').fill("2026-03-09");
        await paidForm.locator('input[name="reference"]').fill("BACS 1234");
        await paidForm.locator("button").click();
        await page.waitForSelector('[role="status"]');
        await expect(page.locator('[role="status"]').textContent()).resolves.toContain(
          "paused while the payment reaches",
        );
        await page.screenshot({ path: `${SHOTS}/portal-paid.png`, fullPage: true });

        // I'll pay by.
        await page.goto(linkFor(who.promise!.email));
        await page.click(`summary:has-text("I'll pay ${who.promise!.number} by a date")`);
        await page.locator('form[data-action="promise"] input[name="pay_by"]').fill("2026-03-20");
        await page.locator('form[data-action="promise"] button').click();
        await page.waitForSelector('[role="status"]');
        await expect(page.content()).resolves.toContain("You will pay by 20 Mar 2026");
        await page.screenshot({ path: `${SHOTS}/portal-promise.png`, fullPage: true });

        // I dispute this invoice.
        await page.goto(linkFor(who.dispute!.email));
        await page.click(`summary:has-text("I dispute ${who.dispute!.number}")`);
        await page.locator('form[data-action="dispute"] select[name="reason"]').selectOption("not_received");
        await page
          .locator('form[data-action="dispute"] textarea[name="comment"]')
          .fill("Never delivered <b>at all</b>");
        await page.locator('form[data-action="dispute"] button').click();
        await page.waitForSelector('[role="status"]');
        await expect(page.content()).resolves.toContain("Under dispute");
        await page.screenshot({ path: `${SHOTS}/portal-dispute.png`, fullPage: true });

        // Send reminders to someone else.
        await page.goto(linkFor(who.address!.email));
        await page.click('summary:has-text("Send reminders to someone else")');
        await page
          .locator('form[data-action="address"] input[name="email"]')
          .fill("payables@address.example");
        await page.locator('form[data-action="address"] button').click();
        await page.waitForSelector('[role="status"]');
        await expect(page.content()).resolves.toContain("Reminders currently go to payables@address.example");
        await page.screenshot({ path: `${SHOTS}/portal-address.png`, fullPage: true });

        // Stop emailing me.
        await page.goto(linkFor(who.stop!.email));
        await page.click('button:has-text("Stop emailing me")');
        await page.waitForSelector('[role="status"]');
        await expect(page.content()).resolves.toContain("You have asked us not to email reminders.");
        await page.screenshot({ path: `${SHOTS}/portal-stop.png`, fullPage: true });

        // A tampered link shows the generic page.
        const tampered = `${linkFor(who.paid!.email).slice(0, -3)}AAA`;
        const res = await page.goto(tampered);
        expect(res?.status()).toBe(404);
        await expect(page.content()).resolves.not.toContain("Acme");
        await page.screenshot({ path: `${SHOTS}/portal-invalid-link.png` });
      } finally {
        await page.close();
      }

      // Every action is on the timeline (actor "customer") and the owner was told of each.
      const entries = await store.db.select().from(auditLog);
      const customer = entries.filter((e) => e.actor === "customer").map((e) => e.action);
      for (const a of [
        CUSTOMER_ACTIONS.paid,
        CUSTOMER_ACTIONS.promised,
        CUSTOMER_ACTIONS.disputed,
        CUSTOMER_ACTIONS.addressChanged,
        CUSTOMER_ACTIONS.optedOut,
      ])
        expect(customer).toContain(a);
      expect(inbox.messages.filter((m) => m.envelope.to.includes(OWNER))).toHaveLength(5);

      // Thursday: the "firm" level is due for everyone; only the customer who changed address hears, there.
      inbox.clear();
      clock.set("2026-03-12T10:00:00Z");
      const next = await remind(org);
      const sent = next.emails.filter((e) => e.status === "sent");
      expect(sent.map((e) => [e.customer_id, e.to])).toEqual([
        [who.address!.externalId, "payables@address.example"],
      ]);
      expect(next.emails.find((e) => e.customer_id === who.stop!.externalId)?.reason).toBe(
        "customer opted out of reminders",
      );
      expect(inbox.messages.map((m) => m.envelope.to)).toEqual([["payables@address.example"]]);

      // Monday 23rd: the paid-pause has run out and the promise is broken (flagged once); the dispute still holds.
      clock.set("2026-03-23T10:00:00Z");
      const later = await remind(org);
      const laterSent = later.emails
        .filter((e) => e.status === "sent")
        .map((e) => e.customer_id)
        .sort();
      expect(laterSent).toEqual(
        [who.paid!.externalId, who.promise!.externalId, who.address!.externalId].sort(),
      );
      expect(await brokenPromises(store.db, org.id)).toHaveLength(1);
    });
  },
);
