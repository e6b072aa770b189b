/**
 * A mail server that receives a whole message and then drops the connection (or never answers) may have
 * delivered it: the outcome is unknown, so the email is left for review and never sent again automatically.
 * Reminders, owner notices of credit holds and digests alike; the weekly digest lists what is left for review.
 */

import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import { runDigest } from "../../src/digest/send";
import { classifySendError } from "../../src/mail/mailer";
import { createSmtpMailer } from "../../src/mail/smtp-mailer";
import { ensureUser, grant } from "../../src/store/accounts";
import { remindersFor } from "../../src/store/claims";
import type { Store } from "../../src/store/db";
import { holdEvents } from "../../src/store/hold-events";
import { saveReminderSettings } from "../../src/store/reminder-settings";
import { auditLog, digestDeliveries } from "../../src/store/schema";
import {
  harness,
  makeCustomer,
  makeInvoice,
  makeOrg,
  recordingConnector,
  testConfig,
} from "../reminders/factories";
import { testStore } from "../support/db";
import { testDeps } from "../support/deps";
import { startInbox, type TestInbox } from "../support/smtp";

const HOUR = 3_600_000;
// Tuesday 10 March 2026, 10:00 in London.
const START = "2026-03-10T10:00:00Z";

let inbox: TestInbox;
let store: Store;
beforeAll(async () => {
  inbox = await startInbox();
});
afterAll(async () => {
  await inbox.close();
});
beforeEach(() => {
  inbox.clear();
  inbox.misbehave(null);
  inbox.failWith(null);
  store = testStore();
});
afterEach(async () => {
  await store.close();
});

const mail = (to: string) => ({
  from: "ar@acme.example",
  to: [to],
  subject: "Hello",
  html: "<p>Hello</p>",
  text: "Hello",
  messageId: `<m-${Math.random().toString(36).slice(2)}@acme.example>`,
  date: new Date(Date.parse(START)),
});

