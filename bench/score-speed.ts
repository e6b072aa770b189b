/**
 * Speed of the credit monitor (issue 3). Run: `npx tsx bench/score-speed.ts [runs] [--phases] [--reference] [--e2e]`.
 *
 * 10,000 customers / 1,000,000 invoices (seeded, generated here: no external data needed), scoreOrganisation
 * as of 2025-12-31 against one SQL aggregate pass over the same invoices in in-memory SQLite (better-sqlite3),
 * measured in the same run, interleaved. Target: scoring within 5x of the SQL floor. The median of `runs`
 * (default 5) timed runs of each is reported, after one untimed warm-up of each.
 *
 * Before timing, the fast path is checked against the straightforward path computed in the same run: the same
 * ledger with its invoices, allocations and contacts in random order, restricted to asOf by the reference
 * restrictToAsOf (test/support/reference-as-of.ts: the code before the speed work) and scored by assessLedger (which
 * keeps every customer's features). The restricted ledgers and the scores must be equal; any difference fails
 * the run.
 *
 * `--phases` also times the monitor's phases (restrictToAsOf, model fit, features, per-customer scoring).
 *
 * END TO END: the same ledger is written into a real store (in-memory SQLite with the committed migrations, as
 * tests open it; bulk inserts, not timed). Timed against one SQL aggregate pass over that organisation's rows of
 * the real `invoices` table, alternating, best and median of `runs`:
 * - `loadMonitorInput` + `scoreOrganisation` (load and score);
 * - `runScoring` itself (src/scoring/run-scoring.ts, what the nightly job runs: load, score, broken promises,
 *   storing the day's scores in one transaction, new deterioration alerts), the day's scores deleted before
 *   each run (not timed) so every run stores its rows afresh.
 * Both ratios are printed from wall-clock times, and from the process's CPU time (on a shared machine other
 * processes stretch wall times, not the CPU the work takes). The scores read back from the store must equal the
 * in-memory ones. `--phases` splits load / score and times storing the results (saveScores) once;
 * `--reference` also times the loader as it was before the speed work (test/support/reference-monitor-load.ts);
 * `--e2e` runs this section alone.
 */

import Database from "better-sqlite3";
import { addDays } from "../src/model";
import { type LedgerAsOf, restrictToAsOf } from "../src/monitor/as-of";
import { customerFeatures } from "../src/monitor/features";
import {
  assessLedger,
  assessOrganisation,
  dayNumber,
  type MonitorAllocation,
  type MonitorContact,
  type MonitorInvoice,
  type OrgInput,
  scoreOrganisation,
} from "../src/monitor/index";
import { fitLateModel } from "../src/monitor/predict";
import { pooledWithinSd } from "../src/monitor/trend";
import { runScoring } from "../src/scoring/run-scoring";
import type { Store } from "../src/store/db";
import { loadMonitorInput } from "../src/store/monitor-input";
import { ensureOrg, type Organisation } from "../src/store/orgs";
import { saveScores } from "../src/store/scores";
import { openSqliteStore } from "../src/store/sqlite";
import { referenceRestrictToAsOf } from "../test/support/reference-as-of";
import { referenceLoadMonitorInput } from "../test/support/reference-monitor-load";
import { mulberry32 } from "./prng";

