/**
 * The charge rule as organisations store and edit it, checked with zod: a fixed fee per level, a yearly
 * percentage after a grace period, or UK statutory interest with the base rate it is 8% over. Rates are basis
 * points (1% = 100), fees minor units.
 */
import { z } from "zod";
import { currencyCode } from "../model";
import type { ChargeRule } from "./charges";

export const chargeRuleSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("fixed"),
    currency: currencyCode,
    feePerLevel: z.array(z.number().int().min(0).max(100_000_000)).min(1).max(20),
  }),
  z.object({
    kind: z.literal("percent"),
    ratePerAnnumBp: z.number().int().min(1).max(10_000),
    graceDays: z.number().int().min(0).max(365),
  }),
  z.object({ kind: z.literal("uk-statutory"), baseRateBp: z.number().int().min(0).max(2_000) }),
]);

/** The stored rule, or null when charges are off (or the stored value no longer reads as a rule). */
export function readChargeRule(stored: unknown): ChargeRule | null {
  if (!stored) return null;
  const parsed = chargeRuleSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}
