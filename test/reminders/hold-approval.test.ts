/**
 * Safe by default: a customer first seen 60 days overdue is walked through daily runs. The final notice goes
 * first; a hold is proposed only HOLD_NOTICE_DAYS later; it is placed only when a person approves (or, in
 * automatic mode, by the run, still only after the notice); it is announced only once placed; it is released
 * once on payment. A proposal whose customer pays is withdrawn; a dismissed one is not proposed again.
 */

import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { addDays } from "../../src/model";
import { actOnHold } from "../../src/reminders/hold-actions";
import { openingInstant } from "../../src/reminders/run-context";
import { ensureUser, grant } from "../../src/store/accounts";
import { holdEvents } from "../../src/store/hold-events";
import { contactForHold, listHolds } from "../../src/store/holds";
import type { Organisation } from "../../src/store/orgs";
import { saveReminderSettings } from "../../src/store/reminder-settings";
import { auditLog, contacts, holdProposals } from "../../src/store/schema";
import { runCli } from "../support/cli";
import { useTestStore } from "../support/db";
import { useInbox } from "../support/smtp";
import {
  type Harness,
  harness,
  makeCustomer,
  makeInvoice,
  makeOrg,
  payInvoice,
  recordingConnector,
} from "./factories";

const inbox = useInbox();
const store = useTestStore();

const WINDOW = { start: "09:00" };
// Monday 9 March 2026; the invoice fell due 60 days earlier.
const FIRST = "2026-03-09";
const DUE = addDays(FIRST, -60);

/** One run at the opening of `date`'s window, as `remind --as-of date` does. */
function runOn(h: Harness, org: Organisation, date: string) {
  const now = openingInstant(date, WINDOW, org.timezone);
  h.clock.set(now);
  return h.run(org, { at: { kind: "opening", date }, now });
}

async function setup(mode: "approve" | "automatic") {
  const fake = recordingConnector("xero");
  const h = harness(store, inbox, `${FIRST}T09:00:00Z`, { connectorFor: () => fake.connector });
  const org = await makeOrg(store, { provider: "csv" });
  await saveReminderSettings(
    store.db,
    org,
    { ownerEmail: "owner@acme.example", ...(mode === "automatic" ? { holdMode: "automatic" } : {}) },
    0,
  );
  const { user } = await ensureUser(store.db, "bookkeeper@books.example", 0);
  await grant(store.db, user.id, org.id, "bookkeeper", 0);
  const c = await makeCustomer(store, org, { emails: ["ap@late.example"] });
  const inv = await makeInvoice(store, org, c.externalId, { issueDate: addDays(DUE, -30), dueDate: DUE });
  return { fake, h, org, c, inv };
}

const customerMail = () => inbox.messages.filter((m) => m.envelope.to.includes("ap@late.example"));
const holdState = async (id: string) =>
  (await store.db.select().from(contacts).where(eq(contacts.id, id)))[0]!.holdState;

