/**
 * A budgeted remind message (Workers: REMIND_EMAILS_PER_MESSAGE) counts its start-of-run work too: claims left
 * by a stopped run, unfinished hold write-backs and owner notices. When they use the budget, the run continues
 * in the next message from where that work stopped, and only then reaches the customers. Each item is done once
 * across the messages, the owner notices and reminders reach a real SMTP server once each, and a notice that
 * fails again is not retried within the same tick (the chain ends).
 */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { handleJob, type JobMessage } from "../../src/jobs";
import type { Store } from "../../src/store/db";
import { newId } from "../../src/store/ids";
import type { Organisation } from "../../src/store/orgs";
import { auditLog, creditHolds, reminders } from "../../src/store/schema";
import { testDeps } from "../support/deps";
import { useInbox } from "../support/smtp";
import { makeCustomer, makeInvoice, makeOrg, TEST_ENV } from "./factories";

// Tuesday 10 March 2026, 10:00 in London (GMT).
const TUESDAY_10AM = "2026-03-10T10:00:00Z";
const AT = Date.parse(TUESDAY_10AM);
const OWNER = "owner@acme.example";
const BUDGET = 3;

const inbox = useInbox();

async function backlog(store: Store, org: Organisation) {
  // 6 claims a stopped run left "claimed" an hour ago, on invoices not yet due (nothing else to send them).
  for (let i = 0; i < 6; i++) {
    const c = await makeCustomer(store, org);
    const inv = await makeInvoice(store, org, c.externalId, { dueDate: "2026-04-30" });
    const [row] = await store.db.query.invoices.findMany({
      where: (t, { and, eq }) => and(eq(t.orgId, org.id), eq(t.externalId, inv.externalId)),
    });
    await store.db.insert(reminders).values({
      id: newId("rem"),
      orgId: org.id,
      contactId: c.id,
      invoiceId: row!.id,
      level: 1,
      offsetDays: 7,
      template: "friendly",
      policyId: "builtin-standard",
      emailId: newId("eml"),
      status: "claimed",
      attempts: 1,
      claimedAt: AT - 3_600_000,
      updatedAt: AT - 3_600_000,
    });
  }
  // 5 hold events whose owner notice a stopped run never sent.
  for (let i = 0; i < 5; i++) {
    const c = await makeCustomer(store, org);
    await store.db.insert(creditHolds).values({
      id: newId("hld"),
      orgId: org.id,
      contactId: c.id,
      action: "place",
      reason: "over the credit limit",
      at: AT - 7_200_000,
      writebackStatus: "not_applicable",
      ownerNotice: "pending",
    });
  }
  // 4 customers with a reminder due now.
  const due: string[] = [];
  for (let i = 0; i < 4; i++) {
    const c = await makeCustomer(store, org);
    await makeInvoice(store, org, c.externalId, { dueDate: "2026-02-20" });
    due.push(`${c.externalId.toLowerCase()}@customer.example`);
  }
  return due.sort();
}

async function reviewAudits(store: Store, orgId: string) {
  return store.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, orgId), eq(auditLog.action, "reminder.needs_review")));
}

/** Handles the chain of remind messages one at a time, as the queue consumer does; what each one did. */
async function drain(deps: Deps, orgId: string) {
  const parts: { msg: JobMessage; actions: number }[] = [];
  let next: JobMessage[] = [{ job: "remind", orgId, at: AT }];
  while (next.length) {
    expect(next).toHaveLength(1);
    expect(parts.length).toBeLessThan(20);
    const mailsBefore = inbox.messages.length;
    const auditsBefore = (await reviewAudits(deps.store, orgId)).length;
    const msg = next[0]!;
    next = await handleJob(deps, msg, { remindActionsPerMessage: BUDGET });
    const actions =
      inbox.messages.length - mailsBefore + (await reviewAudits(deps.store, orgId)).length - auditsBefore;
    parts.push({ msg, actions });
  }
  return parts;
}

describe("the start of a budgeted reminder run", () => {
  it("spreads stale claims and unfinished owner notices over messages within the budget, then the customers", async () => {
    const deps = await testDeps({
      env: { ...TEST_ENV, SMTP_URL: inbox.url, OWNER_EMAIL: OWNER },
      now: TUESDAY_10AM,
    });
    const org = await makeOrg(deps.store);
    const due = await backlog(deps.store, org);

    const parts = await drain(deps, org.id);
    // 6 claims + 5 notices + 4 reminders = 15 actions, 3 a message: 5 messages, none over the budget.
    expect(parts.map((p) => p.actions)).toEqual([3, 3, 3, 3, 3]);
    expect(parts.map((p) => (p.msg.job === "remind" ? (p.msg.part ?? 0) : -1))).toEqual([0, 1, 2, 3, 4]);
    expect(parts.every((p) => p.msg.job === "remind" && p.msg.at === AT)).toBe(true);
    // The third message stopped inside the owner notices and said where the fourth picks them up.
    const fourth = parts[3]!.msg as Extract<JobMessage, { job: "remind" }>;
    expect(fourth.resumeStart?.holdsAfter).toMatch(/^hld/);
    expect(fourth.resumeAfter).toBeUndefined();

    // Each stale claim flagged once, each owner notice and each reminder delivered once.
    expect(await reviewAudits(deps.store, org.id)).toHaveLength(6);
    const claimed = await deps.store.db.select().from(reminders).where(eq(reminders.status, "claimed"));
    expect(claimed).toEqual([]);
    const toOwner = inbox.messages.filter((m) => m.envelope.to.includes(OWNER));
    expect(toOwner).toHaveLength(5);
    expect(new Set(toOwner.map((m) => m.parsed.messageId)).size).toBe(5);
    const notices = await deps.store.db.select().from(creditHolds).where(eq(creditHolds.orgId, org.id));
    expect(notices.map((n) => n.ownerNotice)).toEqual(Array(5).fill("sent"));
    const toCustomers = inbox.messages.flatMap((m) => m.envelope.to).filter((t) => t !== OWNER);
    expect(toCustomers.sort()).toEqual(due);

    // A fresh run at the same instant finds nothing left to do.
    const before = inbox.messages.length;
    expect(
      await handleJob(deps, { job: "remind", orgId: org.id, at: AT }, { remindActionsPerMessage: BUDGET }),
    ).toEqual([]);
    expect(inbox.messages.length).toBe(before);
  });

  it("a notice refused again is tried once in the tick, and the chain still ends", async () => {
    const deps = await testDeps({
      env: { ...TEST_ENV, SMTP_URL: inbox.url, OWNER_EMAIL: OWNER },
      now: TUESDAY_10AM,
    });
    const org = await makeOrg(deps.store);
    await backlog(deps.store, org);
    inbox.failWith(451); // every recipient refused for now: notices stay "failed", reminders "failed"

    const parts = await drain(deps, org.id);
    expect(parts.length).toBeLessThanOrEqual(6);
    const notices = await deps.store.db.select().from(creditHolds).where(eq(creditHolds.orgId, org.id));
    expect(notices.map((n) => n.ownerNotice)).toEqual(Array(5).fill("failed"));
    const failedNotices = await deps.store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, org.id), eq(auditLog.action, "credit_hold.owner_notice_failed")));
    expect(failedNotices).toHaveLength(5); // once each, not again by a continuation
    expect(inbox.messages).toEqual([]);
  });
});
