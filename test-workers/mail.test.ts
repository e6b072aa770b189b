/**
 * Mail from the Worker over the HTTP provider (Postmark's API, a fake in this isolate): the hourly remind tick
 * -> one message per organisation -> reminders rendered from the bundled templates and delivered; the weekly
 * digest -> one message per due user -> delivered; the statements tick -> a statement with its PDF per customer,
 * once a period, on D1.
 *
 * Needs the templates bundled into the Worker (the in-memory template bundle from issue 12's branch).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOBS } from "../src/jobs";
import { ensureUser, grant } from "../src/store/accounts";
import { findOrgBySlug } from "../src/store/orgs";
import { ensureReminderSetup } from "../src/store/reminder-settings";
import { setOrgStatementSchedule, statementSendsOf } from "../src/store/statements";
import { installFakePostmark } from "./fake-postmark";
import { seedOrg } from "./seed";
import { drain, runCron, testDeps } from "./support";

const cronOf = (name: string) => JOBS.find((j) => j.name === name)!.cron;

describe("mail from the Worker", () => {
  let deps: Awaited<ReturnType<typeof testDeps>>;
  let postmark: ReturnType<typeof installFakePostmark>;
  let orgId: string;

  beforeAll(async () => {
    deps = await testDeps();
    orgId = (await seedOrg(deps, "mailco", { customers: 2, email: "ap@buyer.test" })).id;
    const { user } = await ensureUser(deps.store.db, "owner@mailco.test", Date.now(), {
      timezone: "Europe/London",
    });
    await grant(deps.store.db, user.id, orgId, "owner", Date.now());
    postmark = installFakePostmark("postmark-test-token");
  });
  afterAll(() => postmark.restore());

  it("the remind tick enqueues the organisation and its consumer sends the overdue reminders", async () => {
    // A Tuesday, 10:05 in London: inside the default sending window.
    const sent = await runCron(cronOf("remind"), Date.parse("2026-12-08T10:05:00Z"));
    expect(sent).toEqual([{ job: "remind", orgId, at: Date.parse("2026-12-08T10:05:00Z") }]);
    await drain(sent);
    const reminders = postmark.inbox.filter((m) => m.To.includes("buyer.test"));
    expect(reminders.length).toBeGreaterThanOrEqual(2);
    expect(reminders.map((m) => m.To).sort()).toEqual(
      expect.arrayContaining(["ap+0@buyer.test", "ap+1@buyer.test"]),
    );
    for (const m of reminders) {
      expect(m.From).toContain("credit@creditpulse.test");
      expect(m.TextBody).toContain("INV-");
      expect(m.HtmlBody).toContain("INV-");
    }
    // The next tick sends nothing again for the same invoices.
    const before = postmark.inbox.length;
    await drain(await runCron(cronOf("remind"), Date.parse("2026-12-08T11:05:00Z")));
    expect(postmark.inbox.length).toBe(before);
  });

  it("the digest tick enqueues each due user and the consumer sends their weekly digest", async () => {
    const monday7 = Date.parse("2026-12-07T07:00:00Z");
    const sent = await runCron(cronOf("digest"), monday7);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ job: "digest" });
    await drain(sent);
    const digest = postmark.inbox.find((m) => m.To === "owner@mailco.test");
    expect(digest).toBeDefined();
    expect(digest!.TextBody).toContain("Mailco Ltd");
    // The aging chart travels as an inline attachment the HTML refers to by content id.
    // Not due an hour earlier (06:00 in London).
    expect(await runCron(cronOf("digest"), monday7 - 3_600_000)).toEqual([]);
  });

  it("the statements tick sends each customer one statement with its PDF, claimed on D1 once a period", async () => {
    const first = Date.parse("2026-12-01T10:35:00Z"); // Tuesday 1 December, 10:35 in London
    await ensureReminderSetup(deps.store.db, (await findOrgBySlug(deps.store.db, "mailco"))!, first);
    await setOrgStatementSchedule(deps.store.db, orgId, { every: "month", day: 1 }, first);
    const sent = await runCron(cronOf("statements"), first);
    expect(sent).toEqual([{ job: "statements", orgId, at: first }]);
    await drain(sent);
    const statements = postmark.inbox.filter((m) => m.Subject.startsWith("Your statement from"));
    expect(statements.map((m) => m.To).sort()).toEqual(["ap+0@buyer.test", "ap+1@buyer.test"]);
    for (const m of statements) {
      const pdf = m.Attachments?.find((a) => a.ContentType === "application/pdf");
      expect(pdf?.Name).toBe("statement-2026-12-01.pdf");
      expect(atob(pdf!.Content).startsWith("%PDF-")).toBe(true);
    }
    // The next hour's tick finds December's statements claimed and sends nothing.
    await drain(await runCron(cronOf("statements"), first + 3_600_000));
    expect(postmark.inbox.filter((m) => m.Subject.startsWith("Your statement from"))).toHaveLength(2);
    expect((await statementSendsOf(deps.store.db, orgId)).map((r) => [r.period, r.status])).toEqual([
      ["2026-12", "sent"],
      ["2026-12", "sent"],
    ]);
  });
});
