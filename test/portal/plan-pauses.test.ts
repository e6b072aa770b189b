/** Planning (pure) honours the per-invoice pauses the customers' page records. */

import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY_LEVELS,
  DEFAULT_WINDOW,
  type PlanContact,
  type PlanInvoice,
  toPolicy,
} from "../../src/model/reminders";
import { planReminders } from "../../src/reminders/plan";

const policy = toPolicy("pol_default", "default", DEFAULT_POLICY_LEVELS);
const customer: PlanContact = {
  id: "cus_1",
  externalId: "C1",
  name: "Customer 1",
  emails: ["c1@example.com"],
  timezone: null,
  policyId: null,
  chasingPausedUntil: null,
  excluded: false,
  optedOut: false,
  holdState: "none",
  creditLimitMinor: null,
  deleted: false,
  grade: null,
};
const inv = (id: string, dueDate: string): PlanInvoice => ({
  id,
  contactId: customer.id,
  number: id.toUpperCase(),
  issueDate: "2026-01-01",
  dueDate,
  currency: "GBP",
  totalMinor: 100_00,
  amountCreditedMinor: 0,
  amountDueMinor: 100_00,
  status: "authorised",
  disputedAt: null,
  payUrl: null,
});

function plan(date: string, pauses: Map<string, { kind: "paid" | "promise"; until: string }>) {
  return planReminders({
    settings: {
      orgTimezone: "Europe/London",
      baseCurrency: "GBP",
      window: DEFAULT_WINDOW,
      holidays: new Map(),
      defaultPolicyId: policy.id,
      gradePolicies: {},
      minAmount: 1,
      creditLimitMarginPct: 10,
    },
    policies: new Map([[policy.id, policy]]),
    contacts: [customer],
    invoices: [inv("inv_a", "2026-03-01"), inv("inv_b", "2026-03-02")],
    claimedOffset: new Map(),
    pauses,
    at: { kind: "opening", date },
  });
}

describe("pauses in planning", () => {
  it("leaves a paused invoice out of the email up to and including its last day, then lists it again", () => {
    const pauses = new Map([["inv_a", { kind: "promise" as const, until: "2026-03-12" }]]);
    expect(plan("2026-03-12", pauses).emails[0]?.invoices.map((p) => p.invoice.id)).toEqual(["inv_b"]);
    expect(plan("2026-03-13", pauses).emails[0]?.invoices.map((p) => p.invoice.id)).toEqual([
      "inv_a",
      "inv_b",
    ]);
  });

  it("sends nothing when every due invoice is paused", () => {
    const pauses = new Map([
      ["inv_a", { kind: "paid" as const, until: "2026-03-15" }],
      ["inv_b", { kind: "paid" as const, until: "2026-03-15" }],
    ]);
    const p = plan("2026-03-12", pauses);
    expect(p.emails).toEqual([]);
    expect(p.skipped).toEqual([]);
  });
});
