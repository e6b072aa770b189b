/**
 * `npx tsx bench/remind.ts [customers] [invoicesPerCustomer]`: plans reminders for 100,000 customers with
 * 1,000,000 invoices (load the rows + pure planning, nothing sent) beside a bare SQL pass over the overdue
 * invoices on the same database, measured in the same run, best of 5 each, interleaved. Prints both times and the
 * ratio (target: within 5x). The plan is checked against a naive reference first: every live customer and every
 * open invoice read through drizzle's query builder, planned by the same planner, must give the same emails,
 * skips and hold changes. `BENCH_PHASES=1` prints the load/plan split of each run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { loadConfig } from "../src/config";
import { addDays } from "../src/model";
import { publicHolidays } from "../src/reminders/holidays";
import { type Plan, planReminders } from "../src/reminders/plan";
import { planSettingsFor } from "../src/reminders/run-context";
import { findOrgBySlug } from "../src/store/orgs";
import { loadPlanRows } from "../src/store/plan-rows";
import { loadPolicies, loadReminderSettings } from "../src/store/reminder-settings";
import { openSqliteStore } from "../src/store/sqlite";
import { referencePlanRows } from "../test/support/reference-plan-rows";

const CUSTOMERS = Number(process.argv[2] ?? 100_000);
const PER_CUSTOMER = Number(process.argv[3] ?? 10);
const AS_OF = "2026-03-10";
const AT = Date.parse("2026-03-10T10:00:00Z");
const ZONES = [null, "Europe/London", "America/Los_Angeles", "Pacific/Auckland", "Asia/Singapore"];

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const dir = mkdtempSync(join(tmpdir(), "creditpulse-bench-"));
const path = join(dir, "bench.db");
try {
  const store = openSqliteStore(path);
  const raw = new Database(path);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = OFF");

  const t0 = performance.now();
  raw
    .prepare(
      `insert into organisations (id, slug, name, base_currency, timezone, country, locale, provider, is_demo, created_at, updated_at)
       values ('org_bench', 'bench', 'Bench Ltd', 'GBP', 'Europe/London', 'GB', 'en-GB', 'csv', 0, 0, 0)`,
    )
    .run();
  const insContact = raw.prepare(
    `insert into contacts (id, org_id, external_id, name, emails, timezone, credit_limit_minor, excluded, opted_out, hold_state, deleted, created_at, updated_at)
     values (?, 'org_bench', ?, ?, ?, ?, ?, 0, 0, 'none', 0, 0, 0)`,
  );
  const insInvoice = raw.prepare(
    `insert into invoices (id, org_id, contact_id, external_id, number, issue_date, due_date, currency, total_minor,
       amount_paid_minor, amount_credited_minor, amount_due_minor, status, created_at, updated_at)
     values (?, 'org_bench', ?, ?, ?, ?, ?, 'GBP', ?, ?, 0, ?, ?, 0, 0)`,
  );
  const insClaim = raw.prepare(
    `insert into reminders (id, org_id, contact_id, invoice_id, level, offset_days, template, policy_id, email_id, status, attempts, claimed_at, sent_at, updated_at)
     values (?, 'org_bench', ?, ?, ?, ?, 'overdue', 'builtin-default', ?, 'sent', 1, 0, ?, 0)`,
  );
  const rand = seeded(42);
  let invoicesWritten = 0;
  raw.transaction(() => {
    for (let c = 0; c < CUSTOMERS; c++) {
      const cid = `cus_${c}`;
      insContact.run(
        cid,
        `C${c}`,
        `Customer ${c}`,
        JSON.stringify([`c${c}@customer.example`]),
        ZONES[c % ZONES.length] ?? null,
        c % 7 === 0 ? 5_000_00 : null,
      );
      for (let i = 0; i < PER_CUSTOMER; i++) {
        const issue = addDays(AS_OF, -Math.floor(rand() * 365));
        const due = addDays(issue, 30);
        const total = 50_00 + Math.floor(rand() * 2_000_00);
        // Most invoices are paid; the recent ones and a slice of older ones are still open.
        const open = due >= addDays(AS_OF, -10) ? rand() < 0.8 : rand() < 0.06;
        const iid = `inv_${c}_${i}`;
        insInvoice.run(
          iid,
          cid,
          `I${c}-${i}`,
          `INV-${c}-${i}`,
          issue,
          due,
          total,
          open ? 0 : total,
          open ? total : 0,
          open ? "authorised" : "paid",
        );
        if (open && due < AS_OF && rand() < 0.3) {
          // Long overdue: its final notice went 10 days ago (so a hold can be proposed); else level 2.
          const late = due < addDays(AS_OF, -45);
          insClaim.run(
            `rem_${c}_${i}`,
            cid,
            iid,
            late ? 5 : 2,
            late ? 30 : 1,
            `eml_${c}_${i}`,
            late ? AT - 10 * 86_400_000 : 0,
          );
        }
        invoicesWritten++;
      }
    }
  })();
  raw.exec("analyze");
  const seedMs = performance.now() - t0;

  const org = (await findOrgBySlug(store.db, "bench"))!;
  const config = loadConfig({ LOG_LEVEL: "silent" });

  // Baseline: one bare SQL pass reading the overdue invoices (the least any planner must read).
  const bare = raw.prepare(
    `select id, contact_id, number, due_date, currency, amount_due_minor from invoices
     where org_id = ? and status in ('authorised', 'submitted') and amount_due_minor > 0 and due_date < ?`,
  );
  function baseline(): number {
    const rows = bare.all("org_bench", AS_OF) as { amount_due_minor: number }[];
    let sum = 0;
    for (const r of rows) sum += r.amount_due_minor;
    return rows.length + (sum > 0 ? 0 : 1);
  }

  async function planOnce() {
    const settings = await loadReminderSettings(store.db, org);
    const { policies, defaultId } = await loadPolicies(store.db, org.id);
    const holidays = publicHolidays(org.country, [AS_OF]);
    const tl = performance.now();
    const rows = await loadPlanRows(store.db, org, {
      asOf: addDays(AS_OF, 1),
      maxDueDate: addDays(AS_OF, 5),
    });
    const tp = performance.now();
    const plan = planReminders({
      settings: planSettingsFor(org, settings, config, defaultId, holidays),
      policies,
      contacts: rows.contacts,
      invoices: rows.invoices,
      byContact: rows.byContact,
      claimedOffset: rows.claimedOffset,
      outstandingBase: rows.outstandingBase,
      sentOffsets: rows.sentOffsets,
      at: { kind: "instant", at: AT },
    });
    if (process.env.BENCH_PHASES)
      console.log(`  load ${(tp - tl).toFixed(0)} ms, plan ${(performance.now() - tp).toFixed(0)} ms`);
    return plan;
  }

  // The reference: no restriction on who or what is read, no SQL-side sums, no pre-grouping.
  async function referencePlan(): Promise<Plan> {
    const settings = await loadReminderSettings(store.db, org);
    const { policies, defaultId } = await loadPolicies(store.db, org.id);
    return planReminders({
      ...(await referencePlanRows(store, org)),
      settings: planSettingsFor(org, settings, config, defaultId, publicHolidays(org.country, [AS_OF])),
      policies,
      at: { kind: "instant", at: AT },
    });
  }
  const signature = (p: Plan) =>
    [
      ...p.emails.map(
        (e) =>
          `email ${e.contact.id} ${e.level.offsetDays} ${e.invoices.map((i) => `${i.invoice.id}${i.due ? "*" : ""}`)}`,
      ),
      ...p.skipped.map((x) => `skip ${x.contact.id} ${x.level.offsetDays} ${x.reason}`),
      ...p.holds.map((h) => `hold ${h.contact.id} ${h.action}`),
    ].sort();

  const time = async <T>(fn: () => T | Promise<T>): Promise<[number, T]> => {
    const t = performance.now();
    const r = await fn();
    return [performance.now() - t, r];
  };

  // Check the plan against the reference, warm both, then take the best of five.
  const overdueRows = baseline();
  const warm = await planOnce();
  const mine = signature(warm);
  const theirs = signature(await referencePlan());
  const differ = mine.filter((x, i) => x !== theirs[i]);
  if (mine.length !== theirs.length || differ.length > 0) {
    console.error(
      `plan differs from the reference (${mine.length} vs ${theirs.length} lines):`,
      differ.slice(0, 5),
    );
    process.exitCode = 1;
  }
  if (warm.emails.length === 0 || warm.holds.length === 0)
    throw new Error("the bench plans no emails or holds");
  const bareTimes: number[] = [];
  const planTimes: number[] = [];
  const RUNS = 5;
  for (let i = 0; i < RUNS; i++) {
    bareTimes.push((await time(baseline))[0]);
    planTimes.push((await time(planOnce))[0]);
  }
  const bareMs = Math.min(...bareTimes);
  const planMs = Math.min(...planTimes);
  console.log(
    `customers ${CUSTOMERS.toLocaleString("en-GB")}, invoices ${invoicesWritten.toLocaleString("en-GB")} (seeded in ${(seedMs / 1000).toFixed(1)} s)`,
  );
  console.log(`overdue invoices read by the bare SQL pass: ${overdueRows.toLocaleString("en-GB")}`);
  console.log(
    `plan: ${warm.emails.length.toLocaleString("en-GB")} emails, ${warm.skipped.length.toLocaleString("en-GB")} skipped, ${warm.holds.length.toLocaleString("en-GB")} hold changes (${differ.length === 0 && mine.length === theirs.length ? "same as the naive reference" : "DIFFERS from the naive reference"})`,
  );
  console.log(`bare SQL pass over overdue invoices: ${bareMs.toFixed(0)} ms (best of ${RUNS})`);
  console.log(`plan reminders (load + plan):        ${planMs.toFixed(0)} ms (best of ${RUNS})`);
  console.log(`ratio: ${(planMs / bareMs).toFixed(2)}x (target within 5x)`);
  raw.close();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
