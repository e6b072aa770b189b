/**
 * Which late-payment charges to propose for one invoice as of a date, split by kind, given what was charged
 * before. Each proposal has a period that makes it unique (the store refuses a second one for the same invoice,
 * kind and period): interest once a month (`2026-12`, only the days not charged yet), compensation once
 * (`once`), a fee once per level reached (`level-2`). Whatever an earlier charge of the kind came to counts as
 * charged whether it was approved, written or rejected (a rejected charge is waived, not proposed again), and
 * nothing new is proposed for a kind while one of its proposals still waits for a person.
 *
 * PURE: no store, no clock, no node imports.
 */
import { currencyExponent, formatMinor, type IsoDate } from "../model";
import { type ChargeableInvoice, type ChargeRule, chargeFor, STATUTORY_MARGIN_BP } from "./charges";

export type ChargeKind = "interest" | "compensation" | "fee";

export interface EarlierCharge {
  kind: ChargeKind;
  period: string;
  amountMinor: number;
  status: string;
}

export interface ProposedCharge {
  kind: ChargeKind;
  period: string;
  amountMinor: number;
  currency: string;
  /** How it was worked out, in plain words. */
  detail: string;
}

export type ChargePlan = { propose: ProposedCharge[] } | { propose: []; reason: string };

const pct = (bp: number) => `${(bp / 100).toFixed(2).replace(/\.?0+$/, "")}%`;

/**
 * Proposals for `invoice` under `rule` as of `asOf`. Interest below `minInterestMinor` (default: one major unit
 * of the invoice's currency, e.g. £1) is not proposed yet: it waits until it has grown worth a ledger invoice.
 */
export function planCharges(
  rule: ChargeRule,
  invoice: ChargeableInvoice,
  asOf: IsoDate,
  earlier: readonly EarlierCharge[],
  minInterestMinor = 10 ** currencyExponent(invoice.currency),
): ChargePlan {
  const out = chargeFor(rule, invoice, asOf);
  if (!out.charge) return { propose: [], reason: out.reason };
  const { due } = out;
  const rate =
    rule.kind === "percent"
      ? rule.ratePerAnnumBp
      : rule.kind === "uk-statutory"
        ? STATUTORY_MARGIN_BP + rule.baseRateBp
        : 0;
  const wanted: [ChargeKind, number, string, string][] = [
    [
      "interest",
      due.interest,
      asOf.slice(0, 7),
      `interest at ${pct(rate)} a year on the balance owed, ${due.daysLate} days late as of ${asOf}`,
    ],
    [
      "compensation",
      due.compensation,
      "once",
      "fixed compensation for late payment (Late Payment of Commercial Debts Act)",
    ],
    [
      "fee",
      due.fees,
      `level-${invoice.levelReached}`,
      `late-payment fee (reminder level ${invoice.levelReached})`,
    ],
  ];
  const propose: ProposedCharge[] = [];
  for (const [kind, amount, period, detail] of wanted) {
    const mine = earlier.filter((e) => e.kind === kind);
    if (mine.some((e) => e.status === "proposed" || e.period === period)) continue;
    const charged = mine.reduce((s, e) => s + e.amountMinor, 0);
    const left = amount - charged;
    if (left < (kind === "interest" ? Math.max(1, minInterestMinor) : 1)) continue;
    propose.push({
      kind,
      period,
      amountMinor: left,
      currency: due.currency,
      detail:
        charged > 0
          ? `${detail}, less ${due.currency} ${formatMinor(charged, due.currency)} already charged`
          : detail,
    });
  }
  return { propose };
}
