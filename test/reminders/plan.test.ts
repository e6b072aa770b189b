import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY_LEVELS,
  DEFAULT_WINDOW,
  FIRM_POLICY_LEVELS,
  type PlanContact,
  type PlanInvoice,
  toPolicy,
} from "../../src/model/reminders";
import { decideHold } from "../../src/reminders/holds";
import { type PlanInput, type PlanSettings, planReminders } from "../../src/reminders/plan";
import { reachedLevel } from "../../src/reminders/policy";
import { localMoment, windowVerdict, zonedInstant } from "../../src/reminders/window";

const policy = toPolicy("pol_default", "default", DEFAULT_POLICY_LEVELS);
const firm = toPolicy("pol_firm", "firm", FIRM_POLICY_LEVELS);
const policies = new Map([
  [policy.id, policy],
  [firm.id, firm],
]);

const settings: PlanSettings = {
  orgTimezone: "Europe/London",
  baseCurrency: "GBP",
  window: DEFAULT_WINDOW,
  holidays: new Map([["2026-04-03", "Good Friday"]]),
  defaultPolicyId: policy.id,
  gradePolicies: {},
  minAmount: 1,
  creditLimitMarginPct: 10,
};

let n = 0;
function contact(over: Partial<PlanContact> = {}): PlanContact {
  n++;
  return {
    id: `cus_${n}`,
    externalId: `C${n}`,
    name: `Customer ${n}`,
    emails: [`c${n}@example.com`],
    timezone: null,
    policyId: null,
    chasingPausedUntil: null,
    excluded: false,
    optedOut: false,
    holdState: "none",
    creditLimitMinor: null,
    deleted: false,
    grade: null,
    ...over,
  };
}

function invoice(c: PlanContact, over: Partial<PlanInvoice> & { dueDate: string }): PlanInvoice {
  n++;
  return {
    id: `inv_${n}`,
    contactId: c.id,
    number: `INV-${n}`,
    issueDate: "2026-01-01",
    currency: "GBP",
    totalMinor: 100_00,
    amountCreditedMinor: 0,
    amountDueMinor: 100_00,
    status: "authorised",
    disputedAt: null,
    payUrl: null,
    ...over,
  };
}

// Tuesday 10 March 2026, 10:00 in London (GMT).
const TUESDAY_10AM = Date.parse("2026-03-10T10:00:00Z");

function plan(contacts: PlanContact[], invoices: PlanInvoice[], over: Partial<PlanInput> = {}) {
  return planReminders({
    settings,
    policies,
    contacts,
    invoices,
    claimedOffset: new Map(),
    at: { kind: "instant", at: TUESDAY_10AM },
    ...over,
  });
}

describe("policy levels", () => {
  it("documents the default: -3 courtesy, +1, +7, +14, +30 final, +45 credit hold", () => {
    expect(policy.levels.map((l) => [l.level, l.offsetDays, l.template, l.placeHold])).toEqual([
      [1, -3, "courtesy", false],
      [2, 1, "overdue", false],
      [3, 7, "firm", false],
      [4, 14, "firmer", false],
      [5, 30, "final", false],
      [6, 45, "credit-hold", true],
    ]);
  });

  it("finds the highest level reached, and none before the courtesy day", () => {
    expect(reachedLevel(policy, -4)).toBeUndefined();
    expect(reachedLevel(policy, -3)?.level).toBe(1);
    expect(reachedLevel(policy, 0)?.level).toBe(1);
    expect(reachedLevel(policy, 13)?.level).toBe(3);
    expect(reachedLevel(policy, 400)?.level).toBe(6);
  });

  it("refuses levels whose offsets do not increase or name an unsafe template", () => {
    expect(() =>
      toPolicy("x", "x", [
        { offsetDays: 5, template: "a", name: "A" },
        { offsetDays: 5, template: "b", name: "B" },
      ]),
    ).toThrow();
    expect(() => toPolicy("x", "x", [{ offsetDays: 5, template: "../etc/passwd", name: "A" }])).toThrow();
  });
});

