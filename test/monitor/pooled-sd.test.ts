import { describe, expect, it } from "vitest";
import { createRandom } from "../../src/demo/random";
import { addDays } from "../../src/model";
import { observationsOf, restrictToAsOf } from "../../src/monitor/index";
import { pooledSettledSd, pooledWithinSd } from "../../src/monitor/trend";
import { buildLedger, type InvoiceSpec } from "./factory";

/**
 * Scoring works out the organisation's pooled SD straight from the customers' invoices (pooledSettledSd) rather
 * than from their observations; the result must be pooledWithinSd of the observations to the last bit, over part
 * payments, credit notes alone, open and overdue invoices, and invoices without allocation rows.
 */
describe("pooledSettledSd", () => {
  it("equals pooledWithinSd of the customers' observations exactly", () => {
    const random = createRandom(5);
    const rnd = () => random.next();
    let compared = 0;
    for (let t = 0; t < 40; t++) {
      const customers = Array.from({ length: 1 + Math.floor(rnd() * 8) }, (_, c) => `c${c}`);
      const invoices: InvoiceSpec[] = [];
      for (let k = 0; k < 30 + Math.floor(rnd() * 150); k++) {
        const issue = addDays("2024-01-01", Math.floor(rnd() * 500));
        const total = 1_000 + Math.floor(rnd() * 90_000);
        const late = Math.round(rnd() * 60 - 20);
        const r = rnd();
        const settle = addDays(issue, 30 + late);
        invoices.push({
          contact: customers[Math.floor(rnd() * customers.length)]!,
          issue,
          total,
          events:
            r < 0.15
              ? []
              : r < 0.3
                ? [{ date: settle, amount: Math.floor(total / 2) }, { date: addDays(settle, 9) }]
                : r < 0.4
                  ? [{ date: settle, kind: "credit_note", creditNoteId: `cn${k}` }]
                  : [{ date: settle }],
          noAllocations: r > 0.9,
        });
      }
      const input = buildLedger({ contacts: customers, invoices });
      for (const asOf of ["2024-06-30", "2025-03-31", "2026-01-01"]) {
        const ledger = restrictToAsOf(input, asOf);
        const lists = ledger.contacts.map((c) => ledger.invoicesByContact.get(c.id) ?? []);
        const expected = pooledWithinSd(lists.map((l) => observationsOf(l, ledger.asOfDay)));
        expect(Object.is(pooledSettledSd(lists), expected)).toBe(true);
        if (expected !== 7) compared++;
      }
    }
    expect(compared).toBeGreaterThan(60);
  });
});
