import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { dayNumber } from "../../src/days";
import { addDays } from "../../src/model";
import { type Plan, planReminders } from "../../src/reminders/plan";
import { planSettingsFor } from "../../src/reminders/run-context";
import type { Store } from "../../src/store/db";
import { createProposal } from "../../src/store/holds";
import type { Organisation } from "../../src/store/orgs";
import { loadPlanRows } from "../../src/store/plan-rows";
import { loadPolicies, loadReminderSettings } from "../../src/store/reminder-settings";
import { invoices, reminders } from "../../src/store/schema";
import { testStore } from "../support/db";
import { referencePlanRows } from "../support/reference-plan-rows";
import { makeCustomer, makeInvoice, makeOrg, setContact } from "./factories";

const AS_OF = "2026-03-10";
const AT = Date.parse("2026-03-10T10:00:00Z");

async function settingsOf(store: Store, org: Organisation) {
  const settings = await loadReminderSettings(store.db, org);
  const { policies, defaultId } = await loadPolicies(store.db, org.id);
  return {
    settings: planSettingsFor(org, settings, loadConfig({ LOG_LEVEL: "silent" }), defaultId, new Map()),
    policies,
  };
}

/** What the loader's plan must equal: everyone and every open invoice read, nothing summed in SQL. */
async function naivePlan(store: Store, org: Organisation): Promise<Plan> {
  return planReminders({
    ...(await settingsOf(store, org)),
    ...(await referencePlanRows(store, org)),
    at: { kind: "instant", at: AT },
  });
}

/** The plan, in customer order (the order customers are planned in carries no meaning). */
const summary = (p: Plan) => {
  const byId = (x: unknown[], y: unknown[]) => String(x[0]).localeCompare(String(y[0]));
  return {
    emails: p.emails
      .map((e) => [e.contact.id, e.to, e.level.offsetDays, e.invoices.map((i) => i.invoice.id)])
      .sort(byId),
    skipped: p.skipped.map((s) => [s.contact.id, s.reason]).sort(byId),
    holds: p.holds.map((h) => [h.contact.id, h.action, h.reason]).sort(byId),
  };
};

describe("the rows planning reads", () => {
  it("plan exactly as reading every customer and open invoice would", async () => {
    const store = testStore();
    const org = await makeOrg(store);
    // Overdue, two addresses (one invalid, with a character JSON escapes).
    const a = await makeCustomer(store, org, { emails: ['bad"q@a.example', "ap@a.example"] });
    await makeInvoice(store, org, a.externalId, { dueDate: "2026-03-02" });
    await makeInvoice(store, org, a.externalId, { dueDate: "2026-06-01" }); // open, far from any level
    // Over its credit limit with nothing anywhere near a level (the EUR invoice does not count).
    const b = await makeCustomer(store, org, { creditLimitMinor: 100_00 });
    await makeInvoice(store, org, b.externalId, { dueDate: "2026-05-30", totalMinor: 80_00 });
    await makeInvoice(store, org, b.externalId, { dueDate: "2026-05-30", totalMinor: 40_00 });
    await makeInvoice(store, org, b.externalId, {
      dueDate: "2026-05-30",
      totalMinor: 900_00,
      currency: "EUR",
    });
    // Within its limit once the disputed invoice is left out.
    const c = await makeCustomer(store, org, { creditLimitMinor: 100_00 });
    await makeInvoice(store, org, c.externalId, {
      externalId: "c-big",
      dueDate: "2026-05-30",
      totalMinor: 500_00,
    });
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-05-30", totalMinor: 50_00 });
    await store.db.update(invoices).set({ disputedAt: 1 }).where(eq(invoices.externalId, "c-big"));
    // On hold with nothing open: released.
    const d = await makeCustomer(store, org);
    await setContact(store, d.id, { holdState: "on_hold" });
    // A credit limit and nothing open; a deleted customer with an overdue invoice; a courtesy note due soon.
    await makeCustomer(store, org, { creditLimitMinor: 1 });
    const e = await makeCustomer(store, org);
    await makeInvoice(store, org, e.externalId, { dueDate: "2026-02-01" });
    await setContact(store, e.id, { deleted: true });
    const f = await makeCustomer(store, org, { timezone: "Pacific/Auckland" });
    await makeInvoice(store, org, f.externalId, { dueDate: addDays(AS_OF, 3) });
    // A proposed hold whose customer paid (nothing open): withdrawn.
    const g = await makeCustomer(store, org);
    await createProposal(store, { orgId: org.id, contactId: g.id, reason: "test", notice: false }, 1);
    // At the hold level, final notice accepted 9 days ago: proposed.
    const h = await makeCustomer(store, org);
    const hi = await makeInvoice(store, org, h.externalId, { dueDate: "2026-01-10" });
    const [hrow] = await store.db.select().from(invoices).where(eq(invoices.externalId, hi.externalId));
    await store.db.insert(reminders).values({
      id: "rem_h",
      orgId: org.id,
      contactId: h.id,
      invoiceId: hrow!.id,
      level: 5,
      offsetDays: 30,
      template: "final",
      policyId: "p",
      emailId: "eml_h",
      status: "sent",
      claimedAt: AT - 9 * 86_400_000,
      sentAt: AT - 9 * 86_400_000,
      updatedAt: AT,
    });

    const rows = await loadPlanRows(store.db, org, {
      asOf: addDays(AS_OF, 1),
      maxDueDate: addDays(AS_OF, 5),
    });
    const plan = planReminders({
      ...(await settingsOf(store, org)),
      contacts: rows.contacts,
      invoices: rows.invoices,
      byContact: rows.byContact,
      claimedOffset: rows.claimedOffset,
      outstandingBase: rows.outstandingBase,
      sentOffsets: rows.sentOffsets,
      at: { kind: "instant", at: AT },
    });
    expect(summary(plan)).toEqual(summary(await naivePlan(store, org)));
    // b is over its limit but was never sent a final notice: no hold by surprise.
    expect(Object.fromEntries(plan.holds.map((x) => [x.contact.id, x.action]))).toEqual({
      [d.id]: "release",
      [g.id]: "withdraw",
      [h.id]: "propose",
    });
    expect(plan.emails.find((m) => m.contact.id === a.id)?.to).toEqual(["ap@a.example"]);
    expect(rows.invoices.some((i) => i.dueDate === "2026-06-01")).toBe(false);
    await store.close();
  });

  it("turns ISO dates into day numbers as Date does", () => {
    for (let t = Date.parse("1899-12-25"); t < Date.parse("2101-01-10"); t += 86_400_000 * 29 + 3_600_000) {
      const date = new Date(t).toISOString().slice(0, 10);
      expect(dayNumber(date)).toBe(Math.round(Date.parse(date) / 86_400_000));
    }
    for (const date of ["2024-02-29", "2000-02-29", "1970-01-01", "2100-03-01", "0001-01-01"])
      expect(dayNumber(date)).toBe(Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000));
  });
});
