/**
 * Credit holds follow the money, and never come as a surprise. A customer becomes due a hold when an invoice
 * reaches a hold level of its policy, or when what it owes passes its credit limit by the margin; but a hold is
 * only proposed (or, in "automatic" mode, placed) once the customer was sent the final notice at least
 * `noticeDays` earlier, to a valid address. In "approve" mode a person approves or dismisses the proposal; a
 * proposal whose reason went away (the customer paid) is withdrawn. A hold comes off when the overdue balance
 * is cleared (and the customer is back within the limit). Disputed invoices count for neither.
 *
 * PURE: decides; src/reminders/hold-worker.ts records, writes back and tells people.
 */
import type { HoldState } from "../model";

export type HoldMode = "approve" | "automatic";

export interface HoldFacts {
  holdState: HoldState;
  /** The hold was placed by hand: only a person releases it. */
  byHand?: boolean;
  /** An open proposal waits for a person (approve mode). */
  proposed: boolean;
  mode: HoldMode;
  /** Excluded customers are left alone entirely. */
  excluded: boolean;
  /** Chasing paused (e.g. a promise to pay): no new hold, but a release still happens. */
  paused: boolean;
  /** Some chaseable invoice has reached a level that places a hold (notice given or not). */
  holdLevelReached: boolean;
  /** Some invoice at the hold level had its final notice at least the notice period ago. */
  holdLevelNoticed: boolean;
  /** Some chaseable invoice had its final notice at least the notice period ago (for credit-limit holds). */
  noticed: boolean;
  /** Amount due on chaseable invoices past their due date (any currency). */
  overdueMinor: number;
  /** Amount due on all open, undisputed invoices in the organisation's base currency. */
  outstandingBaseMinor: number;
  creditLimitMinor: number | null;
  /** Percent over the credit limit that places a hold (10 = 110% of the limit). */
  marginPct: number;
}

export type HoldAction = "place" | "propose" | "release" | "withdraw";
export type HoldDecision = { action: HoldAction; reason: string } | null;

export function overLimit(
  f: Pick<HoldFacts, "creditLimitMinor" | "outstandingBaseMinor" | "marginPct">,
): boolean {
  if (f.creditLimitMinor === null || f.creditLimitMinor === undefined) return false;
  return f.outstandingBaseMinor * 100 > f.creditLimitMinor * (100 + f.marginPct);
}

/** Why a hold is due now (final notice given and the notice period over), or null. */
function holdReason(f: HoldFacts, limitBreached: boolean): string | null {
  if (f.holdLevelNoticed) return "an invoice reached the credit-hold level after the final notice period";
  if (limitBreached && f.noticed)
    return `over the credit limit by more than ${f.marginPct}% after the final notice period`;
  return null;
}

export function decideHold(f: HoldFacts): HoldDecision {
  const limitBreached = overLimit(f);
  if (f.holdState === "on_hold") {
    if (f.byHand) return null;
    if (f.overdueMinor <= 0 && !limitBreached)
      return { action: "release", reason: "the overdue balance is cleared" };
    return null;
  }
  const reason = holdReason(f, limitBreached);
  if (f.proposed) {
    if (f.excluded) return { action: "withdraw", reason: "the customer is excluded from reminders" };
    if (!f.holdLevelReached && !limitBreached)
      return {
        action: "withdraw",
        reason:
          f.overdueMinor <= 0
            ? "the overdue balance is cleared"
            : "no invoice is at the credit-hold level any more (paid, credited, disputed or paused)",
      };
    if (f.mode === "automatic" && reason) return { action: "place", reason };
    return null;
  }
  if (f.excluded || f.paused || !reason) return null;
  return { action: f.mode === "automatic" ? "place" : "propose", reason };
}
