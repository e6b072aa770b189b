/**
 * Scheduled statements against a real SMTP server: exactly one per customer per period, only to customers who owe
 * something, with a PDF whose totals are the customers' page's; and the failure rules of reminders (a send that
 * may have been taken, or a run that died after claiming, is left for review and never resent).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatMoney } from "../../src/format";
import { silentLogger } from "../../src/log";
import { createSmtpMailer } from "../../src/mail/smtp-mailer";
import { runStatements, STATEMENT_LEASE_MS } from "../../src/statements/run";
import type { Organisation } from "../../src/store/orgs";
import { ensureReminderSetup } from "../../src/store/reminder-settings";
import {
  claimStatement,
  setCustomerStatementSchedule,
  setOrgStatementSchedule,
  statementSendsOf,
} from "../../src/store/statements";
import { compressedPdfText, pagePathIn, SECRET, type World, world } from "../portal/support";
import {
  disputeInvoice,
  makeCustomer,
  makeInvoice,
  makeOrg,
  payInvoice,
  setContact,
} from "../reminders/factories";
import { useInbox } from "../support/smtp";

const inbox = useInbox();
let w: World;
let mailer: ReturnType<typeof createSmtpMailer>;

beforeEach(async () => {
  // Wednesday 1 April 2026, 11:00 in London: inside the default window (weekdays 09:00-17:00).
  w = await world(inbox, "2026-04-01T10:00:00Z");
  mailer = createSmtpMailer({ url: inbox.url, timeoutMs: 2_000 });
});
afterEach(async () => {
  await mailer.close();
  await w.close();
});

const run = (org: Organisation, over: { dryRun?: boolean; asOf?: string } = {}) =>
  runStatements(
    { store: w.store, config: w.deps.config, log: silentLogger, secret: SECRET, mailer },
    { org, now: w.clock.now(), ...over },
  );
const to = (addr: string) => inbox.messages.filter((m) => m.envelope.to.includes(addr));

/** An organisation sending monthly statements on the 1st, and its customers. */
async function ledger() {
  const org = await makeOrg(w.store);
  await ensureReminderSetup(w.store.db, org, w.clock.now());
  await setOrgStatementSchedule(w.store.db, org.id, { every: "month", day: 1 }, w.clock.now());
  const bright = await makeCustomer(w.store, org, { name: "Bright Bakery", emails: ["ap@bright.example"] });
  await makeInvoice(w.store, org, bright.externalId, {
    number: "B-1",
    dueDate: "2026-02-15",
    totalMinor: 1234_56,
  });
  await makeInvoice(w.store, org, bright.externalId, {
    number: "B-2",
    dueDate: "2026-04-20",
    totalMinor: 300_00,
  });
  await makeInvoice(w.store, org, bright.externalId, {
    number: "B-3",
    dueDate: "2026-03-01",
    totalMinor: 80_00,
    currency: "EUR",
  });
  const queried = await makeInvoice(w.store, org, bright.externalId, {
    number: "B-4",
    dueDate: "2026-03-10",
    totalMinor: 999_00,
  });
  await disputeInvoice(w.store, org, queried.externalId, 1);
  const cedar = await makeCustomer(w.store, org, { name: "Cedar Cafe", emails: ["pay@cedar.example"] });
  const cedarInvoice = await makeInvoice(w.store, org, cedar.externalId, {
    number: "C-1",
    dueDate: "2026-03-20",
    totalMinor: 50_00,
  });
  const paid = await makeCustomer(w.store, org, { name: "Paid Up Ltd", emails: ["ap@paid.example"] });
  await payInvoice(
    w.store,
    org,
    await makeInvoice(w.store, org, paid.externalId, { number: "P-1", dueDate: "2026-03-01" }),
    "2026-03-02",
  );
  const optedOut = await makeCustomer(w.store, org, { name: "Quiet Ltd", emails: ["ap@quiet.example"] });
  await makeInvoice(w.store, org, optedOut.externalId, { number: "Q-1", dueDate: "2026-03-01" });
  await setContact(w.store, optedOut.id, { optedOut: true });
  const off = await makeCustomer(w.store, org, { name: "No Statements Ltd", emails: ["ap@off.example"] });
  await makeInvoice(w.store, org, off.externalId, { number: "N-1", dueDate: "2026-03-01" });
  await setCustomerStatementSchedule(w.store.db, org.id, off.id, { every: "off" }, w.clock.now());
  return { org, bright, cedar, cedarInvoice };
}

