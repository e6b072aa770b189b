/**
 * Issue 17, "a timeline in plain words": every activity the code records for a customer reads as a sentence on
 * the customer page (who did what, with dates, amounts, references and addresses), never as its internal code.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ACTIVITY_WORDS, describeActivity } from "../../src/dashboard/timeline-words";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { audit } from "../../src/store/audit";
import { contactByExternalId } from "../../src/store/dashboard-customers";
import { findOrgBySlug } from "../../src/store/orgs";
import { harness, makeCustomer, makeInvoice, makeOrg } from "../reminders/factories";
import { signIn } from "../support/auth";
import { testStore } from "../support/db";
import { testDeps } from "../support/deps";
import { importInvoices } from "../support/files";
import { startInbox } from "../support/smtp";

/** Every audit action name written anywhere in src/ (string literals, and the proposal states). */
function actionsInSource(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(f) && !p.endsWith("timeline-words.ts") && !p.endsWith(".gen.ts")) {
        const text = readFileSync(p, "utf8");
        for (const m of text.matchAll(
          /"((?:customer|reminder|credit_hold|statement|monitor|invoice)\.[a-z_]+)"/g,
        ))
          found.add(m[1]!);
        if (text.includes("`credit_hold.proposal_${"))
          for (const s of ["approved", "dismissed", "withdrawn"]) found.add(`credit_hold.proposal_${s}`);
      }
    }
  };
  walk("src");
  return [...found].sort();
}

let deps: Deps;
beforeEach(async () => {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
});
afterEach(async () => {
  await deps.store.close();
});

/** Typical detail of each action, as the code writes it. */
const DETAIL: Record<string, Record<string, unknown>> = {
  "customer.promised": {
    invoiceNumber: "INV-1",
    amountDueMinor: 75_000,
    currency: "GBP",
    payBy: "2026-12-12",
  },
  "customer.paid_reported": {
    invoiceNumber: "INV-1",
    amountDueMinor: 75_000,
    currency: "GBP",
    paidOn: "2026-11-18",
    reference: "BACS-778812",
    pausedUntil: "2026-11-25",
  },
  "customer.disputed": { invoiceNumber: "INV-2", reason: "wrong_amount", comment: "We agreed £180" },
  "customer.reminder_address_changed": { email: "ap@acme.example", previous: ["old@acme.example"] },
  "customer.opted_out": { via: "page" },
  "customer.promise_broken": {
    invoiceNumber: "INV-1",
    promisedBy: "2026-11-10",
    amountDueMinor: 75_000,
    currency: "GBP",
  },
  "customer.owner_notified": {
    headline: "promises to pay invoice INV-1 by 12 Dec 2026",
    to: "owner@acme.example",
  },
  "customer.owner_notice_skipped": {
    headline: "disputes invoice INV-2",
    reason: "the organisation has no owner address",
  },
  "customer.owner_notice_failed": {
    headline: "disputes invoice INV-2",
    to: "owner@acme.example",
    error: "550 no",
  },
  "customer.chasing_paused": { until: "2026-12-31", by: "keeper@example.com" },
  "customer.credit_limit": { limit: "£5,000.00", by: "keeper@example.com" },
  "customer.dispute_resolved": {
    invoice: "INV-2",
    resolution: "credit note issued",
    by: "keeper@example.com",
  },
  "monitor.deteriorating": { changeDays: 12.4, startedOn: "2026-08-01", reasons: [] },
  "reminder.sent": { level: 3, template: "firm", to: ["ap@acme.example"] },
  "reminder.failed": { level: 2, error: "550 mailbox unavailable" },
  "credit_hold.proposed": { reason: "an invoice reached the credit-hold level" },
  "credit_hold.placed": {
    reason: "an invoice reached the credit-hold level",
    by: "owner@example.com",
    proposalId: "hp_1",
  },
  "credit_hold.released": { reason: "the overdue balance is cleared" },
  "credit_hold.proposal_dismissed": { reason: "they paid by phone" },
  "statement.sent": { period: "2026-11", to: ["ap@acme.example"] },
};
const ACTOR: Record<string, string> = {
  "customer.promised": "customer",
  "customer.paid_reported": "customer",
  "customer.disputed": "customer",
  "customer.reminder_address_changed": "customer",
  "customer.opted_out": "customer",
  "customer.chasing_paused": "user:usr_1",
  "customer.credit_limit": "user:usr_1",
  "customer.dispute_resolved": "user:usr_1",
  "monitor.deteriorating": "monitor",
  "credit_hold.placed": "user:usr_1",
  "credit_hold.released": "reminders",
  "statement.sent": "statements",
};