describe("security: SMTP outcomes", () => {
  it("classes a connection dropped after the whole message as unknown, and one dropped before it as retry", async () => {
    const mailer = createSmtpMailer({ url: inbox.url, timeoutMs: 2_000 });
    try {
      inbox.misbehave("drop");
      const dropped = await mailer.send(mail("a@x.example")).catch((e: unknown) => e);
      expect(classifySendError(dropped)).toBe("unknown");
      expect(inbox.messages).toHaveLength(1);

      inbox.misbehave("drop-at-rcpt");
      const early = await mailer.send(mail("b@x.example")).catch((e: unknown) => e);
      expect(classifySendError(early)).toBe("retry");
      expect(inbox.messages).toHaveLength(1);

      inbox.misbehave(null);
      await mailer.send(mail("c@x.example"));
      expect(inbox.messages).toHaveLength(2);
    } finally {
      await mailer.close();
    }
  });

  it("classes a timeout waiting for the final reply as unknown", async () => {
    const mailer = createSmtpMailer({ url: inbox.url, timeoutMs: 400 });
    try {
      inbox.misbehave("silent");
      const err = await mailer.send(mail("a@x.example")).catch((e: unknown) => e);
      expect(String(err)).toMatch(/Timeout/i);
      expect(classifySendError(err)).toBe("unknown");
      expect(inbox.messages).toHaveLength(1);
    } finally {
      await mailer.close();
    }
  });

  it("delivers a reminder dropped after DATA once and resends it in none of three runs (left for review)", async () => {
    const h = harness(store, inbox, START);
    try {
      const org = await makeOrg(store);
      const c = await makeCustomer(store, org, { emails: ["ap@customer.example"] });
      await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
      inbox.misbehave("drop");
      const first = await h.run(org);
      expect(first.emails[0]).toMatchObject({
        status: "failed",
        reason: expect.stringMatching(/outcome unknown/),
      });
      // The server answers again: nothing is resent, run after run.
      inbox.misbehave(null);
      for (let i = 0; i < 3; i++) {
        h.clock.advance(HOUR);
        const again = await h.run(org);
        expect(again.emails.filter((e) => e.status === "sent")).toEqual([]);
      }
      expect(inbox.messages).toHaveLength(1);
      expect(inbox.messages[0]!.envelope.to).toEqual(["ap@customer.example"]);
      const rows = await remindersFor(store.db, org.id);
      expect(rows.map((r) => r.status)).toEqual(["needs_review"]);
      const audits = await store.db.select().from(auditLog).where(eq(auditLog.orgId, org.id));
      expect(audits.filter((a) => a.action === "reminder.needs_review")).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it("still retries a reminder whose connection dropped before the message was sent", async () => {
    const h = harness(store, inbox, START);
    try {
      const org = await makeOrg(store);
      const c = await makeCustomer(store, org, { emails: ["ap@customer.example"] });
      await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
      inbox.misbehave("drop-at-rcpt");
      expect((await h.run(org)).emails[0]).toMatchObject({
        status: "failed",
        reason: expect.stringMatching(/next run retries/),
      });
      inbox.misbehave(null);
      for (let i = 0; i < 3; i++) {
        h.clock.advance(HOUR);
        await h.run(org);
      }
      expect(inbox.messages).toHaveLength(1);
      expect((await remindersFor(store.db, org.id)).map((r) => r.status)).toEqual(["sent"]);
    } finally {
      await h.close();
    }
  });

  it("leaves a credit-hold notice to the owner for review, never resent", async () => {
    const fake = recordingConnector();
    const h = harness(store, inbox, START, { connectorFor: () => fake.connector });
    try {
      const org = await makeOrg(store);
      await saveReminderSettings(
        store.db,
        org,
        { ownerEmail: "owner@acme.example", holdMode: "automatic" },
        0,
      );
      const c = await makeCustomer(store, org, { emails: ["ap@customer.example"] });
      await makeInvoice(store, org, c.externalId, { dueDate: "2026-01-20" }); // 49 days overdue: hold level
      // The final notice first, 8 days before (a hold needs it: HOLD_NOTICE_DAYS).
      h.clock.set(Date.parse(START) - 8 * 24 * HOUR);
      await h.run(org);
      h.clock.set(Date.parse(START));
      inbox.clear();
      inbox.misbehave("drop");
      expect((await h.run(org)).holds).toEqual([{ customer_id: c.externalId, action: "placed" }]);
      inbox.misbehave(null);
      for (let i = 0; i < 3; i++) {
        h.clock.advance(HOUR);
        await h.run(org);
      }
      const toOwner = inbox.messages.filter((m) => m.envelope.to.includes("owner@acme.example"));
      expect(toOwner).toHaveLength(1);
      const [ev] = await holdEvents(store.db, org.id);
      expect(ev!.ownerNotice).toBe("needs_review");
      const audits = await store.db.select().from(auditLog).where(eq(auditLog.orgId, org.id));
      expect(audits.map((a) => a.action)).toContain("credit_hold.owner_notice_needs_review");
    } finally {
      await h.close();
    }
  });

  it("leaves a digest dropped after DATA for review (sent once over three runs) and lists emails left for review", async () => {
    const clock = fixedClock(START);
    const deps = await testDeps({
      store,
      clock,
      config: testConfig(inbox, { PUBLIC_URL: "https://cp.example.com" }),
    });
    // A reminder left for review in the organisation the bookkeeper looks after.
    const h = harness(store, inbox, START);
    const org = await makeOrg(store);
    try {
      const c = await makeCustomer(store, org, { emails: ["ap@customer.example"] });
      await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
      inbox.misbehave("drop");
      await h.run(org);
    } finally {
      await h.close();
    }
    const { user } = await ensureUser(store.db, "bk@example.com", clock.now());
    await grant(store.db, user.id, org.id, "bookkeeper", clock.now());

    inbox.clear();
    const first = await runDigest(deps, { now: clock.now() });
    expect(first[0]).toMatchObject({ status: "failed", reason: expect.stringMatching(/outcome unknown/) });
    inbox.misbehave(null);
    for (let i = 0; i < 3; i++) {
      clock.advance(HOUR);
      expect((await runDigest(deps, { now: clock.now() }))[0]?.status).toBe("skipped");
    }
    expect(inbox.messages).toHaveLength(1);
    const text = inbox.messages[0]!.parsed.text ?? "";
    expect(text).toMatch(/Left for review: 1 email\(s\) whose delivery is unknown/);
    expect(text).toContain(`https://cp.example.com/orgs/${org.slug}/reminders`);
    const [row] = await store.db.select().from(digestDeliveries);
    expect(row!.status).toBe("needs_review");

    // A digest the server certainly did not take is sent by the next run.
    inbox.clear();
    await store.db.delete(digestDeliveries);
    inbox.misbehave("drop-at-rcpt");
    expect((await runDigest(deps, { now: clock.now() }))[0]?.reason).toMatch(/next run retries/);
    inbox.misbehave(null);
    expect((await runDigest(deps, { now: clock.now() }))[0]?.status).toBe("sent");
    expect(inbox.messages).toHaveLength(1);
  });
});
