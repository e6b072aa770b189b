/**
 * Emails fit their history: every default template rendered as a first contact reads as a first email (no
 * "earlier", "previous", "again", "despite"); a later one may refer to what went before, with its date. The
 * unsubscribe header carries a bare mailto even when MAIL_FROM has a display name, and a name ending in a full
 * stop never gets a second one.
 */

import { describe, expect, it } from "vitest";
import { formatDate, formatMoney } from "../../src/format";
import { DEFAULT_POLICY_LEVELS, FIRM_POLICY_LEVELS } from "../../src/model/reminders";
import { listUnsubscribeHeaders } from "../../src/reminders/links";
import { buildFields, createReminderRenderer, type ReminderHistory } from "../../src/reminders/render";

const FORBIDDEN = /\b(earlier|previous(ly)?|again|despite)\b/i;

function fields(template: string, level: number, history?: ReminderHistory, invoiceCount = 1) {
  const invoices = Array.from({ length: invoiceCount }, (_, k) => ({
    invoice: {
      id: `i${k}`,
      contactId: "c",
      number: `INV-${k + 1}`,
      issueDate: "2026-01-01",
      dueDate: "2026-02-01",
      currency: "GBP",
      totalMinor: 1672920,
      amountCreditedMinor: 0,
      amountDueMinor: 1672920,
      status: "authorised" as const,
      disputedAt: null,
      payUrl: null,
    },
    daysOverdue: 60,
  }));
  return buildFields({
    org: { name: "Acme Supplies Inc.", locale: "en-GB" },
    customer: { externalId: "C1", name: "Brightside Trading Inc.", to: ["ap@brightside.example"] },
    sender: { email: "accounts@acme.example", phone: null },
    level: { level, name: template, template },
    invoices,
    links: { customerPage: "https://x.example/c/t", unsubscribe: "https://x.example/c/t/unsubscribe" },
    today: "2026-04-02",
    history,
  });
}

const TEMPLATES = [...new Set([...DEFAULT_POLICY_LEVELS, ...FIRM_POLICY_LEVELS].map((l) => l.template))];

describe("default reminder templates", () => {
  const renderer = createReminderRenderer();

  it.each(TEMPLATES.map((t, i) => [t, i + 1] as const))(
    "%s as a first contact reads as a first email, with one full stop after a name ending in one",
    async (template, level) => {
      for (const count of [1, 3]) {
        const r = await renderer.render(template, fields(template, level, undefined, count));
        for (const part of [r.subject, r.text, r.html]) {
          expect(part).not.toMatch(FORBIDDEN);
          expect(part).not.toMatch(/Inc\.\./);
        }
        expect(r.text).toContain(formatMoney({ minor: 1672920 * count, currency: "GBP" }, "en-GB"));
        expect(r.text).not.toMatch(/\d{4}-\d{2}-\d{2}/); // dates for people, never ISO
        expect(r.text).not.toMatch(/\d GBP/); // one money format: "£16,729.20"
      }
    },
  );

  it("words later emails with their history, and the final notice names the notice period", async () => {
    const history = { count: 2, lastSentDate: "2026-03-20" };
    const firm = await renderer.render("firm", fields("firm", 3, history));
    expect(firm.subject).toMatch(/^Second reminder/);
    expect(firm.text).toContain(`We wrote on ${formatDate("2026-03-20", "en-GB")}`);
    const firmer = await renderer.render("firmer", fields("firmer", 4, history));
    expect(firmer.text).toContain("We have written 2 times about this, most recently on 20 Mar 2026");
    const first = await renderer.render("firm", fields("firm", 3));
    expect(first.subject).toMatch(/^Payment overdue/);
    expect(first.text).toContain("Our records show that the invoice below is now 60 days overdue");
    const final = await renderer.render("final", fields("final", 5));
    expect(final.text).toMatch(/within 7 days, we may put your account on hold/);
    expect(fields("final", 5).is_first_contact).toBe(true);
    expect(fields("final", 5, history).previous_reminders).toEqual({
      count: 2,
      last_sent_date: "2026-03-20",
      last_sent_date_formatted: "20 Mar 2026",
    });
  });

  it("puts a bare address in the List-Unsubscribe mailto when MAIL_FROM has a display name", () => {
    const h = listUnsubscribeHeaders("https://x.example/u", "Acme Supplies <billing@acme.example>");
    expect(h["List-Unsubscribe"]).toBe(
      "<https://x.example/u>, <mailto:billing@acme.example?subject=unsubscribe>",
    );
    expect(listUnsubscribeHeaders("https://x.example/u", "not an address")["List-Unsubscribe"]).toBe(
      "<https://x.example/u>",
    );
  });
});