describe("scheduled statements", () => {
  it("send exactly one statement per customer per period, over two months", async () => {
    const { org, cedar, cedarInvoice } = await ledger();

    const first = await run(org);
    expect(first.statements.map((s) => [s.customer_id, s.status, s.period, s.reason])).toEqual(
      expect.arrayContaining([
        [expect.any(String), "sent", "2026-04", null],
        [expect.any(String), "skipped", "2026-04", "opted out of reminders on the customers' page"],
      ]),
    );
    expect(to("ap@bright.example")).toHaveLength(1);
    expect(to("pay@cedar.example")).toHaveLength(1);
    expect(inbox.messages).toHaveLength(2); // nobody else: paid up, opted out, or switched off

    // Later the same day, and a fortnight on: nothing more for April.
    w.clock.set(Date.parse("2026-04-01T14:00:00Z"));
    await run(org);
    w.clock.set(Date.parse("2026-04-15T10:00:00Z"));
    await run(org);
    expect(inbox.messages).toHaveLength(2);

    // Cedar pays in April; on Friday 1 May only Bright, who still owes, gets May's statement.
    await payInvoice(w.store, org, cedarInvoice, "2026-04-20");
    w.clock.set(Date.parse("2026-05-01T10:00:00Z"));
    const may = await run(org);
    expect(may.statements.filter((s) => s.status === "sent").map((s) => s.name)).toEqual(["Bright Bakery"]);
    w.clock.set(Date.parse("2026-05-01T15:00:00Z"));
    await run(org);
    expect(to("ap@bright.example")).toHaveLength(2);
    expect(to("pay@cedar.example")).toHaveLength(1);

    const rows = await statementSendsOf(w.store.db, org.id);
    expect(rows.map((r) => [r.period, r.status]).sort()).toEqual([
      ["2026-04", "sent"],
      ["2026-04", "sent"],
      ["2026-05", "sent"],
    ]);
    expect(rows.find((r) => r.contactId === cedar.id)?.period).toBe("2026-04");
  });

  it("attach a PDF whose totals are the customers' page's, and link to that page", async () => {
    const { org } = await ledger();
    await run(org);
    const [mail] = to("ap@bright.example");
    const { parsed } = mail!;
    expect(parsed.subject).toBe("Your statement from Acme Supplies Ltd, 1 Apr 2026");
    const pdf = parsed.attachments.find((a) => a.contentType === "application/pdf");
    expect(pdf?.filename).toBe("statement-2026-04-01.pdf");
    const pdfText = compressedPdfText(pdf!.content);

    const page = await (await w.app.request(pagePathIn(parsed.text ?? ""))).text();
    const gbp = formatMoney({ minor: 1234_56 + 300_00, currency: "GBP" }, "en-GB");
    const eur = formatMoney({ minor: 80_00, currency: "EUR" }, "en-GB");
    const queried = formatMoney({ minor: 999_00, currency: "GBP" }, "en-GB");
    expect(page).toContain(`data-testid="total-GBP">${gbp}<`);
    expect(page).toContain(`data-testid="total-EUR">${eur}<`);
    for (const text of [pdfText, page]) {
      for (const n of ["B-1", "B-2", "B-3", "B-4"]) expect(text).toContain(n);
      expect(text).toContain(gbp);
      expect(text).toContain(eur);
      expect(text).toContain(queried); // listed as disputed, outside the total
      expect(text).not.toContain(formatMoney({ minor: 1234_56 + 300_00 + 999_00, currency: "GBP" }, "en-GB"));
    }
    // The email says the same, and says why the queried invoice is not in the total.
    expect(parsed.text).toContain(`${gbp} + ${eur} in all`);
    expect(parsed.text).toContain("not in the total while we look into them");
    expect(parsed.text).not.toContain("B-4");
  });

  it("wait for the sending window and move off weekends and holidays", async () => {
    const { org } = await ledger();
    // 1 April 2026, 06:30 in London: before the window opens.
    w.clock.set(Date.parse("2026-04-01T05:30:00Z"));
    const early = await run(org);
    expect(early.statements.find((s) => s.name === "Bright Bakery")?.reason).toMatch(
      /outside the sending window/,
    );
    expect(inbox.messages).toHaveLength(0);
    // Good Friday 3 April and Easter Monday 6 April 2026 are bank holidays: a weekly Friday statement waits for
    // Tuesday, and nothing goes on the holidays or the weekend between them.
    await setOrgStatementSchedule(w.store.db, org.id, { every: "week", weekday: 5 }, w.clock.now());
    for (const day of ["2026-04-03", "2026-04-04", "2026-04-05", "2026-04-06"]) {
      w.clock.set(Date.parse(`${day}T10:00:00Z`));
      await run(org);
    }
    expect(inbox.messages).toHaveLength(0);
    w.clock.set(Date.parse("2026-04-07T10:00:00Z"));
    const tuesday = await run(org);
    expect(tuesday.statements.filter((s) => s.status === "sent").map((s) => s.period)).toEqual([
      "2026-W14",
      "2026-W14",
    ]);
    expect(inbox.messages).toHaveLength(2);
  });

  it("a dry run sends and claims nothing, and says what would go", async () => {
    const { org } = await ledger();
    const dry = await run(org, { dryRun: true });
    const bright = dry.statements.find((s) => s.name === "Bright Bakery");
    expect(bright).toMatchObject({ status: "would_send", period: "2026-04" });
    expect(bright?.totals).toEqual([
      { currency: "GBP", minor: 1234_56 + 300_00 },
      { currency: "EUR", minor: 80_00 },
    ]);
    expect(inbox.messages).toHaveLength(0);
    expect(await statementSendsOf(w.store.db, org.id)).toEqual([]);
  });

  it("a budgeted run stops between customers and its continuation sends the rest, once", async () => {
    const { org } = await ledger();
    const deps = { store: w.store, config: w.deps.config, log: silentLogger, secret: SECRET, mailer };
    const first = await runStatements(deps, { org, now: w.clock.now(), budget: 1 });
    expect(first.statements.filter((s) => s.status === "sent")).toHaveLength(1);
    expect(first.more).toBe(true);
    expect(inbox.messages).toHaveLength(1);
    const rest = await runStatements(deps, {
      org,
      now: w.clock.now(),
      budget: 1,
      resumeAfter: first.resume_after,
    });
    expect(rest.statements.filter((s) => s.status === "sent")).toHaveLength(1);
    const done = await runStatements(deps, {
      org,
      now: w.clock.now(),
      budget: 1,
      resumeAfter: rest.resume_after,
    });
    expect(done.more).toBeFalsy();
    expect(to("ap@bright.example")).toHaveLength(1);
    expect(to("pay@cedar.example")).toHaveLength(1);
  });

  it("two runs at once send each statement once", async () => {
    const { org } = await ledger();
    await Promise.all([run(org), run(org), run(org)]);
    expect(to("ap@bright.example")).toHaveLength(1);
    expect(to("pay@cedar.example")).toHaveLength(1);
  });
});