describe("holds need approval and a final notice first", () => {
  it("walks a customer first seen 60 days overdue: notice, proposal 7 days later, approval, announcement, release", async () => {
    const { fake, h, org, c, inv } = await setup("approve");
    const days: [string, string[], string[]][] = [];
    const walk = async (from: string, n: number) => {
      for (let d = 0; d < n; d++) {
        const date = addDays(from, d);
        const r = await runOn(h, org, date);
        const sent = r.emails.filter((e) => e.status === "sent").map((e) => `level ${e.level}`);
        const holds = r.holds.map((x) => x.action);
        if (sent.length || holds.length) days.push([date, sent, holds]);
      }
    };
    await walk(FIRST, 14);
    expect(days).toEqual([
      ["2026-03-09", ["level 5"], []], // the final notice, never skipped, although +45 is long past
      ["2026-03-16", [], ["proposed"]], // HOLD_NOTICE_DAYS (7) after the notice
    ]);
    // Nothing is held, written back or announced without approval, however many runs go by.
    expect(await holdState(c.id)).toBe("none");
    expect(fake.calls).toEqual([]);
    expect(customerMail().map((m) => m.parsed.subject)).toEqual([
      "Final notice: £120.00 overdue to Acme Supplies Ltd",
    ]);
    const first = customerMail()[0]!.parsed.text ?? "";
    expect(first).toMatch(/Our records show £120\.00 unpaid, the oldest amount now 60 days overdue/);
    expect(first).toMatch(/within 7 days/);
    // The owner and the bookkeeper are told, with a link to approve or dismiss.
    const notice = inbox.messages.filter((m) => m.parsed.subject?.startsWith("Credit hold proposed"));
    expect(notice).toHaveLength(1);
    expect([...notice[0]!.envelope.to].sort()).toEqual(["bookkeeper@books.example", "owner@acme.example"]);
    expect(notice[0]!.parsed.text).toContain(`https://creditpulse.example/orgs/${org.slug}/holds`);
    const listed = await listHolds(store.db, org.id, "2026-03-22");
    expect(listed.proposed.map((p) => [p.externalId, p.overdue])).toEqual([
      [c.externalId, [{ currency: "GBP", minor: 120_00 }]],
    ]);

    // A person approves: placed, written back through the connector, audited with who did it.
    const contact = (await contactForHold(store.db, org.id, c.externalId))!;
    const approved = await actOnHold(
      h.deps,
      org,
      contact,
      "approve",
      { actor: "user:u1", who: "bookkeeper@books.example" },
      h.clock.now(),
    );
    expect(approved.hold_state).toBe("on_hold");
    expect(await holdState(c.id)).toBe("on_hold");
    expect(fake.calls.map((x) => x.action)).toEqual(["place"]);
    const placedBy = await store.db.select().from(auditLog).where(eq(auditLog.action, "credit_hold.placed"));
    expect(placedBy.map((a) => a.actor)).toEqual(["user:u1"]);

    // Only now is the hold announced to the customer (next run in the window), once.
    days.length = 0;
    await walk("2026-03-23", 3);
    expect(days).toEqual([["2026-03-23", ["level 6"], []]]);
    expect(customerMail().at(-1)?.parsed.subject).toBe("Your account with Acme Supplies Ltd is on hold");

    // Payment: released once, written back once.
    await payInvoice(store, org, inv, "2026-03-26");
    days.length = 0;
    await walk("2026-03-26", 4);
    expect(days).toEqual([["2026-03-26", [], ["released"]]]);
    expect(fake.calls.map((x) => x.action)).toEqual(["place", "release"]);
    expect(await holdState(c.id)).toBe("none");
    await h.close();
  });

  it("automatic mode places without approval, but still only HOLD_NOTICE_DAYS after the final notice", async () => {
    const { fake, h, org, c, inv } = await setup("automatic");
    const days: [string, string[], string[]][] = [];
    for (let d = 0; d < 10; d++) {
      const date = addDays(FIRST, d);
      const r = await runOn(h, org, date);
      const sent = r.emails.filter((e) => e.status === "sent").map((e) => `level ${e.level}`);
      if (sent.length || r.holds.length) days.push([date, sent, r.holds.map((x) => x.action)]);
    }
    expect(days).toEqual([
      ["2026-03-09", ["level 5"], []],
      ["2026-03-16", ["level 6"], ["placed"]],
    ]);
    expect(fake.calls.map((x) => x.action)).toEqual(["place"]);
    expect(await holdState(c.id)).toBe("on_hold");
    await payInvoice(store, org, inv, "2026-03-19");
    expect((await runOn(h, org, "2026-03-19")).holds).toEqual([
      { customer_id: c.externalId, action: "released" },
    ]);
    expect((await runOn(h, org, "2026-03-20")).holds).toEqual([]);
    await h.close();
  });

  it("withdraws a proposal whose customer pays; a dismissed proposal is not proposed again", async () => {
    const { fake, h, org, c, inv } = await setup("approve");
    await runOn(h, org, FIRST);
    expect((await runOn(h, org, "2026-03-16")).holds).toEqual([
      { customer_id: c.externalId, action: "proposed" },
    ]);
    await payInvoice(store, org, inv, "2026-03-17");
    expect((await runOn(h, org, "2026-03-17")).holds).toEqual([
      { customer_id: c.externalId, action: "withdrawn" },
    ]);
    expect((await store.db.select().from(holdProposals)).map((p) => p.status)).toEqual(["withdrawn"]);
    expect(fake.calls).toEqual([]);

    // Another customer: proposed, dismissed by a person, then never proposed again for the same notice.
    const d = await makeCustomer(store, org, { emails: ["ap@other.example"] });
    await makeInvoice(store, org, d.externalId, { dueDate: addDays("2026-03-18", -50) });
    await runOn(h, org, "2026-03-18");
    expect((await runOn(h, org, "2026-03-25")).holds).toEqual([
      { customer_id: d.externalId, action: "proposed" },
    ]);
    const dc = (await contactForHold(store.db, org.id, d.externalId))!;
    await actOnHold(
      h.deps,
      org,
      dc,
      "dismiss",
      { actor: "user:u2", who: "owner@acme.example" },
      h.clock.now(),
    );
    for (const date of ["2026-03-26", "2026-03-27", "2026-03-30"])
      expect((await runOn(h, org, date)).holds).toEqual([]);
    expect(await holdEvents(store.db, org.id)).toEqual([]);
    await h.close();
  });

  it("CLI: lists holds and approves, places and releases by hand, with clear errors", async () => {
    const { h, org, c } = await setup("approve");
    await runOn(h, org, FIRST);
    await runOn(h, org, "2026-03-16");
    const clock = h.clock;
    const list = await runCli(["holds", "--org", org.slug, "--json"], store, clock);
    expect(list.code).toBe(0);
    const json = JSON.parse(list.stdout) as Record<string, { customer_id: string; overdue: unknown }[]>;
    expect(json.proposed?.map((p) => [p.customer_id, p.overdue])).toEqual([
      [c.externalId, [{ currency: "GBP", amount: 120_00 }]],
    ]);
    expect(json.active).toEqual([]);
    const approve = await runCli(
      ["holds", "approve", "--org", org.slug, "--customer", c.externalId, "--json"],
      store,
      clock,
    );
    expect(approve.code).toBe(0);
    expect(JSON.parse(approve.stdout)).toMatchObject({ action: "approve", hold_state: "on_hold" });
    const again = await runCli(
      ["holds", "approve", "--org", org.slug, "--customer", c.externalId],
      store,
      clock,
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no proposed credit hold/);
    const release = await runCli(
      ["holds", "release", "--org", org.slug, "--customer", c.externalId, "--reason", "agreed a plan"],
      store,
      clock,
    );
    expect(release.stdout).toMatch(/released/);
    const other = await makeCustomer(store, org, { emails: [] });
    const place = await runCli(
      ["holds", "place", "--org", org.slug, "--customer", other.externalId],
      store,
      clock,
    );
    expect(place.code).toBe(0);
    // A hold placed by hand stays, although nothing is overdue: only a person releases it.
    expect((await runOn(h, org, "2026-03-17")).holds).toEqual([]);
    expect(await holdState(other.id)).toBe("on_hold");
    const text = await runCli(["holds", "--org", org.slug], store, clock);
    expect(text.stdout).toMatch(/On hold: 1/);
    expect(text.stdout).toMatch(/Released: 1/);
    const bad = await runCli(["holds", "freeze", "--org", org.slug, "--customer", "X"], store, clock);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown holds action "freeze"/);
    const reasons = (await holdEvents(store.db, org.id)).map((e) => [e.action, e.reason, e.actor]);
    expect(reasons).toEqual([
      ["place", "an invoice reached the credit-hold level after the final notice period", "cli"],
      ["release", "released by hand by the command line: agreed a plan", "cli"],
      ["place", "placed by hand by the command line", "cli"],
    ]);
    await h.close();
  });
});
