/**
 * Planning: (ledger rows, an instant) -> who gets which reminder, who is skipped and why, and which credit
 * holds change. One email per customer per run, listing every chaseable invoice that has reached a level,
 * at the level of the most overdue one; it is due only when some invoice has reached a level not yet claimed.
 *
 * PURE: no store, no clock, no node imports. The run (src/reminders/run.ts) loads the rows, and calls
 * `evaluateContact` again on freshly re-read rows after claiming, before anything is sent.
 */
import { validAddresses } from "../mail/address";
import { currencyExponent, type HoldState, type InvoiceStatus, type IsoDate, isTimeZone } from "../model";
import { decideHold } from "./holds";
import { choosePolicy, holdLevel, type Policy, type PolicyLevel, reachedLevel } from "./policy";
import {
  isoWeekday,
  type LocalMoment,
  localMoment,
  minutesOf,
  type SendingWindow,
  windowVerdict,
  zonedInstant,
} from "./window";

export interface PlanContact {
  id: string;
  externalId: string;
  name: string;
  emails: readonly string[];
  timezone: string | null;
  policyId: string | null;
  /** Chasing paused up to and including this date (customer's local date). */
  chasingPausedUntil: IsoDate | null;
  excluded: boolean;
  optedOut: boolean;
  holdState: HoldState;
  creditLimitMinor: number | null;
  deleted: boolean;
  /** Latest monitor grade, when scored. */
  grade: string | null;
}

export interface PlanInvoice {
  id: string;
  contactId: string;
  externalId: string;
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  amountCreditedMinor: number;
  amountDueMinor: number;
  status: InvoiceStatus;
  disputedAt: number | null;
  payUrl: string | null;
}

export interface PlanSettings {
  orgTimezone: string;
  baseCurrency: string;
  window: SendingWindow;
  /** The organisation country's public holidays: ISO date -> name. */
  holidays: ReadonlyMap<IsoDate, string>;
  defaultPolicyId: string;
  gradePolicies: Readonly<Record<string, string>>;
  /** Smallest amount due worth chasing, in major units of the invoice's currency. */
  minAmount: number;
  creditLimitMarginPct: number;
}

/**
 * When the run stands: a real instant (the hourly job), or "the opening of date D's sending window" in each
 * customer's own timezone (`remind --as-of D`, for back-testing).
 */
export type RunAt = { kind: "instant"; at: number } | { kind: "opening"; date: IsoDate };

export interface PlanInput {
  settings: PlanSettings;
  policies: ReadonlyMap<string, Policy>;
  contacts: readonly PlanContact[];
  /** Open invoices of these contacts (others are ignored). */
  invoices: readonly PlanInvoice[];
  /**
   * Highest level claimed per invoice (claimed, sent, needs review or rejected: not failed), as its day offset:
   * a level's identity is its offset, not its position, so editing a policy never makes a sent level due again.
   */
  claimedOffset: ReadonlyMap<string, number>;
  /**
   * Amount due on all open, undisputed invoices in the base currency per contact, for the credit-limit check.
   * When absent it is summed from `invoices`.
   */
  outstandingBase?: ReadonlyMap<string, number>;
  /**
   * Per-invoice pauses the customer asked for on the customers' page ("I've already paid", "I'll pay by"):
   * the invoice is not chased up to and including `until` (the customer's local date).
   */
  pauses?: ReadonlyMap<string, InvoicePause>;
  at: RunAt;
}

export interface InvoicePause {
  kind: "paid" | "promise";
  until: IsoDate;
}

export interface PlannedInvoice {
  invoice: PlanInvoice;
  level: PolicyLevel;
  daysOverdue: number;
  /** Reached a level past every one claimed (by day offset): this invoice is why the email goes out. */
  due: boolean;
}

export interface PlannedEmail {
  contact: PlanContact;
  to: string[];
  policy: Policy;
  level: PolicyLevel;
  /** Oldest due date first. */
  invoices: PlannedInvoice[];
  timeZone: string;
  local: LocalMoment;
  /** The instant the customer is judged at. */
  at: number;
}

