import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Mailer } from "../../src/mail/mailer";
import { createSmtpMailer } from "../../src/mail/smtp-mailer";
import { claimReminders, remindersFor } from "../../src/store/claims";
import type { Store } from "../../src/store/db";
import { setTemplateOverride } from "../../src/store/reminder-settings";
import { auditLog, invoices } from "../../src/store/schema";
import { testStore } from "../support/db";
import { startInbox, type TestInbox } from "../support/smtp";
import {
  disputeInvoice,
  type Harness,
  harness,
  makeCustomer,
  makeInvoice,
  makeOrg,
  payInvoice,
  setContact,
  testConfig,
} from "./factories";

// Tuesday 10 March 2026, 10:00 in London (GMT).
const TUESDAY_10AM = "2026-03-10T10:00:00Z";
const HOUR = 3_600_000;

let inbox: TestInbox;
let store: Store;
let h: Harness;

beforeAll(async () => {
  inbox = await startInbox();
});
afterAll(async () => {
  await inbox.close();
});
beforeEach(() => {
  inbox.clear();
  inbox.failWith(null);
  store = testStore();
  h = harness(store, inbox, TUESDAY_10AM);
});
afterEach(async () => {
  await h.close();
  await store.close();
});

describe("happy path", () => {
  it("sends one email listing all of a customer's chaseable invoices, with both parts, merge fields and headers", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org, {
      name: "<script>alert('x')</script> & Sons",
      emails: ["ap@sons.example", "boss@sons.example"],
    });
    const older = await makeInvoice(store, org, c.externalId, {
      number: "INV-1001",
      issueDate: "2026-01-20",
      dueDate: "2026-02-20",
      totalMinor: 1234_56,
      amountDueMinor: 1000_00,
      payUrl: "https://pay.example/inv-1001",
    });
    const newer = await makeInvoice(store, org, c.externalId, {
      number: "INV-1002",
      issueDate: "2026-02-09",
      dueDate: "2026-03-09",
      totalMinor: 250_00,
      payUrl: "javascript:alert(1)",
    });

    const report = await h.run(org);

    expect(report.emails).toEqual([
      {
        customer_id: c.externalId,
        to: "ap@sons.example, boss@sons.example",
        invoice_numbers: ["INV-1001", "INV-1002"],
        level: 4,
        status: "sent",
        reason: null,
      },
    ]);
    expect(inbox.messages).toHaveLength(1);
    const m = inbox.messages[0]!;
    expect(m.envelope.to).toEqual(["ap@sons.example", "boss@sons.example"]);
    expect(m.envelope.from).toBe("billing@acme.example");
    expect(m.parsed.subject).toBe("Payment required: £1,250.00 overdue to Acme Supplies Ltd");
    expect(m.parsed.replyTo?.text).toBe("accounts@acme.example");

    // Headers: Message-ID recorded against the claims, List-Unsubscribe with a one-click URL and a mailto.
    const rows = await remindersFor(store.db, org.id);
    expect(rows.map((r) => [r.status, r.level])).toEqual([
      ["sent", 4],
      ["sent", 2],
    ]);
    expect(m.parsed.messageId).toBe(rows[0]!.messageId);
    expect(m.parsed.messageId).toMatch(/^<rem_[0-9a-z]+@acme\.example>$/);
    const listUnsubscribe = /^List-Unsubscribe:((?:.*)(?:\r\n[ \t].*)*)/im
      .exec(m.raw)?.[1]
      ?.replace(/\r\n[ \t]+/g, " ")
      .trim();
    expect(listUnsubscribe).toMatch(
      /^<https:\/\/creditpulse\.example\/c\/[\w-]+\.[0-9a-z]+\.[\w-]+\/unsubscribe>, <mailto:accounts@acme\.example\?subject=unsubscribe>$/,
    );
    expect(m.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);

    // HTML part: the hostile name is escaped, never markup; amounts, dates and the safe pay link are there.
    const html = String(m.parsed.html);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Sons");
    expect(html).toContain("£1,234.56");
    expect(html).toContain("£1,000.00");
    expect(html).toContain("20 Feb 2026");
    expect(html).toContain('INV-1001<br><a href="https://pay.example/inv-1001">Pay now</a>');
    expect(html).not.toContain("javascript:");
    expect(html).toMatch(/<td[^>]*>18<\/td>/);
    expect(html).toContain("Stop these reminders");

    // Text part: plain words, the same facts.
    const text = m.parsed.text ?? "";
    expect(text).toContain("Dear <script>alert('x')</script> & Sons,");
    expect(text).toContain(
      "Invoice INV-1001, issued 20 Jan 2026, due 20 Feb 2026: £1,000.00 due of £1,234.56 (18 days overdue)",
    );
    expect(text).toContain("Pay online: https://pay.example/inv-1001");
    expect(text).toContain(
      "Invoice INV-1002, issued 9 Feb 2026, due 9 Mar 2026: £250.00 due of £250.00 (1 day overdue)",
    );
    expect(text).toContain("Total due: £1,250.00");
    expect(text).toMatch(/Stop these reminders: https:\/\/creditpulse\.example\/c\/[\w.-]+\/unsubscribe/);

    const entries = await store.db.select().from(auditLog).where(eq(auditLog.action, "reminder.sent"));
    expect(entries.map((e) => e.invoiceId).sort()).toEqual(rows.map((r) => r.invoiceId).sort());
    void older;
    void newer;
  });

  it("formats amounts for the invoice currency in the organisation's locale", async () => {
    const org = await makeOrg(store, { locale: "de-DE" });
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, {
      dueDate: "2026-03-09",
      currency: "EUR",
      totalMinor: 1234_50,
    });
    await h.run(org);
    expect(inbox.messages[0]?.parsed.text).toMatch(/Total due: 1\.234,50\s€/u);
  });

  it("uses an organisation's stored template override", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org, { name: "Bob & Co" });
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    await setTemplateOverride(
      store.db,
      org.id,
      "overdue",
      "subject",
      "Hi {{ customer.name }}: {{ total_due }}",
      0,
    );
    await setTemplateOverride(store.db, org.id, "overdue", "html", "<p>Custom {{ customer.name }}</p>", 0);
    await h.run(org);
    expect(inbox.messages[0]?.parsed.subject).toBe("Hi Bob & Co: £120.00");
    expect(String(inbox.messages[0]?.parsed.html)).toContain("<p>Custom Bob &amp; Co</p>");
  });

  it("fails loudly, sends nothing and keeps nothing claimed when a template names an unknown field", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    await setTemplateOverride(store.db, org.id, "overdue", "subject", "{{ customer.nickname }}", 0);
    const report = await h.run(org);
    expect(report.emails[0]).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/template error/),
    });
    expect(inbox.messages).toHaveLength(0);
    expect(await remindersFor(store.db, org.id)).toEqual([]);
  });
});

