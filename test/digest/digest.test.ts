import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { buildDigest, isoWeek, mondayOf } from "../../src/digest/build";
import { runDigest } from "../../src/digest/send";
import { formatMoney } from "../../src/format";
import { importCsv } from "../../src/import/csv-import";
import { JOBS, runJob } from "../../src/jobs";
import { forecastForOrg } from "../../src/scoring/forecast";
import { ensureUser, grant } from "../../src/store/accounts";
import { agingByCustomer, totalsByCurrency } from "../../src/store/aging";
import { audit } from "../../src/store/audit";
import { createProposal } from "../../src/store/holds";
import { newId } from "../../src/store/ids";
import { findOrgBySlug } from "../../src/store/orgs";
import { creditHolds } from "../../src/store/schema";
import { DETERIORATION_ALERT } from "../../src/store/scores";
import { runCli } from "../support/cli";
import { testDeps } from "../support/deps";
import { csv, tempFiles } from "../support/files";
import { startInbox, type TestInbox } from "../support/smtp";

let inbox: TestInbox;
beforeAll(async () => {
  inbox = await startInbox();
});
afterAll(async () => {
  await inbox.close();
});

// Monday 23 November 2026, 07:10 in London.
const MONDAY_7AM = "2026-11-23T07:10:00Z";
let deps: Deps;
let clock: ReturnType<typeof fixedClock>;

beforeEach(async () => {
  inbox.clear();
  clock = fixedClock(MONDAY_7AM);
  deps = await testDeps({
    clock,
    env: {
      SMTP_URL: inbox.url,
      MAIL_FROM: "digest@creditpulse.example",
      PUBLIC_URL: "https://cp.example.com",
    },
  });
  for (const slug of ["acme", "quiet"]) {
    const rows =
      slug === "acme"
        ? [
            "C1,Slow <Payer> Ltd,A-1,2026-08-01,2026-09-01,GBP,1200.00,",
            "C1,Slow <Payer> Ltd,A-2,2026-10-01,2026-11-01,GBP,300.00,",
            "C2,Held Co,A-3,2026-09-15,2026-10-15,GBP,800.00,",
            "C3,Fine Co,A-4,2026-11-10,2026-12-10,GBP,500.00,",
          ]
        : ["Q1,Punctual,Q-1,2026-11-01,2026-12-01,GBP,100.00,"];
    const f = tempFiles({
      "i.csv": csv(
        "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,amount_paid",
        ...rows,
      ),
    });
    const r = await importCsv(deps.store, {
      org: slug,
      invoices: f["i.csv"]!,
      currency: "GBP",
      timezone: "Europe/London",
      now: clock.now() - 30 * 86_400_000,
    });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
  }
  const acme = (await findOrgBySlug(deps.store.db, "acme"))!;
  const quiet = (await findOrgBySlug(deps.store.db, "quiet"))!;
  const ids = await deps.store.db.all<{ id: string; external_id: string }>(
    (await import("drizzle-orm")).sql`select id, external_id from contacts where org_id = ${acme.id}`,
  );
  const id = (ext: string) => ids.find((r) => r.external_id === ext)!.id;
  // Seeded scenario: the monitor flagged C1 on Friday; C2 went on credit hold on Thursday.
  await audit(
    deps.store.db,
    {
      orgId: acme.id,
      contactId: id("C1"),
      actor: "monitor",
      action: DETERIORATION_ALERT,
      detail: { asOf: "2026-11-20", reasons: ["Paying 25 days later than usual"], changeDays: 25 },
    },
    Date.parse("2026-11-20T02:00:00Z"),
  );
  await deps.store.db.insert(creditHolds).values({
    id: newId("hld"),
    orgId: acme.id,
    contactId: id("C2"),
    action: "place",
    reason: "invoice A-3 reached the credit-hold level",
    at: Date.parse("2026-11-19T10:00:00Z"),
    writebackStatus: "not_applicable",
    ownerNotice: "none",
  });
  const now = clock.now();
  const { user: bk } = await ensureUser(deps.store.db, "bk@example.com", now, { timezone: "Europe/London" });
  const { user: viewer } = await ensureUser(deps.store.db, "viewer@example.com", now);
  await grant(deps.store.db, bk.id, acme.id, "bookkeeper", now);
  await grant(deps.store.db, bk.id, quiet.id, "owner", now);
  await grant(deps.store.db, viewer.id, acme.id, "viewer", now);
});