describe("planning: who gets an email", () => {
  it("sends one email per customer listing all its chaseable invoices at the level of the most overdue", () => {
    const c = contact();
    const invs = [
      invoice(c, { dueDate: "2026-03-09" }), // +1
      invoice(c, { dueDate: "2026-02-20" }), // +18 -> level 4
      invoice(c, { dueDate: "2026-03-12" }), // -2 -> courtesy
      invoice(c, { dueDate: "2026-04-30" }), // not yet
    ];
    const p = plan([c], invs);
    expect(p.emails).toHaveLength(1);
    const e = p.emails[0]!;
    expect(e.level.level).toBe(4);
    expect(e.invoices.map((x) => x.invoice.number)).toEqual([
      invs[1]!.number,
      invs[0]!.number,
      invs[2]!.number,
    ]);
    expect(e.to).toEqual([c.emails[0]]);
  });

  it("plans nothing for paid, void, deleted, draft, fully credited, disputed or below-minimum invoices", () => {
    const c = contact();
    const invs = [
      invoice(c, { dueDate: "2026-02-01", status: "paid", amountDueMinor: 0 }),
      invoice(c, { dueDate: "2026-02-01", status: "void" }),
      invoice(c, { dueDate: "2026-02-01", status: "deleted" }),
      invoice(c, { dueDate: "2026-02-01", status: "draft" }),
      invoice(c, { dueDate: "2026-02-01", amountCreditedMinor: 100_00, amountDueMinor: 0 }),
      invoice(c, { dueDate: "2026-02-01", disputedAt: 1 }),
      invoice(c, { dueDate: "2026-02-01", amountDueMinor: 99 }),
    ];
    const p = plan([c], invs);
    expect(p.emails).toEqual([]);
    expect(p.skipped).toEqual([]);
  });

  it("skips, with the reason, customers paused, excluded, opted out or without a valid address", () => {
    const paused = contact({ chasingPausedUntil: "2026-03-10" });
    const pausedEnded = contact({ chasingPausedUntil: "2026-03-09" });
    const excluded = contact({ excluded: true });
    const opted = contact({ optedOut: true });
    const noEmail = contact({ emails: ["not-an-address", "x@y\r\nBcc: evil@example.com"] });
    const cs = [paused, pausedEnded, excluded, opted, noEmail];
    const p = plan(
      cs,
      cs.map((c) => invoice(c, { dueDate: "2026-03-01" })),
    );
    expect(p.emails.map((e) => e.contact.id)).toEqual([pausedEnded.id]);
    expect(Object.fromEntries(p.skipped.map((s) => [s.contact.id, s.reason]))).toEqual({
      [paused.id]: "chasing is paused until 2026-03-10",
      [excluded.id]: "customer is excluded from reminders",
      [opted.id]: "customer opted out of reminders",
      [noEmail.id]: "no valid email address",
    });
  });

  it("plans nothing once the level an invoice reached is claimed, and plans the next level when reached", () => {
    const c = contact();
    const inv = invoice(c, { dueDate: "2026-03-09" });
    // Level 2 of the default policy (+1) claimed: claims carry the level's day offset.
    expect(plan([c], [inv], { claimedOffset: new Map([[inv.id, 1]]) }).emails).toEqual([]);
    const later = plan([c], [inv], {
      claimedOffset: new Map([[inv.id, 1]]),
      at: { kind: "instant", at: TUESDAY_10AM + 6 * 86_400_000 },
    });
    expect(later.emails[0]?.level.level).toBe(3);
  });

  it("uses the customer's own policy, else its grade's, else the default", () => {
    const own = contact({ policyId: firm.id });
    const graded = contact({ grade: "E" });
    const plain = contact({ grade: "A" });
    const cs = [own, graded, plain];
    const p = plan(
      cs,
      cs.map((c) => invoice(c, { dueDate: "2026-03-05" })), // +5: firm level 3, default level 2
      { settings: { ...settings, gradePolicies: { E: firm.id } } },
    );
    expect(Object.fromEntries(p.emails.map((e) => [e.contact.id, [e.policy.name, e.level.level]]))).toEqual({
      [own.id]: ["firm", 3],
      [graded.id]: ["firm", 3],
      [plain.id]: ["default", 2],
    });
  });
});

