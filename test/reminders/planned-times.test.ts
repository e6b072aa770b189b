/**
 * The reminders page tells the truth about when each planned email goes: for customers in Auckland, London and
 * Los Angeles, on the Thursday evening before Easter (Good Friday and Easter Monday are public holidays in the
 * organisation's country, GB), the page's planned instant for each customer is one at which a dry run sends it,
 * and a dry run an hour earlier does not. Nothing is listed for a time the engine would not send.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import { remindersView } from "../../src/dashboard/reminders";
import type { Deps } from "../../src/deps";
import { runReminders } from "../../src/reminders/dispatch";
import { testDeps } from "../support/deps";
import { makeCustomer, makeInvoice, makeOrg, TEST_ENV } from "./factories";

let deps: Deps;
// Thursday 2 April 2026, 19:00 in London (BST): London's window has closed, Los Angeles' is open (11:00), and
// in Auckland it is already Good Friday morning.
const NOW = "2026-04-02T18:00:00Z";
beforeEach(async () => {
  deps = await testDeps({ clock: fixedClock(NOW), env: { ...TEST_ENV, LOG_LEVEL: "silent" } });
});
afterEach(async () => {
  await deps.store.close();
});

describe("planned send times", () => {
  it("match a dry run at those instants, in three timezones across a weekend and public holidays", async () => {
    const org = await makeOrg(deps.store, { timezone: "Europe/London", country: "GB" });
    const zones = {
      auckland: "Pacific/Auckland",
      london: "Europe/London",
      la: "America/Los_Angeles",
    } as const;
    const ids: Record<string, string> = {};
    for (const [key, timezone] of Object.entries(zones)) {
      const c = await makeCustomer(deps.store, org, { externalId: key.toUpperCase(), timezone });
      ids[key] = c.externalId;
      await makeInvoice(deps.store, org, c.externalId, { number: `${key}-1`, dueDate: "2026-03-25" }); // +8
    }
    const view = await remindersView(deps, org);
    // Each customer gets level 3 (+7) first, then level 4 (+14, Wednesday 8 April) within the week.
    expect(view.planned.map((p) => [p.customer_id, p.level, p.at])).toEqual([
      ["LA", 3, "2026-04-02T18:05:00.000Z"], // open now: the next hourly run
      ["AUCKLAND", 3, "2026-04-06T21:05:00.000Z"], // Tuesday 7 April 09:05 NZST (Good Friday, weekend, Easter Monday skipped)
      ["LONDON", 3, "2026-04-07T08:05:00.000Z"], // Tuesday 09:05 BST, after the same holidays
      ["AUCKLAND", 4, "2026-04-07T21:05:00.000Z"],
      ["LONDON", 4, "2026-04-08T08:05:00.000Z"],
      ["LA", 4, "2026-04-08T16:05:00.000Z"],
    ]);

    for (const p of view.planned) {
      const dry = async (at: number) =>
        (
          await runReminders(
            { store: deps.store, config: deps.config, log: deps.log, secret: deps.secret },
            { org, at: { kind: "instant", at }, now: at, dryRun: true },
          )
        ).emails.find((e) => e.customer_id === p.customer_id);
      const at = Date.parse(p.at);
      const then = await dry(at);
      expect(then, `${p.customer_id} at ${p.at}`).toMatchObject({
        status: "skipped",
        reason: "dry run: would be sent",
        level: p.level,
        invoice_numbers: p.invoice_numbers,
      });
      // Not earlier: the run an hour before (when that is still ahead of now) would not send it.
      if (at - 3_600_000 > Date.parse(NOW)) {
        const before = await dry(at - 3_600_000);
        expect(before?.reason, `${p.customer_id} an hour before`).not.toBe("dry run: would be sent");
      }
    }
  });

  it("sends nothing on the days the page skips (a dry run on Good Friday, London)", async () => {
    const org = await makeOrg(deps.store, { timezone: "Europe/London", country: "GB" });
    const c = await makeCustomer(deps.store, org, { externalId: "LONDON", timezone: "Europe/London" });
    await makeInvoice(deps.store, org, c.externalId, { dueDate: "2026-03-25" });
    const at = Date.parse("2026-04-03T08:05:00Z");
    const r = await runReminders(
      { store: deps.store, config: deps.config, log: deps.log, secret: deps.secret },
      { org, at: { kind: "instant", at }, now: at, dryRun: true },
    );
    expect(r.emails.map((e) => e.reason)).toEqual(["public holiday: Good Friday (2026-04-03)"]);
  });

  it("lists overdue customers who cannot be chased, with the reason and the fix", async () => {
    const org = await makeOrg(deps.store, { timezone: "Europe/London", country: "GB" });
    const none = await makeCustomer(deps.store, org, { externalId: "NOADDR", emails: [] });
    await makeInvoice(deps.store, org, none.externalId, { dueDate: "2026-03-01" });
    const small = await makeCustomer(deps.store, org, { externalId: "SMALL" });
    await makeInvoice(deps.store, org, small.externalId, { dueDate: "2026-03-01", totalMinor: 50 });
    const fine = await makeCustomer(deps.store, org, { externalId: "FINE" });
    await makeInvoice(deps.store, org, fine.externalId, { dueDate: "2026-03-01" });
    const view = await remindersView(deps, org);
    expect(view.cannot_chase.map((n) => [n.customer_id, n.reason, n.fix])).toEqual([
      ["NOADDR", "no_address", "Add a reminder address"],
      ["SMALL", "below_minimum", "Lower the minimum amount"],
    ]);
  });
});
