/**
 * The demo customers' behaviour profiles and payment terms, and how many customers get each profile.
 */
export const DEMO_PROFILES = [
  "reliable",
  "early",
  "slow_steady",
  "chronic_late",
  "deteriorating",
  "defaulting",
] as const;
export type DemoProfile = (typeof DEMO_PROFILES)[number];

export const DEMO_PAYMENT_TERMS = ["net7", "net14", "net30", "net60", "eom"] as const;
/** Net N days from the issue date, or "eom": the end of the month following the issue month. */
export type DemoPaymentTerms = (typeof DEMO_PAYMENT_TERMS)[number];

/** Share of customers per profile; "reliable" takes whatever the others leave. */
const PROFILE_SHARE: Record<Exclude<DemoProfile, "reliable">, number> = {
  early: 0.15,
  slow_steady: 0.12,
  chronic_late: 0.08,
  deteriorating: 0.1,
  defaulting: 0.07,
};

/**
 * How many customers get each profile: about half reliable, 15% early, 12% slow but steady, 8% chronically
 * late, 10% deteriorating and 7% defaulting. Any ledger of two or more customers has at least one reliable
 * and one deteriorating customer.
 */
export function demoProfileMix(customers: number): Record<DemoProfile, number> {
  const mix: Record<DemoProfile, number> = {
    reliable: 0,
    early: Math.round(PROFILE_SHARE.early * customers),
    slow_steady: Math.round(PROFILE_SHARE.slow_steady * customers),
    chronic_late: Math.round(PROFILE_SHARE.chronic_late * customers),
    deteriorating: Math.round(PROFILE_SHARE.deteriorating * customers),
    defaulting: Math.round(PROFILE_SHARE.defaulting * customers),
  };
  if (customers >= 2) mix.deteriorating = Math.max(1, mix.deteriorating);
  // Keep at least one reliable customer, giving up the least essential profiles first.
  const yieldOrder = ["defaulting", "chronic_late", "slow_steady", "early", "deteriorating"] as const;
  for (const profile of yieldOrder) {
    while (customers - others(mix) < 1 && mix[profile] > (profile === "deteriorating" ? 1 : 0)) {
      mix[profile]--;
    }
  }
  mix.reliable = customers - others(mix);
  return mix;
}

function others(mix: Record<DemoProfile, number>): number {
  return mix.early + mix.slow_steady + mix.chronic_late + mix.deteriorating + mix.defaulting;
}