export type SkipReason = string;

export interface PlannedSkip {
  contact: PlanContact;
  to: string[];
  level: PolicyLevel;
  invoices: PlannedInvoice[];
  reason: SkipReason;
}

export interface PlannedHold {
  contact: PlanContact;
  action: "place" | "release";
  reason: string;
}

export interface Plan {
  emails: PlannedEmail[];
  skipped: PlannedSkip[];
  holds: PlannedHold[];
}

export interface ContactVerdict {
  email?: PlannedEmail;
  skip?: PlannedSkip;
  hold?: PlannedHold;
  /** Every chaseable invoice with the level it has reached (also when nothing is due). */
  listed: PlannedInvoice[];
}

const DAY_MS = 86_400_000;
const OPEN: ReadonlySet<InvoiceStatus> = new Set(["authorised", "submitted"]);

/** Shared per-run caches, so 100,000 customers cost little more than their invoices. */
export interface PlanCache {
  local: Map<string, LocalMoment>;
  minMinor: Map<string, number>;
  dayNumber: Map<string, number>;
  validZone: Map<string, boolean>;
}

export function createPlanCache(): PlanCache {
  return { local: new Map(), minMinor: new Map(), dayNumber: new Map(), validZone: new Map() };
}

function dayNumber(date: IsoDate, cache: PlanCache): number {
  let n = cache.dayNumber.get(date);
  if (n === undefined) {
    n = Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
    if (cache.dayNumber.size > 50_000) cache.dayNumber.clear();
    cache.dayNumber.set(date, n);
  }
  return n;
}

function minMinorFor(currency: string, minAmount: number, cache: PlanCache): number {
  let m = cache.minMinor.get(currency);
  if (m === undefined) {
    m = Math.round(minAmount * 10 ** currencyExponent(currency));
    cache.minMinor.set(currency, m);
  }
  return m;
}

function timeZoneOf(contact: PlanContact, settings: PlanSettings, cache: PlanCache): string {
  const tz = contact.timezone;
  if (!tz) return settings.orgTimezone;
  let valid = cache.validZone.get(tz);
  if (valid === undefined) {
    valid = isTimeZone(tz);
    cache.validZone.set(tz, valid);
  }
  return valid ? tz : settings.orgTimezone;
}

function localFor(at: RunAt, timeZone: string, window: SendingWindow, cache: PlanCache): LocalMoment {
  let l = cache.local.get(timeZone);
  if (!l) {
    l =
      at.kind === "instant"
        ? localMoment(at.at, timeZone)
        : { date: at.date, weekday: isoWeekday(at.date), minutes: minutesOf(window.start) };
    cache.local.set(timeZone, l);
  }
  return l;
}

/** Why an open invoice is not chased, or null when it is chaseable. */
export function notChaseable(inv: PlanInvoice, localDate: IsoDate, minMinor: number): string | null {
  if (!OPEN.has(inv.status)) return `invoice is ${inv.status}`;
  if (inv.amountDueMinor <= 0) return "nothing is due";
  if (inv.totalMinor > 0 && inv.amountCreditedMinor >= inv.totalMinor) return "fully credited";
  if (inv.disputedAt !== null) return "disputed";
  if (inv.issueDate > localDate) return "not issued yet";
  if (inv.amountDueMinor < minMinor) return "below the minimum amount";
  return null;
}

