/**
 * bench/fanout.ts: 10,000 organisations through the Workers queue design, in simulated time.
 *
 * - Sizes: customers per organisation drawn from a log-uniform 20..1,000 (seeded); invoices per customer and
 *   the open share measured from the demo generator's ledger.
 * - Xero calls: each sync message makes the calls its pages need (1,000 records a page, one call per entity
 *   stream at least), through the REAL limiter code (connectors/limits.ts createRateLimiter) with Xero's limits:
 *   per tenant 60/min, 5 concurrent, 5,000/day; per app 10,000/min. On Workers those limiters run inside
 *   Durable Objects (one per tenant, one app-wide), the same code. Each call takes XERO_LATENCY_MS.
 * - Queue: up to CONSUMERS messages handled at once (Cloudflare Queues' consumer concurrency), one
 *   organisation per message, a sync continuing in a new message after PAGES_PER_MESSAGE pages.
 * - D1 queries per message: measured by running the real job code for one demo organisation on the embedded
 *   store and counting the statements it prepares (runMany batches count once per batch, as on D1).
 *
 * Prints: full sync round (first backfill and a 15-minute incremental round), hourly remind round, peak Xero
 * calls per minute per tenant and app-wide (never above the limits), and D1 queries per message.
 * Run: npm run bench:fanout  (ORGS=2000 for a quicker run)
 */
import { createRateLimiter, type RateLimiter } from "../connectors/limits";
import { loadConfig } from "../src/config";
import { generateDemoLedger } from "../src/demo/generate";
import { seedDemo } from "../src/import/demo";
import { silentLogger } from "../src/log";
import type { Mailer } from "../src/mail/mailer";
import { runReminders } from "../src/reminders/dispatch";
import { runScoring } from "../src/scoring/run-scoring";
import { warmTodaysSummary } from "../src/store/dashboard-summary";
import { listOrgs } from "../src/store/orgs";
import { openSqliteStore } from "../src/store/sqlite";
import { mulberry32 } from "./prng";

const ORGS = Number(process.env.ORGS ?? 10_000);
const CONSUMERS = Number(process.env.CONSUMERS ?? 250);
const PAGES_PER_MESSAGE = 20;
const XERO_LATENCY_MS = 400;
const D1_QUERY_MS = 2;
/** D1 queries one Worker invocation may make (paid plan). */
const D1_QUERIES_PER_INVOCATION = 1000;
const LIMITS = { perMinute: 60, concurrent: 5, perDay: 5000, appPerMinute: 10_000 };
/** Xero streams per sync: contacts, invoices, payments, credit notes, overpayments, prepayments. */
const STREAMS = 6;

// --- simulated time -------------------------------------------------------------------------------------
let now = Date.parse("2026-11-24T00:00:00Z");
const clock = { now: () => now };
const timers: { at: number; resolve: () => void }[] = [];
const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    timers.push({ at: now + Math.max(0, ms), resolve });
  });
async function runUntilIdle(done: () => boolean) {
  for (;;) {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    if (done()) return;
    if (timers.length === 0) throw new Error("deadlock: nothing scheduled and not done");
    timers.sort((a, b) => a.at - b.at);
    const t = timers.shift()!;
    now = Math.max(now, t.at);
    t.resolve();
  }
}

