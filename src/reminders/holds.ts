/**
 * Credit holds follow the money: a customer goes on hold when an invoice reaches a hold level of its policy,
 * or when what it owes passes its credit limit by the margin; it comes off hold when its overdue balance is
 * cleared (and it is back within the limit). Disputed invoices count for neither.
 *
 * PURE: decides; src/reminders/run.ts records, writes back and tells the owner.
 */
import type { HoldState } from "../model";

export interface HoldFacts {
  holdState: HoldState;
  /** Excluded customers are left alone entirely. */
  excluded: boolean;
  /** Chasing paused (e.g. a promise to pay): no new hold, but a release still happens. */
  paused: boolean;
  /** Some chaseable invoice has reached a level that places a hold. */
  holdLevelReached: boolean;
  /** Amount due on chaseable invoices past their due date (any currency). */
  overdueMinor: number;
  /** Amount due on all open, undisputed invoices in the organisation's base currency. */
  outstandingBaseMinor: number;
  creditLimitMinor: number | null;
  /** Percent over the credit limit that places a hold (10 = 110% of the limit). */
  marginPct: number;
}

export type HoldDecision = { action: "place"; reason: string } | { action: "release"; reason: string } | null;

export function overLimit(
  f: Pick<HoldFacts, "creditLimitMinor" | "outstandingBaseMinor" | "marginPct">,
): boolean {
  if (f.creditLimitMinor === null || f.creditLimitMinor === undefined) return false;
  return f.outstandingBaseMinor * 100 > f.creditLimitMinor * (100 + f.marginPct);
}

export function decideHold(f: HoldFacts): HoldDecision {
  const limitBreached = overLimit(f);
  if (f.holdState === "none") {
    if (f.excluded || f.paused) return null;
    if (f.holdLevelReached) return { action: "place", reason: "an invoice reached the credit-hold level" };
    if (limitBreached)
      return { action: "place", reason: `over the credit limit by more than ${f.marginPct}%` };
    return null;
  }
  if (f.overdueMinor <= 0 && !limitBreached)
    return { action: "release", reason: "the overdue balance is cleared" };
  return null;
}
