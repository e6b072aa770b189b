/**
 * Why an overdue customer is not chased, in words, with where to fix it: the reminders page lists every such
 * customer (nobody is silently skipped).
 *
 * PURE.
 */
import { validAddresses } from "../mail/address";
import { currencyExponent, type IsoDate } from "../model";
import type { OverdueCustomer } from "../store/chase";

export type NotChasedReason =
  | "excluded"
  | "opted_out"
  | "paused"
  | "no_address"
  | "disputed"
  | "below_minimum"
  | "customer_pause";

export interface NotChased {
  customer_id: string;
  name: string;
  reason: NotChasedReason;
  text: string;
  /** What to do about it, and where ("customer" page section or "settings"). */
  fix: string;
  fix_at: "customer" | "settings";
}

/** Null when some overdue invoice of the customer can be chased. */
export function whyNotChased(c: OverdueCustomer, today: IsoDate, minAmount: number): NotChased | null {
  const base = { customer_id: c.externalId, name: c.name };
  if (c.excluded)
    return {
      ...base,
      reason: "excluded",
      text: "excluded from reminders",
      fix: "Include the customer again",
      fix_at: "customer",
    };
  if (c.optedOut)
    return {
      ...base,
      reason: "opted_out",
      text: "opted out of reminders",
      fix: "Turn reminders back on if the customer agrees",
      fix_at: "customer",
    };
  if (c.chasingPausedUntil !== null && today <= c.chasingPausedUntil)
    return {
      ...base,
      reason: "paused",
      text: `chasing paused until ${c.chasingPausedUntil}`,
      fix: "Resume chasing",
      fix_at: "customer",
    };
  const to = validAddresses(c.reminderEmail ? [c.reminderEmail] : c.emails);
  if (to.length === 0)
    return {
      ...base,
      reason: "no_address",
      text: c.emails.length ? `no valid email address (${c.emails.join(", ")})` : "no email address",
      fix: "Add a reminder address",
      fix_at: "customer",
    };
  const min = (currency: string) => Math.round(minAmount * 10 ** currencyExponent(currency));
  const open = c.invoices.filter((i) => !i.disputed && i.amountDueMinor >= min(i.currency) && !i.pausedUntil);
  if (open.length > 0) return null;
  if (c.invoices.every((i) => i.disputed))
    return {
      ...base,
      reason: "disputed",
      text: "every overdue invoice is disputed",
      fix: "Resolve the dispute",
      fix_at: "customer",
    };
  if (c.invoices.every((i) => i.disputed || i.pausedUntil))
    return {
      ...base,
      reason: "customer_pause",
      text: `the customer said it paid or promised a date (until ${c.invoices
        .map((i) => i.pausedUntil)
        .filter(Boolean)
        .sort()
        .at(-1)})`,
      fix: "Wait, or check the payment in the ledger",
      fix_at: "customer",
    };
  return {
    ...base,
    reason: "below_minimum",
    text: `below the minimum amount worth chasing (${minAmount})`,
    fix: "Lower the minimum amount",
    fix_at: "settings",
  };
}