describe("customer timeline in plain words", () => {
  it("has a sentence for every activity the code records for a customer", () => {
    const written = actionsInSource();
    expect(written.length).toBeGreaterThan(30);
    expect(written.filter((a) => !ACTIVITY_WORDS.includes(a))).toEqual([]);
    for (const a of ACTIVITY_WORDS) {
      const text = describeActivity(a, DETAIL[a] ?? {}, ACTOR[a] ?? "reminders", { locale: "en-GB" });
      expect(text, a).not.toContain(a);
      expect(text, a).not.toMatch(/^Recorded:/);
      expect(text, a).not.toMatch(/undefined|null|\[object/);
    }
    // An action nobody taught it yet still reads as words.
    expect(describeActivity("customer.some_new_thing", null, "customer", { locale: "en-GB" })).toBe(
      "Recorded: some new thing (by the customer on their page)",
    );
  });

  it("renders the customer page's timeline without internal codes, with dates, references and who did it", async () => {
    await importInvoices(
      deps,
      "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid",
      "C1,Acme,INV-1,2026-09-01,2026-10-01,GBP,1000.00,250",
      "C1,Acme,INV-2,2026-10-15,2026-11-15,GBP,200.00,",
    );
    const org = (await findOrgBySlug(deps.store.db, "acme"))!;
    const contact = (await contactByExternalId(deps.store.db, org.id, "C1"))!;
    let at = deps.clock.now() - 3_600_000;
    for (const action of [...ACTIVITY_WORDS, "customer.some_new_thing"]) {
      at += 1000;
      await audit(
        deps.store.db,
        {
          orgId: org.id,
          contactId: contact.id,
          actor: ACTOR[action] ?? "reminders",
          action,
          detail: DETAIL[action] ?? {},
        },
        at,
      );
    }
    const s = await signIn(deps);
    const html = await (
      await createApp(deps).request("/orgs/acme/customers/C1", { headers: s.headers() })
    ).text();
    const timeline = html.match(/<ol class="timeline">(.*?)<\/ol>/s)?.[1] ?? "";
    const text = timeline
      .replace(/<[^>]+>/g, " ")
      .replace(/&#39;|&#x27;/g, "'")
      .replace(/&amp;/g, "&");
    for (const a of [...ACTIVITY_WORDS, "customer.some_new_thing"]) expect(text, a).not.toContain(a);
    expect(text).toContain(
      "Promised to pay invoice INV-1 (£750.00) by 12 Dec 2026 (by the customer on their page)",
    );
    expect(text).toContain("payment reference BACS-778812");
    expect(text).toContain(
      "Reminder address changed to ap@acme.example (was old@acme.example) (by the customer on their page)",
    );
    expect(text).toContain("Credit hold proposed by the monitor — approved by owner@example.com");
    expect(text).toContain("Chasing paused until 31 Dec 2026 (by keeper@example.com)");
    expect(text).toContain("Flagged as deteriorating by the monitor: paying 12 days later than usual");
    expect(text).toContain("Statement for 2026-11 sent to ap@acme.example");
    expect(text).toContain("Invoice INV-1 issued for £1,000.00, due 1 Oct 2026");
    expect(text).toContain("Recorded: some new thing");
  });
});

describe("customer timeline: reminder emails", () => {
  it("shows a sent reminder with its level, template, recipients and outcome", async () => {
    const inbox = await startInbox();
    const store = testStore();
    const h = harness(store, inbox, "2026-03-10T10:00:00Z");
    try {
      const org = await makeOrg(store);
      const c = await makeCustomer(store, org, { emails: ["ap@sons.example"] });
      await makeInvoice(store, org, c.externalId, {
        number: "INV-1001",
        issueDate: "2026-01-20",
        dueDate: "2026-02-20",
        totalMinor: 1234_56,
      });
      const report = await h.run(org);
      expect(report.emails.map((e) => e.status)).toEqual(["sent"]);
      const d = await testDeps({ store, clock: h.clock });
      const s = await signIn(d);
      const html = await (
        await createApp(d).request(`/orgs/${org.slug}/customers/${c.externalId}`, { headers: s.headers() })
      ).text();
      const timeline = (html.match(/<ol class="timeline">(.*?)<\/ol>/s)?.[1] ?? "").replace(/<[^>]+>/g, " ");
      expect(timeline).toMatch(
        /Reminder \d+ \([a-z-]+\) sent to ap@sons\.example for INV-1001 — accepted by the mail server/,
      );
      expect(timeline).not.toMatch(/reminder\.sent|: sent\b/);
    } finally {
      await h.close();
      await store.close();
      await inbox.close();
    }
  });
});
