import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { holdEvents } from "../../src/store/hold-events";
import { saveReminderSettings } from "../../src/store/reminder-settings";
import { auditLog, contacts } from "../../src/store/schema";
import { useTestStore } from "../support/db";
import { useInbox } from "../support/smtp";
import { harness, makeCustomer, makeInvoice, makeOrg, payInvoice, recordingConnector } from "./factories";

const HOUR = 3_600_000;
// Tuesday 10 March 2026, 10:00 London.
const START = "2026-03-10T10:00:00Z";

const inbox = useInbox();
const store = useTestStore();

const DAY = 24 * HOUR;

/** Automatic mode, and the final notice sent 8 days before START (Monday 2 March), as the rule asks. */
async function finalNoticeFirst(h: ReturnType<typeof harness>, org: Awaited<ReturnType<typeof makeOrg>>) {
  await saveReminderSettings(store.db, org, { holdMode: "automatic" }, 0);
  h.clock.set(Date.parse(START) - 8 * DAY);
  const r = await h.run(org);
  expect(r.emails.map((e) => [e.level, e.status])).toEqual([[5, "sent"]]);
  expect(r.holds).toEqual([]);
  h.clock.set(Date.parse(START));
}

async function holdState(contactId: string) {
  const [c] = await store.db.select().from(contacts).where(eq(contacts.id, contactId));
  return c!.holdState;
}

describe("credit holds", () => {
  it("places a hold at its level and releases it on payment, exactly once each, through the connector", async () => {
    const fake = recordingConnector();
    const h = harness(store, inbox, START, { connectorFor: () => fake.connector });
    const org = await makeOrg(store);
    await saveReminderSettings(store.db, org, { ownerEmail: "owner@acme.example" }, 0);
    const c = await makeCustomer(store, org);
    const inv = await makeInvoice(store, org, c.externalId, { dueDate: "2026-01-20" }); // +49
    await finalNoticeFirst(h, org);
    const first = await h.run(org);
    expect(first.holds).toEqual([{ customer_id: c.externalId, action: "placed" }]);
    expect(await holdState(c.id)).toBe("on_hold");
    for (let i = 0; i < 3; i++) {
      h.clock.advance(HOUR);
      expect((await h.run(org)).holds).toEqual([]);
    }
    await payInvoice(store, org, inv, "2026-03-10");
    h.clock.advance(HOUR);
    expect((await h.run(org)).holds).toEqual([{ customer_id: c.externalId, action: "released" }]);
    h.clock.advance(HOUR);
    expect((await h.run(org)).holds).toEqual([]);
    expect(await holdState(c.id)).toBe("none");

    expect(fake.calls.map((x) => [x.action, x.hold.contactExternalId])).toEqual([
      ["place", c.externalId],
      ["release", c.externalId],
    ]);
    expect(fake.calls[0]?.hold.note).toMatch(
      /^Credit hold placed by Creditpulse on 2026-03-10: an invoice reached/,
    );
    const owner = inbox.messages.filter((m) => m.envelope.to[0] === "owner@acme.example");
    expect(owner.map((m) => m.parsed.subject)).toEqual([
      `Credit hold placed: Customer ${c.externalId}`,
      `Credit hold released: Customer ${c.externalId}`,
    ]);
    expect(owner[0]?.parsed.text).toContain(inv.number);
    const actions = (await store.db.select().from(auditLog).where(eq(auditLog.contactId, c.id))).map(
      (a) => a.action,
    );
    expect(actions.filter((a) => a.startsWith("credit_hold"))).toEqual([
      "credit_hold.placed",
      "credit_hold.written_back",
      "credit_hold.owner_notified",
      "credit_hold.released",
      "credit_hold.written_back",
      "credit_hold.owner_notified",
    ]);
    await h.close();
  });

  it("keeps the hold when the ledger write-back fails, and retries the write-back on the next run", async () => {
    const fake = recordingConnector();
    fake.failTimes(1);
    const h = harness(store, inbox, START, { connectorFor: () => fake.connector });
    const org = await makeOrg(store);
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-01-20" });
    await finalNoticeFirst(h, org);
    expect((await h.run(org)).holds).toEqual([{ customer_id: c.externalId, action: "placed" }]);
    expect(await holdState(c.id)).toBe("on_hold");
    expect((await holdEvents(store.db, org.id)).map((e) => e.writebackStatus)).toEqual(["failed"]);
    h.clock.advance(HOUR);
    expect((await h.run(org)).holds).toEqual([]);
    expect((await holdEvents(store.db, org.id)).map((e) => [e.writebackStatus, e.writebackAttempts])).toEqual(
      [["written", 2]],
    );
    expect(fake.calls.map((x) => x.action)).toEqual(["place"]);
    const failed = await store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.contactId, c.id), eq(auditLog.action, "credit_hold.writeback_failed")));
    expect(failed).toHaveLength(1);
    await h.close();
  });

  it("records the hold in the store alone for a CSV ledger, and tells a demo organisation's placeholder owner", async () => {
    const h = harness(store, inbox, START);
    const org = await makeOrg(store, { isDemo: true });
    const c = await makeCustomer(store, org, { creditLimitMinor: 100_00 });
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-04-30", totalMinor: 500_00 }); // not due, over limit
    await saveReminderSettings(store.db, org, { holdMode: "automatic" }, 0);
    // Over the limit but never warned: no hold by surprise.
    expect((await h.run(org)).holds).toEqual([]);
    const late = await makeCustomer(store, org, { creditLimitMinor: 100_00 });
    await makeInvoice(store, org, late.externalId, { dueDate: "2026-01-20", totalMinor: 50_00 });
    await makeInvoice(store, org, late.externalId, { dueDate: "2026-04-30", totalMinor: 500_00 });
    await finalNoticeFirst(h, org);
    inbox.clear();
    expect((await h.run(org)).holds).toEqual([{ customer_id: late.externalId, action: "placed" }]);
    const [ev] = await holdEvents(store.db, org.id);
    expect(ev).toMatchObject({
      writebackStatus: "not_applicable",
      ownerNotice: "sent",
      reason: "an invoice reached the credit-hold level after the final notice period",
    });
    expect(inbox.messages.map((m) => m.envelope.to[0]).sort()).toEqual([
      `${late.externalId.toLowerCase()}@customer.example`,
      "owner@demo.example",
    ]);
    await h.close();
  });

  it("never loses a hold when the ledger's connector is missing or refuses: the write-back waits for retry", async () => {
    const h = harness(store, inbox, START);
    const org = await makeOrg(store, { provider: "xero" });
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-01-20" });
    await finalNoticeFirst(h, org);
    await h.run(org);
    expect(await holdState(c.id)).toBe("on_hold");
    const [ev] = await holdEvents(store.db, org.id);
    expect(ev?.writebackStatus).toBe("failed");
    await h.close();
  });
});
