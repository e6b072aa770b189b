/**
 * Mail from the Worker over the HTTP provider (Postmark's API, a fake in this isolate): the hourly remind tick
 * -> one message per organisation -> reminders rendered from the bundled templates and delivered; the weekly
 * digest -> one message per due user -> delivered; the statements tick -> a statement with its PDF per customer,
 * once a period, on D1.
 *
 * And SMTP from inside workerd: with SMTP_URL set, the remind consumer sends through nodemailer over workerd's
 * TCP sockets (node:net on cloudflare:sockets) to a real smtp-server the suite's global set-up runs in Node
 * (test-workers/smtp-global.ts).
 *
 * Needs the templates bundled into the Worker (the in-memory template bundle from issue 12's branch).
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { JOBS } from "../src/jobs";
import { ensureUser, grant } from "../src/store/accounts";
import { findOrgBySlug } from "../src/store/orgs";
import { ensureReminderSetup } from "../src/store/reminder-settings";
import { reminders } from "../src/store/schema";
import { setOrgStatementSchedule, statementSendsOf } from "../src/store/statements";
import { installFakePostmark } from "./fake-postmark";
import { seedOrg } from "./seed";
import { consume, drain, runCron, testDeps } from "./support";

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

type Received = { to: string[]; raw: string; secure: boolean };
const inbox = async () => (await (await fetch(`${inject("smtpInboxUrl")}/`)).json()) as Received[];

describe("SMTP from the Worker", () => {
  let deps: Awaited<ReturnType<typeof testDeps>>;
  beforeAll(async () => {
    deps = await testDeps();
  });

  it("delivers the remind consumer's reminders to the SMTP server, once", async () => {
    const orgId = (await seedOrg(deps, "smtpco", { customers: 2, email: "ap@smtp-buyer.test" })).id;
    const smtpUrl = `smtp://127.0.0.1:${inject("smtpPort")}`;
    const at = Date.parse("2026-12-08T10:05:00Z"); // a Tuesday, 10:05 in London
    const { result } = await consume({ job: "remind", orgId, at }, { SMTP_URL: smtpUrl });
    expect(result.retryMessages).toEqual([]);
    const mine = (await inbox()).filter((m) => m.to.some((t) => t.endsWith("@smtp-buyer.test")));
    expect(mine.flatMap((r) => r.to).sort()).toEqual(["ap+0@smtp-buyer.test", "ap+1@smtp-buyer.test"]);
    for (const m of mine) {
      expect(m.raw).toMatch(/^From: Credit Control <credit@creditpulse\.test>/m);
      expect(m.raw).toContain("INV-");
    }
    // Recorded as accepted by the server, with its reply; the next tick sends nothing again.
    const rows = await deps.store.db.select().from(reminders).where(eq(reminders.orgId, orgId));
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(["sent"]));
    await consume({ job: "remind", orgId, at: at + 3_600_000 }, { SMTP_URL: smtpUrl });
    expect((await inbox()).filter((m) => m.to.some((t) => t.endsWith("@smtp-buyer.test")))).toHaveLength(2);
  });

  // workerd takes the STARTTLS upgrade (cloudflare:sockets' startTls) and always verifies the server's
  // certificate against the public roots: the suite's server has only smtp-server's self-signed certificate
  // ("TLS peer's certificate is not trusted; reason = self signed certificate"), so here the send is refused
  // before anything is handed over: the reminder is marked failed (retried by the next run), never sent or
  // left for review. A server with a certificate from a public authority cannot be reached from this machine.
  it("refuses a STARTTLS server whose certificate it cannot verify, sending nothing and keeping it for retry", async () => {
    const orgId = (await seedOrg(deps, "tlsco", { customers: 1, email: "ap@tls-buyer.test" })).id;
    const smtpUrl = `smtp://127.0.0.1:${inject("smtpTlsPort")}`;
    const at = Date.parse("2026-12-08T10:05:00Z");
    const { result } = await consume({ job: "remind", orgId, at }, { SMTP_URL: smtpUrl });
    expect(result.retryMessages).toEqual([]);
    expect((await inbox()).filter((m) => m.to.some((t) => t.endsWith("@tls-buyer.test")))).toEqual([]);
    const rows = await deps.store.db.select().from(reminders).where(eq(reminders.orgId, orgId));
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(["failed"]));
  });
});