describe("weekly digest", () => {
  it("emails owners and bookkeepers what changed, with links, inline PNG charts, and totals that match the store", async () => {
    const results = await runDigest(deps, { now: clock.now() });
    expect(results.map((r) => [r.email, r.status])).toEqual([["bk@example.com", "sent"]]);
    expect(inbox.messages).toHaveLength(1);
    const msg = inbox.messages[0]!;
    expect(msg.envelope.to).toEqual(["bk@example.com"]);
    const text = msg.parsed.text ?? "";
    const html = String(msg.parsed.html);
    expect(msg.parsed.subject).toMatch(/week of 2026-11-23: 1 organisation to look at/);
    // newly deteriorating, with the escaped name and a link into the dashboard
    expect(text).toMatch(
      /Newly deteriorating:\n- Slow <Payer> Ltd: Paying 25 days later than usual {2}https:\/\/cp\.example\.com\/orgs\/acme\/customers\/C1/,
    );
    expect(html).toContain("Slow &lt;Payer&gt; Ltd");
    expect(html).not.toContain("Slow <Payer>");
    expect(text).toMatch(
      /New credit holds:\n- Held Co on 2026-11-19: invoice A-3 reached the credit-hold level/,
    );
    // totals match the store
    const acme = (await findOrgBySlug(deps.store.db, "acme"))!;
    const totals = totalsByCurrency(await agingByCustomer(deps.store.db, acme.id, "2026-11-23"));
    expect(text).toContain(`Overdue: ${formatMoney({ minor: totals[0]!.overdueMinor, currency: "GBP" })}`);
    expect(totals[0]!.overdueMinor).toBe(230_000);
    // the cash-in forecast line is the forecast's own 4-week figure (nobody is graded D or E here)
    const [gbp] = await forecastForOrg(deps.store.db, acme, "2026-11-23");
    const soon = gbp!.weeks.slice(0, 4).reduce((n, w) => n + w.expected, 0);
    expect(soon).toBeGreaterThan(0);
    expect(text).toContain(
      `Expected in the next 4 weeks: ${formatMoney({ minor: soon, currency: "GBP" })}, of which £0.00 from customers graded D or E`,
    );
    expect(text).toMatch(/Top overdue:\n1\. Slow <Payer> Ltd: £1,500\.00/);
    // the quiet organisation gets one line
    expect(text).toMatch(/Nothing to report: Quiet\./);
    // chart as an inline PNG
    const png = msg.parsed.attachments.find((a) => a.contentType === "image/png");
    expect(png?.contentId).toBeTruthy();
    expect(msg.raw).toContain(`cid:${png?.contentId?.replace(/[<>]/g, "")}`);
    expect(html).toContain('alt="Aging of open balances: Not yet due £500.00');
    expect(png?.content.subarray(1, 4).toString()).toBe("PNG");
  });

  it("tells approvers how many credit holds wait for their approval, and a waiting proposal is not quiet", async () => {
    const quiet = (await findOrgBySlug(deps.store.db, "quiet"))!;
    const [q1] = await deps.store.db.all<{ id: string }>(
      (await import("drizzle-orm")).sql`select id from contacts where org_id = ${quiet.id}`,
    );
    await createProposal(
      deps.store,
      {
        orgId: quiet.id,
        contactId: q1!.id,
        reason: "invoice Q-1 reached the credit-hold level",
        notice: false,
      },
      clock.now() - 86_400_000,
    );
    await runDigest(deps, { now: clock.now() });
    const text = inbox.messages[0]!.parsed.text ?? "";
    const html = String(inbox.messages[0]!.parsed.html);
    expect(text).toContain(
      "Credit holds awaiting your approval: 1 (nothing is placed until someone approves).  https://cp.example.com/orgs/quiet/holds",
    );
    expect(html).toContain(
      '<a href="https://cp.example.com/orgs/quiet/holds">Credit holds awaiting your approval</a>: 1',
    );
    expect(text).not.toMatch(/Nothing to report: Quiet/);
    // Acme has none waiting: no line for it.
    expect(text.match(/awaiting your approval/g)).toHaveLength(1);
  });

  it("never sends the same week's digest twice", async () => {
    await runDigest(deps, { now: clock.now() });
    const again = await runDigest(deps, { now: clock.now() + 60_000 });
    expect(again.map((r) => r.status)).toEqual(["skipped"]);
    expect(inbox.messages).toHaveLength(1);
  });

  it("the hourly job sends only at Monday 07:xx in the user's timezone", async () => {
    const job = JOBS.find((j) => j.name === "digest")!;
    clock.set("2026-11-23T06:10:00Z"); // 06:10 in London
    await runJob(job, deps);
    expect(inbox.messages).toHaveLength(0);
    clock.set(MONDAY_7AM);
    await runJob(job, deps);
    expect(inbox.messages).toHaveLength(1);
    await runJob(job, deps);
    expect(inbox.messages).toHaveLength(1);
  });

  it("`digest --dry-run --json` builds without sending or recording", async () => {
    const r = await runCli(["digest", "--as-of", "2026-11-23", "--dry-run", "--json"], deps.store, clock);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      digests: { status: string; digest: { orgs: { name: string; quiet: boolean }[] } }[];
    };
    expect(out.digests[0]!.status).toBe("dry_run");
    expect(out.digests[0]!.digest.orgs.map((o) => [o.name, o.quiet])).toEqual([
      ["Acme", false],
      ["Quiet", true],
    ]);
    expect(inbox.messages).toHaveLength(0);
  });
});

describe("digest model (pure)", () => {
  it("marks an organisation with nothing new as quiet and dates weeks by their Monday", () => {
    const d = buildDigest(
      [
        {
          org: { slug: "q", name: "Q", baseCurrency: "GBP" },
          alerts: [],
          scoresNow: [{ contactId: "c", customerId: "C", name: "C", score: 40, grade: "D" }],
          scoresBefore: new Map([["c", { score: 47, grade: "C" }]]),
          holds: [],
          limitBreaches: [],
          overdueNow: new Map(),
          overdueBefore: new Map(),
          topOverdue: [],
          reminders: [],
          connections: [],
          aging: [],
        },
      ],
      "2026-11-25",
      "https://x.example/",
      0,
    );
    expect(d.weekOf).toBe("2026-11-23");
    expect(d.orgs[0]!.scoreDrops).toEqual([
      { name: "C", url: "https://x.example/orgs/q/customers/C", from: 47, to: 40, grade: "D", drop: 7 },
    ]);
    expect(d.orgs[0]!.quiet).toBe(false);
    expect(mondayOf("2026-11-29")).toBe("2026-11-23");
    expect(isoWeek("2026-11-23")).toBe("2026-W48");
  });
});
