/**
 * The planner's per-run caches: what depends only on a timezone, a currency or a policy is worked out once per
 * run, so 100,000 customers cost little more than their invoices. PURE: no store, no clock, no node imports.
 */
import { dayNumber } from "../days";
import { currencyExponent } from "../model";
import type { Policy, PolicyLevel } from "../model/reminders";
import { type LocalMoment, localMoment, type WindowVerdict } from "./window";

/** Shared per-run caches, so 100,000 customers cost little more than their invoices. */
export interface PlanCache {
  local: Map<string, LocalMoment>;
  /** The sending-window verdict per timezone (it depends only on the local moment). */
  window: Map<string, WindowVerdict>;
  minMinor: Map<string, number>;
  validZone: Map<string, boolean>;
  holdLevel: Map<Policy, PolicyLevel | null>;
  /** The level before the hold level: the final notice (null = the policy has none). */
  noticeLevel: Map<Policy, PolicyLevel | null>;
  /** Local day number of an instant per timezone, by quarter hour (every UTC offset is a multiple of 15 min). */
  localDay: Map<string, number>;
  /** The policy of customers with no policy of their own and no grade. */
  plainPolicy: Policy | undefined;
}

export function createPlanCache(): PlanCache {
  return {
    local: new Map(),
    window: new Map(),
    minMinor: new Map(),
    validZone: new Map(),
    holdLevel: new Map(),
    noticeLevel: new Map(),
    localDay: new Map(),
    plainPolicy: undefined,
  };
}

/** The minimum amount worth chasing in minor units of `currency`. */
export function minMinorFor(currency: string, minAmount: number, cache: PlanCache): number {
  let m = cache.minMinor.get(currency);
  if (m === undefined) {
    m = Math.round(minAmount * 10 ** currencyExponent(currency));
    cache.minMinor.set(currency, m);
  }
  return m;
}

/** The local day number (in `timeZone`) of an instant, cached by quarter hour. */
export function localDayOf(at: number, timeZone: string, cache: PlanCache): number {
  const key = `${timeZone}|${Math.floor(at / 900_000)}`;
  let d = cache.localDay.get(key);
  if (d === undefined) {
    d = dayNumber(localMoment(at, timeZone).date);
    cache.localDay.set(key, d);
  }
  return d;
}