/** Plans one customer. `invoices` are that customer's invoices. */
export function evaluateContact(
  contact: PlanContact,
  invoices: readonly PlanInvoice[],
  input: Pick<PlanInput, "settings" | "policies" | "claimedOffset" | "outstandingBase" | "pauses" | "at">,
  cache: PlanCache = createPlanCache(),
): ContactVerdict {
  const { settings } = input;
  const listed: PlannedInvoice[] = [];
  if (contact.deleted) return { listed };
  const timeZone = timeZoneOf(contact, settings, cache);
  const local = localFor(input.at, timeZone, settings.window, cache);
  const today = dayNumber(local.date, cache);
  const policy = choosePolicy(
    {
      contactPolicyId: contact.policyId,
      grade: contact.grade,
      gradePolicies: settings.gradePolicies,
      defaultPolicyId: settings.defaultPolicyId,
    },
    input.policies,
  );
  const hold = holdLevel(policy);
  const paused = contact.chasingPausedUntil !== null && local.date <= contact.chasingPausedUntil;

  let overdueMinor = 0;
  let outstandingBase = 0;
  let holdLevelReached = false;
  let anyDue = false;
  let top: PolicyLevel | undefined;
  for (const inv of invoices) {
    if (OPEN.has(inv.status) && inv.disputedAt === null && inv.currency === settings.baseCurrency)
      outstandingBase += Math.max(0, inv.amountDueMinor);
    if (notChaseable(inv, local.date, minMinorFor(inv.currency, settings.minAmount, cache)) !== null)
      continue;
    const pause = input.pauses?.get(inv.id);
    if (pause && local.date <= pause.until) continue;
    const daysOverdue = today - dayNumber(inv.dueDate, cache);
    if (daysOverdue > 0) overdueMinor += inv.amountDueMinor;
    const level = reachedLevel(policy, daysOverdue);
    if (!level) continue;
    if (hold && level.level >= hold.level) holdLevelReached = true;
    const claimed = input.claimedOffset.get(inv.id);
    const due = claimed === undefined || level.offsetDays > claimed;
    if (due) anyDue = true;
    if (!top || level.level > top.level) top = level;
    listed.push({ invoice: inv, level, daysOverdue, due });
  }
  listed.sort((a, b) =>
    a.invoice.dueDate < b.invoice.dueDate ? -1 : a.invoice.dueDate > b.invoice.dueDate ? 1 : 0,
  );

  const verdict: ContactVerdict = { listed };
  const decision = decideHold({
    holdState: contact.holdState,
    excluded: contact.excluded,
    paused,
    holdLevelReached,
    overdueMinor,
    outstandingBaseMinor: input.outstandingBase?.get(contact.id) ?? outstandingBase,
    creditLimitMinor: contact.creditLimitMinor,
    marginPct: settings.creditLimitMarginPct,
  });
  if (decision) verdict.hold = { contact, action: decision.action, reason: decision.reason };

  if (!anyDue || !top) return verdict;
  const to = validAddresses(contact.emails);
  const skip = (reason: string): ContactVerdict => ({
    ...verdict,
    skip: { contact, to, level: top!, invoices: listed, reason },
  });
  if (contact.excluded) return skip("customer is excluded from reminders");
  if (contact.optedOut) return skip("customer opted out of reminders");
  if (paused) return skip(`chasing is paused until ${contact.chasingPausedUntil}`);
  if (to.length === 0) return skip("no valid email address");
  const open = windowVerdict(local, settings.window, settings.holidays);
  if (!open.open) return skip(open.reason);
  const at =
    input.at.kind === "instant"
      ? input.at.at
      : zonedInstant(local.date, minutesOf(settings.window.start), timeZone);
  verdict.email = { contact, to, policy, level: top, invoices: listed, timeZone, local, at };
  return verdict;
}

/** Plans a whole organisation. */
export function planReminders(input: PlanInput): Plan {
  const byContact = new Map<string, PlanInvoice[]>();
  for (const inv of input.invoices) {
    const list = byContact.get(inv.contactId);
    if (list) list.push(inv);
    else byContact.set(inv.contactId, [inv]);
  }
  const cache = createPlanCache();
  const plan: Plan = { emails: [], skipped: [], holds: [] };
  const none: PlanInvoice[] = [];
  for (const contact of input.contacts) {
    const mine = byContact.get(contact.id);
    // Nothing open and not on hold: nothing to send, place or release.
    if (!mine && contact.holdState === "none") continue;
    const v = evaluateContact(contact, mine ?? none, input, cache);
    if (v.email) plan.emails.push(v.email);
    if (v.skip) plan.skipped.push(v.skip);
    if (v.hold) plan.holds.push(v.hold);
  }
  return plan;
}
