import { describe, expect, it } from "vitest";
import { addDays } from "../../src/model";
import { remindersFor } from "../../src/store/claims";
import { holdEvents } from "../../src/store/hold-events";
import { saveReminderSettings } from "../../src/store/reminder-settings";
import { testStore } from "../support/db";
import { useInbox } from "../support/smtp";
import { harness, makeCustomer, makeInvoice, makeOrg, payInvoice, recordingConnector } from "./factories";

const inbox = useInbox();

describe("escalation day by day", () => {
  it("walks 70 days forward, sending each level exactly once on the right working day, then holds and releases", async () => {
    inbox.clear();
    const store = testStore();
    const fake = recordingConnector();
    const h = harness(store, inbox, "2026-02-20T09:30:00Z", { connectorFor: () => fake.connector });
    const org = await makeOrg(store);
    await saveReminderSettings(store.db, org, { ownerEmail: "owner@acme.example", holdMode: "automatic" }, 0);
    const c = await makeCustomer(store, org, { emails: ["ap@slow.example"] });
    // Due Wednesday 4 March 2026: +30 falls on Good Friday, +45 on a Saturday.
    const inv = await makeInvoice(store, org, c.externalId, {
      issueDate: "2026-02-02",
      dueDate: "2026-03-04",
    });

    const sentOn: [string, number][] = [];
    const holdsOn: [string, string][] = [];
    for (let day = 0; day < 70; day++) {
      const date = addDays("2026-02-20", day);
      if (date === "2026-04-22") await payInvoice(store, org, inv, date);
      // Two runs a day (morning and afternoon, London time), as the hourly job would.
      for (const hour of ["09:30", "15:30"]) {
        h.clock.set(Date.parse(`${date}T${hour}:00${date >= "2026-03-29" ? "+01:00" : "Z"}`));
        const r = await h.run(org);
        for (const e of r.emails) if (e.status === "sent") sentOn.push([date, e.level]);
        for (const x of r.holds) holdsOn.push([date, x.action]);
        expect(r.emails.every((e) => e.status !== "failed")).toBe(true);
      }
    }

    expect(sentOn).toEqual([
      ["2026-03-02", 1], // -3 was Sunday 1 March: Monday
      ["2026-03-05", 2], // +1
      ["2026-03-11", 3], // +7
      ["2026-03-18", 4], // +14
      ["2026-04-07", 5], // +30 is Good Friday; Easter Monday is a holiday too: Tuesday
      ["2026-04-20", 6], // +45 is Saturday 18 April: Monday
    ]);
    expect(holdsOn).toEqual([
      ["2026-04-18", "placed"], // the hold follows the money, not the sending window
      ["2026-04-22", "released"],
    ]);
    const customerMail = inbox.messages.filter((m) => m.envelope.to[0] === "ap@slow.example");
    expect(customerMail.map((m) => m.parsed.subject)).toEqual([
      `Invoice ${inv.number} is due on 4 Mar 2026`,
      `Invoice ${inv.number} is now overdue`,
      "Second reminder: £120.00 overdue to Acme Supplies Ltd",
      "Payment required: £120.00 overdue to Acme Supplies Ltd",
      "Final notice: £120.00 overdue to Acme Supplies Ltd",
      "Your account with Acme Supplies Ltd is on hold",
    ]);
    const ownerMail = inbox.messages.filter((m) => m.envelope.to[0] === "owner@acme.example");
    expect(ownerMail.map((m) => m.parsed.subject)).toEqual([
      `Credit hold placed: Customer ${c.externalId}`,
      `Credit hold released: Customer ${c.externalId}`,
    ]);
    expect(fake.calls.map((x) => x.action)).toEqual(["place", "release"]);
    expect((await remindersFor(store.db, org.id)).map((r) => [r.level, r.status])).toEqual([
      [1, "sent"],
      [2, "sent"],
      [3, "sent"],
      [4, "sent"],
      [5, "sent"],
      [6, "sent"],
    ]);
    expect(
      (await holdEvents(store.db, org.id)).map((e) => [e.action, e.writebackStatus, e.ownerNotice]),
    ).toEqual([
      ["place", "written", "sent"],
      ["release", "written", "sent"],
    ]);
    await h.close();
    await store.close();
  });
});
