import { describe, expect, it } from "vitest";
import { addDays } from "../../src/model";
import {
  DEFAULT_POLICY_LEVELS,
  DEFAULT_POLICY_NAME,
  type PolicyLevelsInput,
} from "../../src/model/reminders";
import { remindersFor } from "../../src/store/claims";
import type { Organisation } from "../../src/store/orgs";
import { saveReminderSettings, upsertPolicy } from "../../src/store/reminder-settings";
import { testStore } from "../support/db";
import { useInbox } from "../support/smtp";
import { type Harness, harness, makeCustomer, makeInvoice, makeOrg, recordingConnector } from "./factories";

const inbox = useInbox();

/** Two runs a day (morning and afternoon, London time) from `from` through `to`; the (date, level, subject) sent. */
async function runDays(h: Harness, org: Organisation, from: string, to: string, customerAddress: string) {
  const sent: [string, number, string][] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) {
    for (const hour of ["09:30", "15:30"]) {
      h.clock.set(Date.parse(`${date}T${hour}:00${date >= "2026-03-29" ? "+01:00" : "Z"}`));
      const before = inbox.messages.length;
      const r = await h.run(org);
      expect(r.emails.every((e) => e.status !== "failed")).toBe(true);
      const mail = inbox.messages.slice(before).filter((m) => m.envelope.to[0] === customerAddress);
      for (const e of r.emails)
        if (e.status === "sent") sent.push([date, e.level, mail.shift()?.parsed.subject ?? "(no mail)"]);
    }
  }
  return sent;
}

const level = (offsetDays: number) => DEFAULT_POLICY_LEVELS.find((l) => l.offsetDays === offsetDays)!;

describe("editing a policy's levels after reminders went out", () => {
  it("never resends a level already sent nor sends a removed one, and escalation carries on by day offset", async () => {
    inbox.clear();
    const store = testStore();
    const fake = recordingConnector();
    const h = harness(store, inbox, "2026-02-28T09:30:00Z", { connectorFor: () => fake.connector });
    const org = await makeOrg(store);
    // Automatic holds: this test is about editing levels (approval has its own, hold-approval.test.ts).
    await saveReminderSettings(store.db, org, { ownerEmail: "owner@acme.example", holdMode: "automatic" }, 0);
    const c = await makeCustomer(store, org, { emails: ["ap@slow.example"] });
    // Due Wednesday 4 March 2026.
    await makeInvoice(store, org, c.externalId, { issueDate: "2026-02-02", dueDate: "2026-03-04" });

    // The built-in default: -3, +1, +7 (level 3, "firm"), +14, +30, +45 (hold).
    const before = await runDays(h, org, "2026-02-28", "2026-03-11", "ap@slow.example");
    expect(before.map(([d, l]) => [d, l])).toEqual([
      ["2026-03-02", 1], // -3 was Sunday 1 March: Monday
      ["2026-03-05", 2], // +1
      ["2026-03-11", 3], // +7
    ]);
    expect(before[2]![2]).toBe("Second reminder: £120.00 overdue to Acme Supplies Ltd");

    // The owner inserts a +3 level before +7 and removes +14: +7 moves from position 3 to 4, the final notice
    // stays at 5. Keyed by position, the +7 "Second reminder" would go out again as "level 4".
    const edited: PolicyLevelsInput = [
      level(-3),
      level(1),
      { offsetDays: 3, template: "overdue", name: "Gentle nudge" },
      level(7),
      level(30),
      level(45),
    ];
    await upsertPolicy(store.db, org.id, DEFAULT_POLICY_NAME, edited, Date.parse("2026-03-11T16:00:00Z"));

    const after = await runDays(h, org, "2026-03-12", "2026-04-21", "ap@slow.example");
    expect(after).toEqual([
      // +30 is Good Friday 3 April; Easter Monday is a holiday too: Tuesday. Now level 5 of the edited policy.
      ["2026-04-07", 5, "Final notice: £120.00 overdue to Acme Supplies Ltd"],
      // +45 is Saturday 18 April: Monday.
      ["2026-04-20", 6, "Your account with Acme Supplies Ltd is on hold"],
    ]);
    expect(fake.calls.map((x) => x.action)).toEqual(["place"]);
    const customerMail = inbox.messages.filter((m) => m.envelope.to[0] === "ap@slow.example");
    expect(
      customerMail.map((m) => m.parsed.subject).filter((s) => s?.startsWith("Second reminder")),
    ).toHaveLength(1);
    expect(
      (await remindersFor(store.db, org.id))
        .sort((a, b) => a.offsetDays - b.offsetDays)
        .map((r) => [r.offsetDays, r.level, r.template, r.status]),
    ).toEqual([
      [-3, 1, "courtesy", "sent"],
      [1, 2, "overdue", "sent"],
      [7, 3, "firm", "sent"],
      [30, 5, "final", "sent"],
      [45, 6, "credit-hold", "sent"],
    ]);
    await h.close();
    await store.close();
  });

  it("sends a level inserted past the last one sent, even when removals move the sent level down", async () => {
    inbox.clear();
    const store = testStore();
    const h = harness(store, inbox, "2026-03-05T09:30:00Z");
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org, { emails: ["ap@late.example"] });
    await makeInvoice(store, org, c.externalId, { issueDate: "2026-02-02", dueDate: "2026-03-04" });

    // First seen at +1: level 2 ("overdue"); then +7 (level 3) on Wednesday 11 March.
    const before = await runDays(h, org, "2026-03-05", "2026-03-11", "ap@late.example");
    expect(before.map(([d, l]) => [d, l])).toEqual([
      ["2026-03-05", 2],
      ["2026-03-11", 3],
    ]);

    // The owner drops the courtesy note and +1, and adds +10 and +21: +7 is now level 1 and +10 level 2. Keyed by
    // position, claimed "level 3" would swallow +10 and +14 and the next email would be +21.
    const edited: PolicyLevelsInput = [
      level(7),
      { offsetDays: 10, template: "firm", name: "Second look" },
      level(14),
      { offsetDays: 21, template: "firmer", name: "Third look" },
      level(30),
    ];
    await upsertPolicy(store.db, org.id, DEFAULT_POLICY_NAME, edited, Date.parse("2026-03-11T16:00:00Z"));

    const after = await runDays(h, org, "2026-03-12", "2026-03-26", "ap@late.example");
    expect(after.map(([d, l]) => [d, l])).toEqual([
      ["2026-03-16", 2], // +10 is Saturday 14 March: Monday
      ["2026-03-18", 3], // +14
      ["2026-03-25", 4], // +21
    ]);
    expect((await remindersFor(store.db, org.id)).map((r) => r.offsetDays).sort((a, b) => a - b)).toEqual([
      1, 7, 10, 14, 21,
    ]);
    await h.close();
    await store.close();
  });
});