describe("what never gets a reminder", () => {
  it("sends nothing for paid, void, credited, disputed, below-minimum, paused or opted-out", async () => {
    const org = await makeOrg(store);
    const cases = {
      paid: await makeCustomer(store, org),
      void: await makeCustomer(store, org),
      credited: await makeCustomer(store, org),
      disputed: await makeCustomer(store, org),
      small: await makeCustomer(store, org),
      paused: await makeCustomer(store, org),
      optedOut: await makeCustomer(store, org),
      excluded: await makeCustomer(store, org),
      badEmail: await makeCustomer(store, org, { emails: ["nobody"] }),
      control: await makeCustomer(store, org),
    };
    const paidInv = await makeInvoice(store, org, cases.paid.externalId, { dueDate: "2026-03-01" });
    await payInvoice(store, org, paidInv, "2026-03-08");
    await makeInvoice(store, org, cases.void.externalId, { dueDate: "2026-03-01", status: "void" });
    await makeInvoice(store, org, cases.credited.externalId, {
      dueDate: "2026-03-01",
      amountCreditedMinor: 120_00,
    });
    const disputed = await makeInvoice(store, org, cases.disputed.externalId, { dueDate: "2026-03-01" });
    await disputeInvoice(store, org, disputed.externalId, 1);
    await makeInvoice(store, org, cases.small.externalId, { dueDate: "2026-03-01", amountDueMinor: 50 });
    for (const k of ["paused", "optedOut", "excluded", "badEmail", "control"] as const)
      await makeInvoice(store, org, cases[k].externalId, { dueDate: "2026-03-01" });
    await setContact(store, cases.paused.id, { chasingPausedUntil: "2026-03-12" });
    await setContact(store, cases.optedOut.id, { optedOut: true });
    await setContact(store, cases.excluded.id, { excluded: true });

    const report = await h.run(org);

    expect(inbox.messages.map((m) => m.envelope.to)).toEqual([
      [`${cases.control.externalId.toLowerCase()}@customer.example`],
    ]);
    const byCustomer = Object.fromEntries(report.emails.map((e) => [e.customer_id, [e.status, e.reason]]));
    expect(byCustomer).toEqual({
      [cases.control.externalId]: ["sent", null],
      [cases.paused.externalId]: ["skipped", "chasing is paused until 2026-03-12"],
      [cases.optedOut.externalId]: ["skipped", "customer opted out of reminders"],
      [cases.excluded.externalId]: ["skipped", "customer is excluded from reminders"],
      [cases.badEmail.externalId]: ["skipped", "no valid email address"],
    });
    expect((await remindersFor(store.db, org.id)).length).toBe(1);
  });

  it("re-reads the ledger after claiming: an invoice paid after planning is not chased", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    const inv = await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    // A mailer that reveals whether it was ever called, and a payment landing between plan and send.
    const calls: string[] = [];
    const real = h.deps.mailer!;
    h.deps.mailer = {
      send: async (m) => {
        calls.push(m.subject);
        return real.send(m);
      },
      close: () => real.close(),
    };
    const origClaim = store.atomically.bind(store);
    let paid = false;
    store.atomically = async (work) => {
      const r = await origClaim(work);
      if (!paid) {
        paid = true;
        await payInvoice(store, org, inv, "2026-03-10");
      }
      return r;
    };
    const report = await h.run(org);
    expect(report.emails[0]).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/nothing is due any more/),
    });
    expect(calls).toEqual([]);
    expect(await remindersFor(store.db, org.id)).toEqual([]);
  });
});

