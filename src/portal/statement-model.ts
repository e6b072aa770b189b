/**
 * The customer's open items and what they owe, computed once for the customers' page, its PDF statement and
 * the dashboard's customer page, so the three always agree: every open invoice with an amount due (oldest due
 * first), and the total due per currency, leaving out disputed invoices (they are listed, marked, but not
 * owed until the dispute is resolved).
 *
 * PURE.
 */
import type { Money } from "../model";

export interface StatementItem {
  currency: string;
  amountDueMinor: number;
  disputedAt: number | null;
}

export interface StatementTotals {
  /** Per currency, in first-seen order: what is owed. */
  totals: Money[];
  /** Per currency: disputed amounts, not in the totals. */
  disputed: Money[];
}

export function statementTotals(items: readonly StatementItem[]): StatementTotals {
  const owed = new Map<string, number>();
  const disputed = new Map<string, number>();
  for (const i of items) {
    if (i.amountDueMinor <= 0) continue;
    const m = i.disputedAt === null ? owed : disputed;
    m.set(i.currency, (m.get(i.currency) ?? 0) + i.amountDueMinor);
  }
  const list = (m: Map<string, number>) => [...m].map(([currency, minor]) => ({ currency, minor }));
  return { totals: list(owed), disputed: list(disputed) };
}
