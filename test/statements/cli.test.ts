import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import { statementSendsOf } from "../../src/store/statements";
import { makeCustomer, makeInvoice, makeOrg, TEST_ENV } from "../reminders/factories";
import { runCli } from "../support/cli";
import { useTestStore } from "../support/db";
import { useInbox } from "../support/smtp";

const inbox = useInbox();
const store = useTestStore();

const clock = fixedClock("2026-06-01T10:00:00Z"); // Monday 1 June 2026
const cli = (argv: string[]) => runCli(argv, store, clock, { env: { ...TEST_ENV, SMTP_URL: inbox.url } });

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
  await makeInvoice(store, org, a.externalId, { number: "A-1", dueDate: "2026-05-01", totalMinor: 250_00 });
  await makeInvoice(store, org, b.externalId, { number: "B-1", dueDate: "2026-05-10", totalMinor: 75_00 });
  return org;
}

describe("statements CLI", () => {
  it("is off until scheduled; then sends once per period, --dry-run sends nothing, --json parses", async () => {
    const org = await ledger();
    const off = await cli(["statements", "--org", "acme", "--json"]);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toEqual({ org: "acme", statements: [], flagged_for_review: 0 });

    const set = await cli(["statement-schedule", "--org", "acme", "--monthly", "1"]);
    expect(set.stdout).toContain("acme: statements monthly, on day 1");
    const weekly = await cli([
      "statement-schedule",
      "--org",
      "acme",
      "--customer",
      "CUST-B",
      "--weekly",
      "fri",
    ]);
    expect(weekly.stdout).toContain("CUST-B: weekly, on fri");

    const dry = await cli(["statements", "--org", "acme", "--dry-run", "--json"]);
    const planned = JSON.parse(dry.stdout) as { statements: { customer_id: string }[] };
    planned.statements.sort((x, y) => x.customer_id.localeCompare(y.customer_id));
    expect(planned.statements).toEqual([
      {
        customer_id: "CUST-A",
        name: "Alpha Ltd",
        to: "ap@alpha.example",
        period: "2026-06",
        status: "would_send",
        reason: null,
        totals: [{ currency: "GBP", minor: 250_00 }],
      },
      // Beta's weekly Friday statement: last Friday (29 May, week 22) is within the week's catch-up.
      expect.objectContaining({ customer_id: "CUST-B", period: "2026-W22", status: "would_send" }),
    ]);
    expect(inbox.messages).toHaveLength(0);
    expect(await statementSendsOf(store.db, org.id)).toEqual([]);

    const sent = await cli(["statements", "--org", "acme"]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain("acme: 2 sent, 0 failed, 0 skipped");
    expect(inbox.messages.map((m) => m.envelope.to).sort()).toEqual([
      ["ap@alpha.example"],
      ["ap@beta.example"],
    ]);
    const again = await cli(["statements", "--org", "acme", "--json"]);
    expect(JSON.parse(again.stdout).statements).toEqual([]);
    expect(inbox.messages).toHaveLength(2);
  });

  it("names what was wrong", async () => {
    await ledger();
    const cases: [string[], RegExp][] = [
      [["statements", "--org", "nope"], /organisation nope not found/],
      [
        ["statements", "--org", "acme", "--as-of", "1 June"],
        /--as-of "1 June": expected a date written YYYY-MM-DD/,
      ],
      [
        ["statement-schedule", "--org", "acme", "--monthly", "32"],
        /--monthly takes a day of the month from 1 to 31/,
      ],
      [["statement-schedule", "--org", "acme", "--weekly", "someday"], /--weekly takes a weekday/],
      [["statement-schedule", "--org", "acme", "--monthly", "1", "--off"], /choose one of/],
      [["statement-schedule", "--org", "acme", "--org-default"], /--org-default needs --customer/],
      [["statement-schedule", "--org", "acme", "--customer", "CUST-Z", "--off"], /customer CUST-Z not found/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv);
      expect(r.code, argv.join(" ")).not.toBe(0);
      expect(r.stderr, argv.join(" ")).toMatch(message);
    }
    const noMail = await runCli(["statements", "--org", "acme"], store, clock, { env: { ...TEST_ENV } });
    expect(noMail.stderr).toMatch(/set MAIL_FROM and SMTP_URL/);
  });
});