describe("at most once", () => {
  it("never sends the same reminder twice when re-run the same day", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-08" });
    await h.run(org);
    await h.run(org);
    h.clock.advance(HOUR);
    const third = await h.run(org);
    h.clock.advance(5 * HOUR);
    await h.run(org);
    expect(inbox.messages).toHaveLength(1);
    expect(third.emails).toEqual([]);
  });

  it("sends once when two runs race for the same customer", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    const other = createSmtpMailer({ url: inbox.url });
    const [a, b] = await Promise.all([h.run(org), h.run(org)]);
    await other.close();
    expect(inbox.messages).toHaveLength(1);
    expect([...a.emails, ...b.emails].map((e) => e.status).sort()).toEqual(["sent", "skipped"]);
  });

  it("never resends when the process dies after the SMTP server accepted (left for review)", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    const real = h.deps.mailer!;
    const dying: Mailer = {
      async send(m) {
        await real.send(m);
        throw new Error("process killed after SMTP accepted");
      },
      close: () => real.close(),
    };
    h.deps.mailer = dying;
    const first = await h.run(org);
    expect(first.emails[0]).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/outcome unknown/),
    });
    h.deps.mailer = real;
    for (let i = 0; i < 5; i++) {
      h.clock.advance(HOUR);
      await h.run(org);
    }
    expect(inbox.messages).toHaveLength(1);
    expect((await remindersFor(store.db, org.id)).map((r) => r.status)).toEqual(["needs_review"]);
  });

  it("flags a claim left by a run that died before recording, and never sends it", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    const [inv] = await store.db.select().from(invoices).where(eq(invoices.orgId, org.id));
    await claimReminders(
      store,
      "rem_crashed",
      [
        {
          orgId: org.id,
          contactId: c.id,
          invoiceId: inv!.id,
          level: 2,
          offsetDays: 1,
          template: "overdue",
          policyId: "pol_x",
        },
      ],
      h.clock.now() - HOUR,
    );
    const report = await h.run(org);
    expect(report.flaggedForReview).toBe(1);
    expect(report.emails).toEqual([]);
    h.clock.advance(HOUR);
    await h.run(org);
    expect(inbox.messages).toHaveLength(0);
    const rows = await remindersFor(store.db, org.id);
    expect(rows.map((r) => r.status)).toEqual(["needs_review"]);
    const flagged = await store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, org.id), eq(auditLog.action, "reminder.needs_review")));
    expect(flagged).toHaveLength(1);
  });
});