/** A synthetic ledger: `perCustomer` invoices per customer over 720 days, each settled around its own habit. */
export function generate(customers: number, perCustomer: number, asOf: string, seed: number): OrgInput {
  const rnd = mulberry32(seed);
  const gauss = (): number => {
    const u = Math.max(1e-12, rnd());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  const contacts: MonitorContact[] = [];
  const invoices: MonitorInvoice[] = [];
  const allocations: MonitorAllocation[] = [];
  const asOfDay = dayNumber(asOf);
  const dates: string[] = [];
  const first = addDays(asOf, -800);
  for (let d = 0; d <= 900; d++) dates.push(addDays(first, d));
  const date = (day: number): string =>
    dates[day - dayNumber(first)] ?? addDays(first, day - dayNumber(first));
  let seq = 0;
  for (let c = 0; c < customers; c++) {
    const id = `con_${c}`;
    contacts.push({
      id,
      externalId: `C${c}`,
      name: `Customer ${c}`,
      creditLimitMinor: rnd() < 0.3 ? 500_000 : null,
    });
    const mu = -3 + 10 * gauss();
    const sd = 3 + 6 * rnd();
    const startDay = dayNumber(first) + Math.floor(rnd() * 60);
    for (let k = 0; k < perCustomer; k++) {
      const issueDay = startDay + Math.floor((k * 720) / perCustomer);
      const dueDay = issueDay + 30;
      const total = 1000 + Math.floor(rnd() * 500_000);
      const settleDay = Math.max(issueDay, dueDay + Math.round(mu + sd * gauss()));
      const invId = `inv_${seq++}`;
      const paid = settleDay <= asOfDay;
      invoices.push({
        id: invId,
        contactId: id,
        number: String(seq),
        issueDate: date(issueDay),
        dueDate: date(dueDay),
        currency: "GBP",
        totalMinor: total,
        amountPaidMinor: paid ? total : 0,
        amountCreditedMinor: 0,
        amountDueMinor: paid ? 0 : total,
        status: paid ? "paid" : "authorised",
        paidOn: paid ? date(settleDay) : null,
      });
      if (paid)
        allocations.push({ invoiceId: invId, amountMinor: total, date: date(settleDay), kind: "payment" });
    }
  }
  return { baseCurrency: "GBP", contacts, invoices, allocations };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function time(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** True when the fast path's ledger and scores equal the straightforward path's (see the module comment). */
function sameAsStraightforward(input: OrgInput, asOf: string): boolean {
  const rnd = mulberry32(7);
  const scrambled: OrgInput = {
    ...input,
    contacts: shuffled(input.contacts, rnd),
    invoices: shuffled(input.invoices, rnd),
    allocations: shuffled(input.allocations, rnd),
  };
  const fastLedger = restrictToAsOf(input, asOf);
  const slowLedger = referenceRestrictToAsOf(scrambled, asOf);
  const list = (l: LedgerAsOf, id: string): string =>
    JSON.stringify([l.invoicesByContact.get(id), l.creditsByContact.get(id)]);
  const ledgerDiffer = slowLedger.contacts.find(
    (c, i) => fastLedger.contacts[i]?.id !== c.id || list(fastLedger, c.id) !== list(slowLedger, c.id),
  );
  const fast = scoreOrganisation(input, asOf);
  const slow = assessLedger(slowLedger).customers.map((c) => c.result);
  const differ = fast.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(slow[i]));
  if (
    !ledgerDiffer &&
    fastLedger.contacts.length === slowLedger.contacts.length &&
    fast.length === slow.length &&
    differ < 0
  ) {
    console.log(
      `    check: ledger as of ${asOf} and ${fast.length} scores equal to the straightforward path's (shuffled rows, reference restrictToAsOf)`,
    );
    return true;
  }
  if (ledgerDiffer) console.log(`    check FAILED: ledgers differ, first at contact ${ledgerDiffer.id}`);
  if (differ >= 0 || fast.length !== slow.length) {
    console.log(`    check FAILED: ${fast.length} vs ${slow.length} results; first difference at ${differ}`);
    console.log(`      fast: ${JSON.stringify(fast[differ])}\n      slow: ${JSON.stringify(slow[differ])}`);
  }
  return false;
}

function phases(input: OrgInput, asOf: string): void {
  const t: Record<string, number[]> = { restrict: [], fit: [], features: [], total: [] };
  for (let r = 0; r < 3; r++) {
    let ledger = restrictToAsOf(input, asOf);
    t.restrict!.push(time(() => (ledger = restrictToAsOf(input, asOf))));
    t.fit!.push(time(() => fitLateModel(ledger)));
    t.features!.push(
      time(() => pooledWithinSd(ledger.contacts.map((c) => customerFeatures(ledger, c).observations))),
    );
    t.total!.push(time(() => scoreOrganisation(input, asOf)));
  }
  const line = Object.entries(t)
    .map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`)
    .join(", ");
  console.log(`    phases (median of 3): ${line}`);
}

async function timeAsync(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** Writes the generated ledger into a fresh store: one payment per allocation (bulk, prepared, in transactions). */
export async function writeStore(
  input: OrgInput,
  path = ":memory:",
): Promise<{ store: Store; org: Organisation }> {
  const store = openSqliteStore(path);
  const now = Date.parse("2026-01-01T00:00:00Z");
  const { org } = await ensureOrg(
    store.db,
    {
      slug: "speed",
      name: "Speed Ltd",
      baseCurrency: input.baseCurrency,
      timezone: "Europe/London",
      provider: "csv",
    },
    now,
  );
  const chunked = async (text: string, rows: unknown[][]) => {
    for (let i = 0; i < rows.length; i += 100_000) await store.runMany(text, rows.slice(i, i + 100_000));
  };
  await chunked(
    `insert into contacts (id, org_id, external_id, name, emails, credit_limit_minor, created_at, updated_at)
     values (?, ?, ?, ?, '[]', ?, ?, ?)`,
    input.contacts.map((c) => [c.id, org.id, c.externalId, c.name, c.creditLimitMinor, now, now]),
  );
  await chunked(
    `insert into invoices (id, org_id, contact_id, external_id, number, issue_date, due_date, currency, total_minor,
       amount_paid_minor, amount_credited_minor, amount_due_minor, status, paid_on, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    input.invoices.map((i) => [
      i.id,
      org.id,
      i.contactId,
      `X${i.id}`,
      i.number,
      i.issueDate,
      i.dueDate,
      i.currency,
      i.totalMinor,
      i.amountPaidMinor,
      i.amountCreditedMinor,
      i.amountDueMinor,
      i.status,
      i.paidOn,
      now,
      now,
    ]),
  );
  const byId = new Map(input.invoices.map((i) => [i.id, i]));
  const pays: unknown[][] = [];
  const allocs: unknown[][] = [];
  input.allocations.forEach((a, k) => {
    const inv = byId.get(a.invoiceId)!;
    pays.push([`pay_${k}`, org.id, inv.contactId, `P${k}`, a.date, inv.currency, a.amountMinor, now, now]);
    allocs.push([`pay_${k}`, a.invoiceId, org.id, a.amountMinor, a.date]);
  });
  await chunked(
    `insert into payments (id, org_id, contact_id, external_id, date, currency, amount_minor, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    pays,
  );
  await chunked(
    "insert into payment_allocations (payment_id, invoice_id, org_id, amount_minor, date) values (?, ?, ?, ?, ?)",
    allocs,
  );
  await store.runMany("analyze", [[]]);
  return { store, org };
}

const stats = (xs: readonly number[]): string =>
  `${xs.map((t) => t.toFixed(0)).join(", ")} ms -> best ${Math.min(...xs).toFixed(0)}, median ${median(xs).toFixed(0)} ms`;

async function endToEnd(input: OrgInput, asOf: string, runs: number): Promise<boolean> {
  console.log("  END TO END: the same ledger in a real store (in-memory SQLite, committed migrations)");
  const t0 = performance.now();
  const { store, org } = await writeStore(input);
  console.log(`    (written in ${((performance.now() - t0) / 1000).toFixed(1)} s, not timed)`);
  const floorSql = `
    select contact_id, count(*) as n, sum(total_minor) as total, sum(amount_due_minor) as outstanding,
      sum(case when amount_due_minor > 0 and due_date < ? then amount_due_minor else 0 end) as overdue,
      avg(case when paid_on is not null then julianday(paid_on) - julianday(due_date) end) as avg_days,
      sum(case when paid_on > due_date then 1 else 0 end) as late
    from invoices where org_id = ? and issue_date <= ? group by contact_id`;
  const floor = async () => (await store.runMany(floorSql, [[asOf, org.id, asOf]]))[0]!.length;

  // The scores read back from the store must be the in-memory ledger's.
  const expected = JSON.stringify(scoreOrganisation(input, asOf));
  const loaded = await loadMonitorInput(store.db, org, undefined, asOf);
  const ok = JSON.stringify(scoreOrganisation(loaded, asOf)) === expected;
  console.log(
    ok
      ? `    check: scores from the store equal the in-memory ledger's (${loaded.invoices.length} invoices, ${loaded.allocations.length} allocations read)`
      : "    check FAILED: scores from the store differ from the in-memory ledger's",
  );

  const withRef = process.argv.includes("--reference");
  const floorTimes: number[] = [];
  const e2eTimes: number[] = [];
  const loadTimes: number[] = [];
  const scoreTimes: number[] = [];
  const runTimes: number[] = [];
  const refTimes: number[] = [];
  // CPU time of this process (all its threads, the garbage collector's included) beside the wall clock: on a
  // shared machine another process's load stretches wall times, not the CPU time of the work itself.
  const cpu = { floor: [] as number[], e2e: [] as number[], run: [] as number[] };
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let groups = 0;
  let scored = 0;
  const now = Date.parse("2026-01-01T02:00:00Z");
  // A scoring run as the nightly job makes it (src/scoring/run-scoring.ts): load, score, broken promises, store
  // the day's scores in one transaction, raise new deterioration alerts. Before each timed run the day's scores
  // are deleted (not timed), so every run stores its rows afresh as on a new day.
  const clearDay = () => store.runMany("delete from scores where org_id = ? and as_of = ?", [[org.id, asOf]]);
  await floor();
  scoreOrganisation(await loadMonitorInput(store.db, org, undefined, asOf), asOf);
  await runScoring(store, org, { now, asOf });
  for (let r = 0; r < runs; r++) {
    let c0 = cpuNow();
    floorTimes.push(await timeAsync(async () => (groups = await floor())));
    cpu.floor.push(cpuNow() - c0);
    c0 = cpuNow();
    const a = performance.now();
    const inp = await loadMonitorInput(store.db, org, undefined, asOf);
    const b = performance.now();
    scored = scoreOrganisation(inp, asOf).length;
    const c = performance.now();
    cpu.e2e.push(cpuNow() - c0);
    loadTimes.push(b - a);
    scoreTimes.push(c - b);
    e2eTimes.push(c - a);
    await clearDay();
    c0 = cpuNow();
    runTimes.push(await timeAsync(() => runScoring(store, org, { now, asOf })));
    cpu.run.push(cpuNow() - c0);
    if (withRef) refTimes.push(await timeAsync(() => referenceLoadMonitorInput(store.db, org)));
  }
  console.log(`    SQL aggregate pass over invoices (floor): ${stats(floorTimes)} (${groups} groups)`);
  console.log(`    loadMonitorInput + scoreOrganisation:     ${stats(e2eTimes)} (${scored} customers)`);
  console.log(`    runScoring (load, score, store, alerts):  ${stats(runTimes)}`);
  const ratios = floorTimes.map((f, i) => e2eTimes[i]! / f);
  console.log(`    per-run ratios: ${ratios.map((x) => x.toFixed(2)).join(", ")}`);
  const best = Math.min(...e2eTimes) / Math.min(...floorTimes);
  const med = median(e2eTimes) / median(floorTimes);
  console.log(
    `    ratio end to end / SQL floor: best ${best.toFixed(2)}x, median ${med.toFixed(2)}x (target <= 4x, issue 18: ${med <= 4 ? "MET" : "MISSED"})`,
  );
  const runRatios = floorTimes.map((f, i) => runTimes[i]! / f);
  console.log(
    `    per-run ratios with storing (runScoring): ${runRatios.map((x) => x.toFixed(2)).join(", ")}`,
  );
  const runMed = median(runTimes) / median(floorTimes);
  console.log(
    `    ratio runScoring / SQL floor: best ${(Math.min(...runTimes) / Math.min(...floorTimes)).toFixed(2)}x, median ${runMed.toFixed(2)}x (target <= 4x: ${runMed <= 4 ? "MET" : "MISSED"})`,
  );
  const cpuRatio = (xs: number[]) =>
    `best ${(Math.min(...xs) / Math.min(...cpu.floor)).toFixed(2)}x, median ${(median(xs) / median(cpu.floor)).toFixed(2)}x`;
  console.log(
    `    CPU time: floor median ${median(cpu.floor).toFixed(0)} ms; load + score ${cpuRatio(cpu.e2e)}; runScoring ${cpuRatio(cpu.run)}`,
  );
  if (process.argv.includes("--phases")) {
    console.log(`    phases: load ${stats(loadTimes)}; score ${stats(scoreTimes)}`);
    const results = scoreOrganisation(loaded, asOf);
    const save = await timeAsync(() =>
      store.atomically(() => saveScores(store.db, org.id, asOf, results, 0)),
    );
    console.log(
      `    storing the ${results.length} results (saveScores, once, not in the ratio): ${save.toFixed(0)} ms`,
    );
  }
  if (withRef) console.log(`    reference loader (before the speed work): ${stats(refTimes)}`);
  await store.close();
  return ok;
}

async function main(): Promise<void> {
  const runs = Math.max(1, Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5));
  console.log(`SPEED: 10,000 customers, 1,000,000 invoices (seeded), as of 2025-12-31; ${runs} runs`);
  const asOf = "2025-12-31";
  const input = generate(10_000, 100, asOf, 42);
  if (process.argv.includes("--e2e")) {
    if (!(await endToEnd(input, asOf, runs))) process.exitCode = 1;
    return;
  }
  const db = new Database(":memory:");
  db.exec(
    "CREATE TABLE invoices (id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, issue_date TEXT NOT NULL, due_date TEXT NOT NULL, total_minor INTEGER NOT NULL, amount_due_minor INTEGER NOT NULL, paid_on TEXT)",
  );
  const insert = db.prepare("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (const i of input.invoices) {
      insert.run(i.id, i.contactId, i.issueDate, i.dueDate, i.totalMinor, i.amountDueMinor, i.paidOn);
    }
  })();
  const query = db.prepare(`
    SELECT contact_id, count(*) AS n, sum(total_minor) AS total, sum(amount_due_minor) AS outstanding,
      sum(CASE WHEN amount_due_minor > 0 AND due_date < @asOf THEN amount_due_minor ELSE 0 END) AS overdue,
      avg(CASE WHEN paid_on IS NOT NULL THEN julianday(paid_on) - julianday(due_date) END) AS avg_days,
      sum(CASE WHEN paid_on > due_date THEN 1 ELSE 0 END) AS late
    FROM invoices WHERE issue_date <= @asOf GROUP BY contact_id`);
  if (!sameAsStraightforward(input, asOf)) process.exitCode = 1;
  const sqlTimes: number[] = [];
  const monTimes: number[] = [];
  let groups = 0;
  let scored = 0;
  query.all({ asOf });
  scoreOrganisation(input, asOf);
  for (let i = 0; i < runs; i++) {
    sqlTimes.push(time(() => (groups = query.all({ asOf }).length)));
    monTimes.push(time(() => (scored = scoreOrganisation(input, asOf).length)));
  }
  const sqlMs = median(sqlTimes);
  const monMs = median(monTimes);
  const ratios = sqlTimes.map((s, i) => monTimes[i]! / s);
  console.log(
    `    SQL aggregate pass (floor): ${sqlTimes.map((t) => t.toFixed(0)).join(", ")} ms -> median ${sqlMs.toFixed(0)} ms (${groups} groups)`,
  );
  console.log(
    `    scoreOrganisation:          ${monTimes.map((t) => t.toFixed(0)).join(", ")} ms -> median ${monMs.toFixed(0)} ms (${scored} customers)`,
  );
  const m = assessOrganisation(input, asOf).model;
  console.log(`    (model fitted on ${m.trainingRows} training rows, kind ${m.kind})`);
  console.log(`    per-run ratios: ${ratios.map((r) => r.toFixed(2)).join(", ")}`);
  console.log(
    `    ratio monitor / SQL floor (medians): ${(monMs / sqlMs).toFixed(2)}x (target <= 5x: ${monMs / sqlMs <= 5 ? "MET" : "MISSED"})`,
  );
  if (process.argv.includes("--phases")) phases(input, asOf);
  db.close();
  if (!(await endToEnd(input, asOf, runs))) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) await main();