describe("statement failures", () => {
  it("a refusal is retried by the next run; delivered once", async () => {
    const { org } = await ledger();
    inbox.failWith(451, "mail", "try later");
    const failed = await run(org);
    const refused = failed.statements.filter((s) => s.status === "failed");
    expect(refused.map((s) => s.reason)).toEqual([
      expect.stringMatching(/the next run retries/),
      expect.stringMatching(/the next run retries/),
    ]);
    inbox.failWith(null);
    w.clock.set(Date.parse("2026-04-01T11:00:00Z"));
    await run(org);
    expect(to("ap@bright.example")).toHaveLength(1);
    expect(to("pay@cedar.example")).toHaveLength(1);
    const rows = await statementSendsOf(w.store.db, org.id);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ["sent", 2],
      ["sent", 2],
    ]);
  });

  it("a connection dropped after the message went is left for review, never resent", async () => {
    const { org } = await ledger();
    inbox.misbehave("drop");
    const first = await run(org);
    expect(first.statements.filter((s) => s.status === "failed").map((s) => s.reason)).toEqual([
      expect.stringMatching(/left for review, never resent/),
      expect.stringMatching(/left for review, never resent/),
    ]);
    inbox.misbehave(null);
    const delivered = inbox.messages.length;
    w.clock.set(Date.parse("2026-04-01T12:00:00Z"));
    await run(org);
    expect(inbox.messages).toHaveLength(delivered);
    expect((await statementSendsOf(w.store.db, org.id)).map((r) => r.status)).toEqual([
      "needs_review",
      "needs_review",
    ]);
  });

  it("a run that died after claiming leaves the claim for review, not a second statement", async () => {
    const { org, bright } = await ledger();
    await claimStatement(
      w.store.db,
      { orgId: org.id, contactId: bright.id, period: "2026-04" },
      w.clock.now(),
    );
    w.clock.set(w.clock.now() + STATEMENT_LEASE_MS + 60_000);
    const later = await run(org);
    expect(later.flagged_for_review).toBe(1);
    expect(to("ap@bright.example")).toHaveLength(0);
    expect(to("pay@cedar.example")).toHaveLength(1);
  });
});