describe("planning: sending window and timezones", () => {
  const auckland = () => contact({ timezone: "Pacific/Auckland" });
  const losAngeles = () => contact({ timezone: "America/Los_Angeles" });

  it("judges each customer in its own timezone on the same run (Auckland and Los Angeles)", () => {
    const nz = auckland();
    const la = losAngeles();
    const invs = [invoice(nz, { dueDate: "2026-03-01" }), invoice(la, { dueDate: "2026-03-01" })];
    const at = (iso: string) => ({ at: { kind: "instant" as const, at: Date.parse(iso) } });
    // 17:30Z: Los Angeles 10:30 Tuesday (in); Auckland 06:30 Wednesday (out).
    let p = plan([nz, la], invs, at("2026-03-10T17:30:00Z"));
    expect(p.emails.map((e) => e.contact.id)).toEqual([la.id]);
    expect(p.skipped[0]?.reason).toMatch(/outside the sending window \(06:30 local/);
    // 21:00Z: Los Angeles 14:00 Tuesday and Auckland 10:00 Wednesday: both in.
    p = plan([nz, la], invs, at("2026-03-10T21:00:00Z"));
    expect(p.emails).toHaveLength(2);
    expect(p.emails.find((e) => e.contact.id === nz.id)?.local.date).toBe("2026-03-11");
    // 02:00Z Wednesday: Auckland 15:00 (in); Los Angeles 19:00 Tuesday (out).
    p = plan([nz, la], invs, at("2026-03-11T02:00:00Z"));
    expect(p.emails.map((e) => e.contact.id)).toEqual([nz.id]);
    // Friday 21:00Z: Los Angeles Friday 14:00 (in); Auckland already Saturday (out).
    p = plan([nz, la], invs, at("2026-03-13T21:00:00Z"));
    expect(p.emails.map((e) => e.contact.id)).toEqual([la.id]);
    expect(p.skipped[0]?.reason).toBe("not a sending day (2026-03-14)");
  });

  it("opens at 09:00 and closes at 17:00 local, and falls back to the organisation's timezone", () => {
    const c = contact({ timezone: "Not/AZone" });
    const invs = [invoice(c, { dueDate: "2026-03-01" })];
    const at = (iso: string) => ({ at: { kind: "instant" as const, at: Date.parse(iso) } });
    expect(plan([c], invs, at("2026-03-10T08:59:00Z")).emails).toHaveLength(0);
    expect(plan([c], invs, at("2026-03-10T09:00:00Z")).emails).toHaveLength(1);
    expect(plan([c], invs, at("2026-03-10T16:59:00Z")).emails).toHaveLength(1);
    expect(plan([c], invs, at("2026-03-10T17:00:00Z")).emails).toHaveLength(0);
  });

  it("skips the organisation country's public holidays", () => {
    const c = contact();
    const p = plan([c], [invoice(c, { dueDate: "2026-03-01" })], {
      at: { kind: "instant", at: Date.parse("2026-04-03T10:00:00+01:00") },
    });
    expect(p.emails).toEqual([]);
    expect(p.skipped[0]?.reason).toBe("public holiday: Good Friday (2026-04-03)");
  });

  it("as of a date, judges every customer at the opening of that date's window in its own timezone", () => {
    const nz = auckland();
    const la = losAngeles();
    const invs = [invoice(nz, { dueDate: "2026-03-01" }), invoice(la, { dueDate: "2026-03-01" })];
    const p = plan([nz, la], invs, { at: { kind: "opening", date: "2026-03-10" } });
    expect(p.emails.map((e) => [e.contact.id, new Date(e.at).toISOString()])).toEqual([
      [nz.id, "2026-03-09T20:00:00.000Z"],
      [la.id, "2026-03-10T16:00:00.000Z"],
    ]);
    const weekend = plan([nz, la], invs, { at: { kind: "opening", date: "2026-03-14" } });
    expect(weekend.emails).toEqual([]);
  });

  it("converts local wall time to instants across daylight-saving changes", () => {
    expect(new Date(zonedInstant("2026-03-29", 9 * 60, "Europe/London")).toISOString()).toBe(
      "2026-03-29T08:00:00.000Z",
    );
    expect(new Date(zonedInstant("2026-03-28", 9 * 60, "Europe/London")).toISOString()).toBe(
      "2026-03-28T09:00:00.000Z",
    );
    // 01:30 does not exist in London on 29 March 2026: moved past the gap.
    expect(localMoment(zonedInstant("2026-03-29", 90, "Europe/London"), "Europe/London").minutes).toBe(150);
    expect(windowVerdict(localMoment(TUESDAY_10AM, "Asia/Kolkata"), DEFAULT_WINDOW, new Map())).toEqual({
      open: true,
    });
  });
});

describe("planning: credit holds", () => {
  // Final notice (+30, offset 30) accepted on Monday 2 March 2026, 10:00 London.
  const NOTICE_AT = Date.parse("2026-03-02T10:00:00Z");
  const noticed = (inv: PlanInvoice, at = NOTICE_AT) => new Map([[inv.id, [[30, at] as const]]]);

  it("never skips the final notice: an invoice first seen at the hold level gets the final notice, no hold", () => {
    const c = contact();
    const inv = invoice(c, { dueDate: "2026-01-09" }); // +60 on 10 March
    const p = plan([c], [inv]);
    expect(p.holds).toEqual([]);
    expect(p.emails.map((e) => [e.level.level, e.level.template])).toEqual([[5, "final"]]);
    expect(p.attention.map((a) => a.reason)).toEqual(["the final notice has not been sent yet"]);
  });

  it("proposes (approve mode, the default) only HOLD_NOTICE_DAYS after the final notice, whatever the window", () => {
    const c = contact();
    const inv = invoice(c, { dueDate: "2026-01-20" });
    const claimedOffset = new Map([[inv.id, 30]]);
    const sunday = Date.parse("2026-03-08T03:00:00Z"); // 6 days after the notice
    const early = plan([c], [inv], {
      at: { kind: "instant", at: sunday },
      claimedOffset,
      sentOffsets: noticed(inv),
    });
    expect(early.holds).toEqual([]);
    expect(early.attention.map((a) => [a.reason, a.from])).toEqual([
      ["final notice sent; a hold can be proposed from 2026-03-09", "2026-03-09"],
    ]);
    const monday = Date.parse("2026-03-09T03:00:00Z");
    const p = plan([c], [inv], {
      at: { kind: "instant", at: monday },
      claimedOffset,
      sentOffsets: noticed(inv),
    });
    expect(p.holds).toEqual([
      {
        contact: c,
        action: "propose",
        reason: "an invoice reached the credit-hold level after the final notice period",
      },
    ]);
    // Not placed, so not announced: nothing more to send until a person approves.
    expect(p.emails).toEqual([]);
    const longer = plan([c], [inv], {
      at: { kind: "instant", at: monday },
      claimedOffset,
      sentOffsets: noticed(inv),
      settings: { ...settings, holdNoticeDays: 10 },
    });
    expect(longer.holds).toEqual([]);
  });

  it("places in automatic mode (and announces it), keeps an open proposal, withdraws it once paid", () => {
    const c = contact();
    const inv = invoice(c, { dueDate: "2026-01-20" });
    const over = { claimedOffset: new Map([[inv.id, 30]]), sentOffsets: noticed(inv) };
    const auto = plan([c], [inv], { ...over, settings: { ...settings, holdMode: "automatic" } });
    expect(auto.holds.map((h) => h.action)).toEqual(["place"]);
    expect(auto.emails.map((e) => e.level.template)).toEqual(["credit-hold"]);
    const waiting = contact({ holdProposed: true });
    const inv2 = invoice(waiting, { dueDate: "2026-01-20" });
    expect(plan([waiting], [inv2], { claimedOffset: new Map([[inv2.id, 30]]) }).holds).toEqual([]);
    expect(plan([waiting], []).holds).toEqual([
      { contact: waiting, action: "withdraw", reason: "the overdue balance is cleared" },
    ]);
  });

  it("needs a final notice sent after a person dismissed or released, and never holds who cannot be emailed", () => {
    const c = contact({ holdDeclinedAt: NOTICE_AT + 1 });
    const inv = invoice(c, { dueDate: "2026-01-20" });
    const p = plan([c], [inv], { claimedOffset: new Map([[inv.id, 30]]), sentOffsets: noticed(inv) });
    expect(p.holds).toEqual([]);
    expect(p.attention.map((a) => a.reason)).toEqual([
      "a person dismissed or released the hold: a new final notice is needed",
    ]);
    const mute = contact({ emails: ["not an address"] });
    const q = plan([mute], [invoice(mute, { dueDate: "2026-01-09" })]);
    expect(q.holds).toEqual([]);
    expect(q.attention.map((a) => a.reason)).toEqual([
      "no valid email address, so no final notice can be sent: hold only by hand",
    ]);
  });

  it("holds over the credit limit by more than the margin only after a final notice, and not within it", () => {
    const over = contact({ creditLimitMinor: 1000_00 });
    const within = contact({ creditLimitMinor: 1000_00 });
    const late = invoice(over, { dueDate: "2026-02-05", amountDueMinor: 100_00 }); // +33: final level
    const unwarned = plan(
      [over, within],
      [
        late,
        invoice(over, { dueDate: "2026-04-30", amountDueMinor: 1001_00, totalMinor: 1001_00 }),
        invoice(within, { dueDate: "2026-04-30", amountDueMinor: 1100_00, totalMinor: 1100_00 }),
      ],
    );
    expect(unwarned.holds).toEqual([]);
    const p = plan(
      [over, within],
      [
        late,
        invoice(over, { dueDate: "2026-04-30", amountDueMinor: 1001_00, totalMinor: 1001_00 }),
        invoice(within, { dueDate: "2026-04-30", amountDueMinor: 1100_00, totalMinor: 1100_00 }),
      ],
      { claimedOffset: new Map([[late.id, 30]]), sentOffsets: noticed(late) },
    );
    expect(p.holds.map((h) => [h.contact.id, h.action, h.reason])).toEqual([
      [over.id, "propose", "over the credit limit by more than 10% after the final notice period"],
    ]);
  });

  it("releases a hold once the overdue balance is cleared, and only then", () => {
    const held = contact({ holdState: "on_hold" });
    const stillOwing = contact({ holdState: "on_hold" });
    const p = plan(
      [held, stillOwing],
      [invoice(held, { dueDate: "2026-04-30" }), invoice(stillOwing, { dueDate: "2026-03-01" })],
    );
    expect(p.holds.map((h) => [h.contact.id, h.action])).toEqual([[held.id, "release"]]);
  });

  it("does not place a hold on an excluded or paused customer, nor count a disputed invoice", () => {
    expect(
      decideHold({
        holdState: "none",
        proposed: false,
        mode: "automatic",
        excluded: true,
        paused: false,
        holdLevelReached: true,
        holdLevelNoticed: true,
        noticed: true,
        overdueMinor: 1,
        outstandingBaseMinor: 1,
        creditLimitMinor: null,
        marginPct: 10,
      }),
    ).toBeNull();
    const c = contact({ holdState: "on_hold" });
    const p = plan([c], [invoice(c, { dueDate: "2026-01-01", disputedAt: 5 })]);
    expect(p.holds.map((h) => h.action)).toEqual(["release"]);
  });
});