describe("SMTP failures", () => {
  it("reports an outage, loses nothing, and the next run delivers each reminder exactly once", async () => {
    const org = await makeOrg(store);
    const a = await makeCustomer(store, org);
    const b = await makeCustomer(store, org);
    await makeInvoice(store, org, a.externalId, { dueDate: "2026-03-09" });
    await makeInvoice(store, org, b.externalId, { dueDate: "2026-03-09" });
    await inbox.stop();
    let report: Awaited<ReturnType<Harness["run"]>> | undefined;
    try {
      report = await h.run(org);
    } finally {
      await inbox.start();
    }
    expect(report?.emails.map((e) => e.status)).toEqual(["failed", "failed"]);
    expect(report?.emails[0]?.reason).toMatch(/did not accept.*next run retries/);
    expect(report?.emails[1]?.reason).toMatch(/not attempted: the SMTP server is unavailable/);
    h.clock.advance(HOUR);
    const retry = await h.run(org);
    expect(retry.emails.map((e) => e.status)).toEqual(["sent", "sent"]);
    h.clock.advance(HOUR);
    await h.run(org);
    expect(inbox.messages.map((m) => m.envelope.to[0]).sort()).toEqual(
      [
        `${a.externalId.toLowerCase()}@customer.example`,
        `${b.externalId.toLowerCase()}@customer.example`,
      ].sort(),
    );
    const rows = await remindersFor(store.db, org.id);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ["sent", 2],
      ["sent", 1],
    ]);
  });

  it("retries a temporary 4xx refusal on the next run", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    inbox.failWith(451, "rcpt");
    const first = await h.run(org);
    expect(first.emails[0]).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/next run retries/),
    });
    inbox.failWith(null);
    h.clock.advance(HOUR);
    await h.run(org);
    h.clock.advance(HOUR);
    await h.run(org);
    expect(inbox.messages).toHaveLength(1);
  });

  it("does not retry a permanent 5xx rejection: it is left for review", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    inbox.failWith(550, "data");
    const first = await h.run(org);
    expect(first.emails[0]).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/rejected.*not retried/),
    });
    inbox.failWith(null);
    h.clock.advance(HOUR);
    await h.run(org);
    expect(inbox.messages).toHaveLength(0);
    expect((await remindersFor(store.db, org.id)).map((r) => r.status)).toEqual(["rejected"]);
  });
});

describe("sending window", () => {
  it("writes to Auckland and Los Angeles customers each inside their own working day", async () => {
    const org = await makeOrg(store);
    const nz = await makeCustomer(store, org, { timezone: "Pacific/Auckland", emails: ["nz@kiwi.example"] });
    const la = await makeCustomer(store, org, { timezone: "America/Los_Angeles", emails: ["la@ca.example"] });
    await makeInvoice(store, org, nz.externalId, { dueDate: "2026-03-05" });
    await makeInvoice(store, org, la.externalId, { dueDate: "2026-03-05" });
    h.clock.set("2026-03-10T17:30:00Z"); // LA 10:30 Tue; Auckland 06:30 Wed
    const first = await h.run(org);
    expect(first.emails.map((e) => [e.customer_id, e.status])).toEqual([
      [nz.externalId, "skipped"],
      [la.externalId, "sent"],
    ]);
    h.clock.set("2026-03-10T20:30:00Z"); // Auckland 09:30 Wed
    await h.run(org);
    expect(inbox.messages.map((m) => m.envelope.to[0])).toEqual(["la@ca.example", "nz@kiwi.example"]);
  });

  it("sends nothing outside the window, and the job needs no SMTP to stay quiet", async () => {
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
    h.clock.set("2026-03-10T03:00:00Z");
    const r = await h.run(org);
    expect(r.emails[0]).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/outside the sending window/),
    });
    expect(inbox.messages).toHaveLength(0);
    expect(testConfig().SMTP_URL).toBeUndefined();
  });
});
