import { describe, expect, it } from "vitest";
import { type Clock, fixedClock } from "../../src/clock";
import { remindersFor } from "../../src/store/claims";
import { holdEvents } from "../../src/store/hold-events";
import { runCli } from "../support/cli";
import { useTestStore } from "../support/db";
import { useInbox } from "../support/smtp";
import { makeCustomer, makeInvoice, makeOrg, TEST_ENV } from "./factories";

const inbox = useInbox();
const store = useTestStore();

/** The CLI in-process with SMTP settings pointing at the test inbox. */
const cli = (argv: string[], clock: Clock) =>
  runCli(argv, store, clock, { env: { ...TEST_ENV, SMTP_URL: inbox.url } });

async function ledger() {
  const org = await makeOrg(store, { slug: "acme" });
  const a = await makeCustomer(store, org, {
    externalId: "CUST-A",
    name: "Alpha Ltd",
    emails: ["ap@alpha.example"],
  });
  const b = await makeCustomer(store, org, {
    externalId: "CUST-B",
    name: "Beta Ltd",
    emails: ["ap@beta.example"],
  });
  await makeInvoice(store, org, a.externalId, { number: "A-1", dueDate: "2026-03-09" });
  await makeInvoice(store, org, a.externalId, { number: "A-2", dueDate: "2026-03-02" });
  await makeInvoice(store, org, b.externalId, { number: "B-1", dueDate: "2026-01-20" });
  return { org, a, b };
}

// The wall clock is far from these dates: --as-of must not depend on it.
const clock = fixedClock("2026-11-22T03:00:00Z");

describe("remind", () => {
  it("prints the documented JSON and sends as at the opening of the --as-of date's window", async () => {
    const { org } = await ledger();
    const r = await cli(["remind", "--org", "acme", "--as-of", "2026-03-10", "--json"], clock);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      emails: [
        {
          customer_id: "CUST-A",
          to: "ap@alpha.example",
          invoice_numbers: ["A-2", "A-1"],
          level: 3,
          status: "sent",
          reason: null,
        },
        {
          customer_id: "CUST-B",
          to: "ap@beta.example",
          invoice_numbers: ["B-1"],
          level: 5,
          status: "sent",
          reason: null,
        },
      ],
      // B-1 is first seen 49 days overdue: the final notice goes first, no hold without it.
      holds: [],
    });
    expect(inbox.messages.map((m) => m.parsed.date?.toISOString())).toEqual([
      "2026-03-10T09:00:00.000Z",
      "2026-03-10T09:00:00.000Z",
    ]);
    const again = await cli(["remind", "--org", "acme", "--as-of", "2026-03-10", "--json"], clock);
    expect(JSON.parse(again.stdout)).toEqual({ emails: [], holds: [] });
    expect(inbox.messages).toHaveLength(2);
    expect((await remindersFor(store.db, org.id)).length).toBe(3);
  });

  it("sends nothing on a weekend as-of date", async () => {
    await ledger();
    const r = await cli(["remind", "--org", "acme", "--as-of", "2026-03-14", "--json"], clock);
    const out = JSON.parse(r.stdout) as { emails: { status: string; reason: string }[] };
    expect(out.emails.map((e) => [e.status, e.reason])).toEqual([
      ["skipped", "not a sending day (2026-03-14)"],
      ["skipped", "not a sending day (2026-03-14)"],
    ]);
    expect(inbox.messages).toHaveLength(0);
  });

  it("dry-runs without sending, claiming or holding anything", async () => {
    const { org } = await ledger();
    const r = await runCli(
      ["remind", "--org", "acme", "--as-of", "2026-03-10", "--dry-run", "--json"],
      store,
      clock,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { emails: { status: string; reason: string }[]; holds: unknown[] };
    expect(out.emails.map((e) => [e.status, e.reason])).toEqual([
      ["skipped", "dry run: would be sent"],
      ["skipped", "dry run: would be sent"],
    ]);
    expect(out.holds).toEqual([]);
    expect(inbox.messages).toHaveLength(0);
    expect(await remindersFor(store.db, org.id)).toEqual([]);
    expect(await holdEvents(store.db, org.id)).toEqual([]);
  });

  it("refuses to send without SMTP settings, and refuses a malformed date", async () => {
    await ledger();
    const noSmtp = await runCli(["remind", "--org", "acme"], store, clock);
    expect(noSmtp.code).toBe(2);
    expect(noSmtp.stderr).toMatch(/SMTP_URL and MAIL_FROM/);
    const bad = await runCli(["remind", "--org", "acme", "--as-of", "2026-02-30", "--dry-run"], store, clock);
    expect(bad.code).toBe(2);
    const unknown = await runCli(["remind", "--org", "nope", "--dry-run"], store, clock);
    expect(unknown.stderr).toMatch(/organisation nope not found/);
  });

  it("exits 1 and reports the failures when the SMTP server is down", async () => {
    await ledger();
    await inbox.stop();
    try {
      const r = await cli(["remind", "--org", "acme", "--as-of", "2026-03-10"], clock);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/0 sent, 2 failed, 0 skipped/);
    } finally {
      await inbox.start();
    }
  });
});

describe("preview", () => {
  it("renders what a customer would receive now, at its level or the one asked for", async () => {
    await ledger();
    const at = fixedClock("2026-03-10T10:00:00Z");
    const r = await runCli(["preview", "--org", "acme", "--customer", "CUST-A"], store, at);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("To: ap@alpha.example");
    // A first email, worded as one.
    expect(r.stdout).toContain("Subject: Payment overdue: £240.00 overdue to Acme Supplies Ltd");
    expect(r.stdout).toContain("Invoice A-2");
    const final = await runCli(
      ["preview", "--org", "acme", "--customer", "CUST-A", "--level", "5", "--json"],
      store,
      at,
    );
    const json = JSON.parse(final.stdout) as { subject: string; html: string; text: string; level: number };
    expect(json.level).toBe(5);
    expect(json.subject).toBe("Final notice: £240.00 overdue to Acme Supplies Ltd");
    expect(json.html).toContain("<table");
    expect(inbox.messages).toHaveLength(0);
    const missing = await runCli(["preview", "--org", "acme", "--customer", "NOPE"], store, at);
    expect(missing.code).toBe(2);
  });
});
