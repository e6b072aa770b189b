import { describe, expect, it } from "vitest";
import { createRandom } from "../../src/demo/random";
import { addDays } from "../../src/model";
import type {
  MonitorAllocation,
  MonitorContact,
  MonitorCreditNote,
  MonitorInvoice,
  OrgInput,
} from "../../src/model/monitor";
import { restrictToAsOf } from "../../src/monitor/as-of";
import { referenceRestrictToAsOf } from "../support/reference-as-of";

/** A messy ledger: part payments, credit notes, undated settlements, ignored rows, unknown references. */
function messyLedger(seed: number): OrgInput {
  const random = createRandom(seed);
  const rnd = () => random.next();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const contacts: MonitorContact[] = Array.from({ length: 12 }, (_, c) => ({
    id: `con_${c}`,
    externalId: `C${c}`,
    name: `Customer ${c}`,
    creditLimitMinor: c % 3 === 0 ? 50_000 : null,
    deleted: c === 11,
  }));
  const invoices: MonitorInvoice[] = [];
  const allocations: MonitorAllocation[] = [];
  const creditNotes: MonitorCreditNote[] = [];
  for (let i = 0; i < 400; i++) {
    const contactId = i % 50 === 7 ? "con_unknown" : `con_${Math.floor(i / 34)}`;
    const issue = addDays("2023-01-01", Math.floor(rnd() * 500));
    const total = rnd() < 0.03 ? 0 : 1_000 + Math.floor(rnd() * 90_000);
    const id = `inv_${i}`;
    const events: MonitorAllocation[] = [];
    const parts = rnd() < 0.6 ? 1 : Math.floor(rnd() * 4);
    let left = total;
    for (let k = 0; k < parts && left > 0; k++) {
      const amount = k === parts - 1 ? left : Math.min(left, Math.floor((rnd() * total) / 2));
      left -= amount;
      const kind = rnd() < 0.15 ? "credit_note" : "payment";
      events.push({
        invoiceId: id,
        amountMinor: amount,
        date: addDays(issue, Math.floor(rnd() * 90)),
        kind,
        creditNoteId: kind === "credit_note" ? `cn_${Math.floor(rnd() * 20)}` : null,
      });
    }
    const undated = rnd() < 0.1;
    const paidMinor = events.filter((e) => e.kind === "payment").reduce((s, e) => s + e.amountMinor, 0);
    const creditedMinor = total - left - paidMinor;
    const lastDate =
      events
        .map((e) => e.date)
        .sort()
        .at(-1) ?? null;
    invoices.push({
      id,
      contactId,
      number: `INV-${i}`,
      issueDate: issue,
      dueDate: addDays(issue, pick([14, 30, 30, 60])),
      currency: pick(["GBP", "GBP", "GBP", "EUR", "USD"]),
      totalMinor: total,
      amountPaidMinor: paidMinor,
      amountCreditedMinor: creditedMinor,
      amountDueMinor: left,
      status: rnd() < 0.05 ? pick(["draft", "void", "deleted"] as const) : left === 0 ? "paid" : "authorised",
      paidOn: left === 0 && !(undated && rnd() < 0.5) ? lastDate : null,
    });
    if (!undated) allocations.push(...events);
  }
  allocations.push({ invoiceId: "inv_missing", amountMinor: 500, date: "2023-05-05", kind: "payment" });
  for (let n = 0; n < 20; n++) {
    creditNotes.push({
      id: `cn_${n}`,
      contactId: `con_${n % 12}`,
      issueDate: addDays("2023-01-01", Math.floor(rnd() * 500)),
      currency: pick(["GBP", "EUR"]),
      totalMinor: 5_000 + Math.floor(rnd() * 50_000),
      status: n === 3 ? "void" : "authorised",
    });
  }
  return { baseCurrency: "GBP", contacts, invoices, allocations, creditNotes };
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const random = createRandom(seed);
  const rnd = () => random.next();
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("restrictToAsOf against the straightforward reference", () => {
  const dates = ["2022-12-31", "2023-03-15", "2023-08-01", "2024-01-31", "2024-12-31"];
  for (const seed of [1, 2, 3]) {
    const ledger = messyLedger(seed);
    const orders: Record<string, OrgInput> = {
      "rows in invoice order": ledger,
      "allocations reversed": { ...ledger, allocations: [...ledger.allocations].reverse() },
      "one allocation out of order": {
        ...ledger,
        allocations: [
          ...ledger.allocations.slice(1, 200),
          ledger.allocations[0]!,
          ...ledger.allocations.slice(200),
        ],
      },
      "everything shuffled": {
        ...ledger,
        contacts: shuffled(ledger.contacts, seed),
        invoices: shuffled(ledger.invoices, seed + 10),
        allocations: shuffled(ledger.allocations, seed + 20),
      },
    };
    for (const [name, input] of Object.entries(orders)) {
      it(`seed ${seed}, ${name}: the same ledger on every date`, () => {
        for (const d of dates) expect(restrictToAsOf(input, d)).toEqual(referenceRestrictToAsOf(input, d));
      });
    }
  }
});
