/**
 * A reminder run with a budget (Workers: REMIND_EMAILS_PER_MESSAGE) stops between customers and continues in
 * the next run at the same instant. Across the continuation runs every due email goes out exactly once, and the
 * job layer turns "more" into the next remind message.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleInProcess, handleJob, type JobMessage } from "../../src/jobs";
import type { RemindReport } from "../../src/reminders/run-types";
import type { Store } from "../../src/store/db";
import type { Organisation } from "../../src/store/orgs";
import { testStore } from "../support/db";
import { testDeps } from "../support/deps";
import { startInbox, type TestInbox } from "../support/smtp";
import { type Harness, harness, makeCustomer, makeInvoice, makeOrg, payInvoice, TEST_ENV } from "./factories";

// Tuesday 10 March 2026, 10:00 in London (GMT).
const TUESDAY_10AM = "2026-03-10T10:00:00Z";
const CUSTOMERS = 23;

let inbox: TestInbox;
let store: Store;
let h: Harness;

beforeAll(async () => {
  inbox = await startInbox();
});
afterAll(async () => {
  await inbox.close();
});
beforeEach(() => {
  inbox.clear();
  inbox.failWith(null);
});
afterEach(async () => {
  await h?.close();
  await store?.close();
});

async function manyCustomers(s: Store, org: Organisation) {
  const made = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const c = await makeCustomer(s, org);
    const inv = await makeInvoice(s, org, c.externalId, { dueDate: "2026-02-20", totalMinor: 500_00 + i });
    made.push({ ...c, inv });
  }
  return made;
}

const recipients = () => inbox.messages.flatMap((m) => m.envelope.to).sort();

describe("reminder runs with a budget", () => {
  it("sends every due email exactly once across continuation runs, stopping between customers", async () => {
    store = testStore();
    h = harness(store, inbox, TUESDAY_10AM);
    const org = await makeOrg(store);
    const made = await manyCustomers(store, org);
    const expected = made.map((c) => `${c.externalId.toLowerCase()}@customer.example`).sort();

    const reports: RemindReport[] = [];
    let resumeAfter: string | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await h.run(org, { budget: 5, resumeAfter });
      reports.push(r);
      if (!r.more) break;
      expect(r.resumeAfter).toBeDefined();
      if (resumeAfter !== undefined) expect(r.resumeAfter! > resumeAfter).toBe(true);
      resumeAfter = r.resumeAfter;
    }
    // 23 emails, 5 a run: 5 runs, the first four say there is more, the last does not.
    expect(reports.map((r) => r.more)).toEqual([true, true, true, true, false]);
    expect(reports.map((r) => r.emails.filter((e) => e.status === "sent").length)).toEqual([5, 5, 5, 5, 3]);
    expect(reports.at(-1)!.resumeAfter).toBeUndefined();
    const sentTo = reports
      .flatMap((r) => r.emails.filter((e) => e.status === "sent").map((e) => e.to))
      .sort();
    expect(sentTo).toEqual(expected);
    expect(recipients()).toEqual(expected);

    // Nothing is left: a fresh run (no budget) at the same instant sends nothing more.
    const again = await h.run(org);
    expect(again.emails.filter((e) => e.status === "sent")).toEqual([]);
    expect(again.more).toBe(false);
    expect(recipients()).toHaveLength(CUSTOMERS);
  });

  it("re-plans each continuation: an invoice paid between messages is not chased", async () => {
    store = testStore();
    h = harness(store, inbox, TUESDAY_10AM);
    const org = await makeOrg(store);
    const made = await manyCustomers(store, org);
    const first = await h.run(org, { budget: 10 });
    expect(first.more).toBe(true);
    // Paid after the first message, before the continuation: the last customer in id order.
    const last = [...made].sort((a, b) => (a.id < b.id ? -1 : 1)).at(-1)!;
    await payInvoice(store, org, last.inv, "2026-03-10");
    let r = first;
    while (r.more) r = await h.run(org, { budget: 10, resumeAfter: r.resumeAfter });
    expect(recipients()).toHaveLength(CUSTOMERS - 1);
    expect(recipients()).not.toContain(`${last.externalId.toLowerCase()}@customer.example`);
    expect(new Set(recipients()).size).toBe(CUSTOMERS - 1);
  });

  it("the remind job continues in follow-up messages under a limit, and runs to the end in-process on Node", async () => {
    const env = { ...TEST_ENV, SMTP_URL: inbox.url };
    const deps = await testDeps({ env, now: TUESDAY_10AM });
    store = deps.store;
    h = harness(store, inbox, TUESDAY_10AM);
    const org = await makeOrg(store);
    await manyCustomers(store, org);
    const at = Date.parse(TUESDAY_10AM);

    // Workers: one message at a time, each returning its continuation.
    const messages: JobMessage[] = [];
    let next: JobMessage[] = [{ job: "remind", orgId: org.id, at }];
    while (next.length) {
      expect(next).toHaveLength(1);
      messages.push(next[0]!);
      next = await handleJob(deps, next[0]!, { remindActionsPerMessage: 10 });
    }
    expect(messages.map((m) => (m.job === "remind" ? (m.part ?? 0) : -1))).toEqual([0, 1, 2]);
    expect(messages.every((m) => m.job === "remind" && m.at === at && m.orgId === org.id)).toBe(true);
    expect(recipients()).toHaveLength(CUSTOMERS);
    expect(new Set(recipients()).size).toBe(CUSTOMERS);

    // Node (no limits): one message does the whole organisation; nothing is due again at the same instant.
    inbox.clear();
    const org2 = await makeOrg(store);
    await manyCustomers(store, org2);
    expect(await handleInProcess(deps, { job: "remind", orgId: org2.id, at })).toBe(true);
    expect(recipients()).toHaveLength(CUSTOMERS);
    expect(new Set(recipients()).size).toBe(CUSTOMERS);
  });
});
