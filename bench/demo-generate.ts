/**
 * The demo-ledger generator's speed: 1,000 customers (two years of invoices, payments and credit notes) must
 * take well under a few seconds. Beside it, in the same run: 50 customers scaled by 20 (the generator's work
 * should grow in step with its customers) and a structured copy of the same ledger (a floor for this machine:
 * building the records cannot cost less than copying them).
 *
 *   npx tsx bench/demo-generate.ts          # 1,000 customers, best of 5 runs
 *   npx tsx bench/demo-generate.ts 5000 3   # other sizes and run counts
 *
 * Exits 1 when the 1,000-customer target (3,000 ms) is missed. test/demo/generate.test.ts checks what the
 * generator produces; the time is measured here, never in a test.
 */
import { performance } from "node:perf_hooks";
import { generateDemoLedger } from "../src/demo/generate";

const AS_OF = "2026-05-15";
const customers = Number(process.argv[2] ?? 1000);
const runs = Number(process.argv[3] ?? 5);
const TARGET_MS = 3000;

function best(fn: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

generateDemoLedger({ asOf: AS_OF, customers: 50 }); // warm up
const ledger = generateDemoLedger({ asOf: AS_OF, customers });
const full = best(() => generateDemoLedger({ asOf: AS_OF, customers }));
const small = best(() => generateDemoLedger({ asOf: AS_OF, customers: 50 }));
const copy = best(() => structuredClone(ledger));

const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(
  `demo ledger: ${customers} customers, ${ledger.invoices.length} invoices, ${ledger.payments.length} payments, ` +
    `${ledger.creditNotes.length} credit notes (best of ${runs})`,
);
const line = (label: string, text: string) => console.log(`  ${label.padEnd(24)}${text}`);
const scaled = small * (customers / 50);
line("generate:", ms(full));
line(`50 customers x ${customers / 50}:`, `${ms(scaled)}  (ratio ${(full / scaled).toFixed(2)})`);
line("structuredClone floor:", `${ms(copy)}  (ratio ${(full / copy).toFixed(1)})`);
if (customers === 1000) {
  const met = full < TARGET_MS;
  line("target:", `1,000 customers under ${TARGET_MS} ms: ${met ? "met" : "NOT MET"}`);
  if (!met) process.exitCode = 1;
}
