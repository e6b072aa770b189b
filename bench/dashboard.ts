/**
 * Server time of the organisation page for 10,000 customers (target: under 200 ms), through app.request on an
 * in-memory store seeded by the demo generator and scored once. Prints the median of several requests.
 *
 *   npx tsx bench/dashboard.ts [customers]
 */
import { fixedClock } from "../src/clock";
import { loadConfig } from "../src/config";
import { createApp } from "../src/http/app";
import { seedDemo } from "../src/import/demo";
import { silentLogger } from "../src/log";
import { runScoring } from "../src/scoring/run-scoring";
import { findOrgBySlug } from "../src/store/orgs";
import { sealerFromSecret } from "../src/store/secrets";
import { openSqliteStore } from "../src/store/sqlite";
import { signIn } from "../test/support/auth";

const customers = Number(process.argv[2] ?? 10_000);
const secret = "bench-secret-0123456789abcdef0123456789abcdef";
const clock = fixedClock("2026-11-20T10:00:00Z");
const store = openSqliteStore(":memory:");
const deps = {
  store,
  clock,
  log: silentLogger,
  config: loadConfig({ CREDITPULSE_DB: ":memory:", CREDITPULSE_SCHEDULER: "0", LOG_LEVEL: "silent" }),
  secret,
  sealer: await sealerFromSecret(secret),
};

let t = performance.now();
const seeded = await seedDemo(store, { customers, seed: 7, now: clock.now() });
console.log(
  `seeded ${customers} customers, ${seeded.counts.invoices.created} invoices in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);
const org = (await findOrgBySlug(store.db, "demo"))!;
t = performance.now();
await runScoring(store, org, { now: clock.now() });
console.log(`scored in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const session = await signIn(deps);
const app = createApp(deps);
async function time(path: string, runs = 9) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs + 1; i++) {
    const s = performance.now();
    const res = await app.request(path, { headers: { cookie: session.cookie, accept: "text/html" } });
    bytes = (await res.text()).length;
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    if (i > 0) times.push(performance.now() - s); // the first request warms caches
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `${path}: median ${median.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)}), ${(bytes / 1024).toFixed(0)} KiB${median < 200 ? "" : "  ** over the 200 ms target **"}`,
  );
}
await time("/orgs/demo");
await time("/orgs/demo?risk=1");
await time("/");
await store.close();