// --- D1 queries per message, measured on the real code ----------------------------------------------------
async function measureQueries() {
  let statements = 0;
  const t0 = Date.parse("2026-11-24T10:30:00Z");
  const open = async () => {
    const store = openSqliteStore(":memory:", { onStatement: () => statements++ });
    await seedDemo(store, { now: t0, customers: 200, seed: 3 });
    return { store, org: (await listOrgs(store.db))[0]! };
  };
  const { store, org } = await open();
  const count = async (work: () => Promise<unknown>) => {
    statements = 0;
    await work();
    return statements;
  };
  const score = await count(() => runScoring(store, org, { now: t0 }));
  const summaries = await count(() => warmTodaysSummary(store, org, t0 + 86_400_000));
  const mailer: Mailer = {
    async send(m) {
      return { messageId: m.messageId, accepted: m.to, rejected: [], response: "250" };
    },
    async close() {},
  };
  const config = loadConfig({
    MAIL_FROM: "c@x.test",
    SMTP_URL: "smtp://127.0.0.1:25",
    LOG_LEVEL: "silent",
    ...(process.env.REMIND_EMAILS_PER_MESSAGE
      ? { REMIND_EMAILS_PER_MESSAGE: process.env.REMIND_EMAILS_PER_MESSAGE }
      : {}),
  });
  const deps = { store, config, log: silentLogger, secret: "s".repeat(40), mailer };
  const at = { kind: "instant", at: t0 } as const;
  // Before: the whole organisation's reminders in one message (no budget), on its own copy of the demo.
  const unbudgeted = await count(() => runReminders(deps, { org, at, now: t0 }));
  await store.close();
  // After: messages of REMIND_EMAILS_PER_MESSAGE emails/hold decisions each, continuing until nothing is left.
  const fresh = await open();
  const perMessage: number[] = [];
  let emails = 0;
  let resumeAfter: string | undefined;
  do {
    let report: Awaited<ReturnType<typeof runReminders>> | undefined;
    perMessage.push(
      await count(async () => {
        report = await runReminders(
          { ...deps, store: fresh.store },
          { org: fresh.org, at, now: t0, budget: config.REMIND_EMAILS_PER_MESSAGE, resumeAfter },
        );
      }),
    );
    emails += report!.emails.filter((e) => e.status === "sent").length;
    resumeAfter = report!.more ? report!.resumeAfter : undefined;
  } while (resumeAfter !== undefined);
  await fresh.store.close();
  if (process.env.BENCH_VERBOSE) console.log(`remind queries per message: ${perMessage.join(", ")}`);
  return {
    score,
    summaries,
    unbudgeted,
    remind: Math.max(...perMessage),
    remindMessages: perMessage.length,
    remindEmails: emails,
    budget: config.REMIND_EMAILS_PER_MESSAGE,
  };
}

// --- the queue simulation --------------------------------------------------------------------------------
interface Org {
  id: number;
  invoices: number;
  contacts: number;
}

function organisations(): Org[] {
  const ledger = generateDemoLedger({ customers: 60, seed: 5, asOf: "2026-11-24" });
  const perCustomer = ledger.invoices.length / ledger.contacts.length;
  const rand = mulberry32(42);
  return Array.from({ length: ORGS }, (_, id) => {
    const contacts = Math.round(20 * (1000 / 20) ** rand());
    return { id, contacts, invoices: Math.round(contacts * perCustomer) };
  });
}

async function round(
  label: string,
  orgs: Org[],
  callsFor: (o: Org) => number,
  d1PerMessage: number,
  /** Continuation messages an organisation needs beyond the first regardless of calls (a remind budget). */
  extraMessagesFor: (o: Org) => number = () => 0,
): Promise<{ label: string; minutes: number; messages: number; peakTenant: number; peakApp: number }> {
  const app = createRateLimiter({ perMinute: LIMITS.appPerMinute, concurrent: 1e9 }, clock, sleep);
  const tenants = new Map<number, RateLimiter>();
  const appCalls: number[] = [];
  const tenantCalls = new Map<number, number[]>();
  const start = now;
  type Msg = { org: Org; calls: number; extra: number };
  const queue: Msg[] = orgs.map((org) => ({ org, calls: callsFor(org), extra: extraMessagesFor(org) }));
  let messages = 0;
  let running = 0;
  const call = async (o: Org) => {
    let t = tenants.get(o.id);
    if (!t) {
      t = createRateLimiter(LIMITS, clock, sleep);
      tenants.set(o.id, t);
    }
    await t.schedule(() =>
      app.schedule(async () => {
        appCalls.push(now);
        const mine = tenantCalls.get(o.id) ?? [];
        mine.push(now);
        tenantCalls.set(o.id, mine);
        await sleep(XERO_LATENCY_MS);
      }),
    );
  };
  const consume = async (m: Msg) => {
    messages++;
    const here = Math.min(m.calls, PAGES_PER_MESSAGE);
    await sleep(d1PerMessage * D1_QUERY_MS);
    for (let i = 0; i < here; i++) await call(m.org); // pages of one sync are sequential
    if (m.calls > here)
      queue.push({ ...m, calls: m.calls - here }); // continues in the next message
    else if (m.extra > 0) queue.push({ ...m, calls: 0, extra: m.extra - 1 });
  };
  const pump = () => {
    while (running < CONSUMERS && queue.length) {
      const m = queue.shift()!;
      running++;
      void consume(m).finally(() => {
        running--;
        pump();
      });
    }
  };
  pump();
  await runUntilIdle(() => running === 0 && queue.length === 0);
  const peak = (times: number[]) => {
    let best = 0;
    let j = 0;
    for (let i = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 60_000) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  };
  let peakTenant = 0;
  for (const t of tenantCalls.values()) peakTenant = Math.max(peakTenant, peak(t));
  return { label, minutes: (now - start) / 60_000, messages, peakTenant, peakApp: peak(appCalls) };
}

const q = await measureQueries();
const orgs = organisations();
const pagesOf = (o: Org) => STREAMS - 2 + Math.ceil(o.contacts / 1000) + Math.ceil(o.invoices / 1000) * 2;
const results = [
  await round("first sync (backfill) of every organisation", orgs, pagesOf, 60),
  await round("15-minute incremental sync round", orgs, () => STREAMS, 60),
  // Remind: Xero is only called to write back a credit hold (~1 organisation in 20 places one each hour).
  // Each message handles up to REMIND_EMAILS_PER_MESSAGE emails; the demo's share of customers due one is used.
  await round(
    "hourly remind round",
    orgs,
    (o) => (o.id % 20 === 0 ? 2 : 0),
    q.remind,
    (o) => Math.max(0, Math.ceil((o.contacts * q.remindEmails) / 200 / q.budget) - 1),
  ),
];
console.log(
  `bench/fanout: ${ORGS} organisations, ${CONSUMERS} concurrent consumers, Xero latency ${XERO_LATENCY_MS} ms,`,
);
console.log(
  `  D1 ${D1_QUERY_MS} ms a query, ${PAGES_PER_MESSAGE} pages a sync message; limits per tenant 60/min, 5 concurrent; app 10,000/min`,
);
console.log(
  `  customers per organisation 20..1,000 (median ${orgs.map((o) => o.contacts).sort((a, b) => a - b)[orgs.length >> 1]})`,
);
for (const r of results)
  console.log(
    `  ${r.label}: ${r.minutes.toFixed(1)} min, ${r.messages} messages, peak calls/min per tenant ${r.peakTenant} (limit 60), app-wide ${r.peakApp} (limit 10,000)`,
  );
console.log(
  `  D1 queries per message (measured, 200-customer demo organisation): score ${q.score}, summaries ${q.summaries}, remind ${q.remind} at most (${q.remindMessages} messages of up to ${q.budget} emails/hold decisions, ${q.remindEmails} emails sent; ${q.unbudgeted} in one unbudgeted run); sync ~60 (issue measurement)`,
);
if (q.remind >= D1_QUERIES_PER_INVOCATION) {
  console.error(`REMIND MESSAGE OVER ${D1_QUERIES_PER_INVOCATION} D1 QUERIES`);
  process.exit(1);
}
for (const r of results)
  if (r.peakTenant > LIMITS.perMinute || r.peakApp > LIMITS.appPerMinute) {
    console.error("LIMIT EXCEEDED");
    process.exit(1);
  }
