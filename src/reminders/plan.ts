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
  type WindowVerdict,
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
  /** The same invoices grouped by contact, when the caller has them so (saves grouping them again). */
  byContact?: ReadonlyMap<string, readonly PlanInvoice[]>;
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
  /** Oldest due date first (then by number). */
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
  /** The sending-window verdict per timezone (it depends only on the local moment). */
  window: Map<string, WindowVerdict>;
  minMinor: Map<string, number>;
  validZone: Map<string, boolean>;
  holdLevel: Map<Policy, PolicyLevel | null>;
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
    plainPolicy: undefined,
  };
}

/** Days since 1970-01-01 of an ISO date, read digit by digit (no Date, no allocation). */
export function dayNumber(date: IsoDate): number {
  let y =
    (date.charCodeAt(0) - 48) * 1000 +
    (date.charCodeAt(1) - 48) * 100 +
    (date.charCodeAt(2) - 48) * 10 +
    (date.charCodeAt(3) - 48);
  const m = (date.charCodeAt(5) - 48) * 10 + (date.charCodeAt(6) - 48);
  const d = (date.charCodeAt(8) - 48) * 10 + (date.charCodeAt(9) - 48);
  if (
    date.length !== 10 ||
    date.charCodeAt(4) !== 45 ||
    date.charCodeAt(7) !== 45 ||
    !(y >= 0 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31)
  )
    return Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
  // Days from the civil date (proleptic Gregorian), after H. Hinnant's algorithm.
  if (m <= 2) y -= 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
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

// Hot-path helpers live at module level: closures made per customer cost an allocation (and, under tsx, a
// defineProperty for their name) each.
/** Oldest due date first; invoices due the same day by number, then id (whatever order the rows came in). */
function byDueDate(a: PlannedInvoice, b: PlannedInvoice): number {
  const x = a.invoice;
  const y = b.invoice;
  if (x.dueDate !== y.dueDate) return x.dueDate < y.dueDate ? -1 : 1;
  if (x.number !== y.number) return x.number < y.number ? -1 : 1;
  return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
}

function skipVerdict(
  verdict: ContactVerdict,
  contact: PlanContact,
  to: string[],
  level: PolicyLevel,
  reason: string,
): ContactVerdict {
  verdict.skip = { contact, to, level, invoices: verdict.listed, reason };
  return verdict;
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

function policyOf(
  contact: PlanContact,
  input: Pick<PlanInput, "settings" | "policies">,
  cache: PlanCache,
): Policy {
  const plain = contact.policyId === null && contact.grade === null;
  if (plain && cache.plainPolicy) return cache.plainPolicy;
  const policy = choosePolicy(
    {
      contactPolicyId: contact.policyId,
      grade: contact.grade,
      gradePolicies: input.settings.gradePolicies,
      defaultPolicyId: input.settings.defaultPolicyId,
    },
    input.policies,
  );
  if (plain) cache.plainPolicy = policy;
  return policy;
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
  const today = dayNumber(local.date);
  const policy = policyOf(contact, input, cache);
  let hold = cache.holdLevel.get(policy);
  if (hold === undefined) {
    hold = holdLevel(policy) ?? null;
    cache.holdLevel.set(policy, hold);
  }
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
    const daysOverdue = today - dayNumber(inv.dueDate);
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
  if (listed.length > 1) listed.sort(byDueDate);

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
  if (contact.excluded) return skipVerdict(verdict, contact, to, top, "customer is excluded from reminders");
  if (contact.optedOut) return skipVerdict(verdict, contact, to, top, "customer opted out of reminders");
  if (paused)
    return skipVerdict(verdict, contact, to, top, `chasing is paused until ${contact.chasingPausedUntil}`);
  if (to.length === 0) return skipVerdict(verdict, contact, to, top, "no valid email address");
  let open = cache.window.get(timeZone);
  if (!open) {
    open = windowVerdict(local, settings.window, settings.holidays);
    cache.window.set(timeZone, open);
  }
  if (!open.open) return skipVerdict(verdict, contact, to, top, open.reason);
  const at =
    input.at.kind === "instant"
      ? input.at.at
      : zonedInstant(local.date, minutesOf(settings.window.start), timeZone);
  verdict.email = { contact, to, policy, level: top, invoices: listed, timeZone, local, at };
  return verdict;
}

/** Plans a whole organisation. */
export function planReminders(input: PlanInput): Plan {
  let byContact = input.byContact;
  if (!byContact) {
    const grouped = new Map<string, PlanInvoice[]>();
    for (const inv of input.invoices) {
      const list = grouped.get(inv.contactId);
      if (list) list.push(inv);
      else grouped.set(inv.contactId, [inv]);
    }
    byContact = grouped;
  }
  const cache = createPlanCache();
  const plan: Plan = { emails: [], skipped: [], holds: [] };
  const none: PlanInvoice[] = [];
  for (const contact of input.contacts) {
    const mine = byContact.get(contact.id);
    // Nothing open that can reach a level, not on hold and no credit limit: nothing to send, place or release.
    if (!mine && contact.holdState === "none" && contact.creditLimitMinor === null) continue;
    const v = evaluateContact(contact, mine ?? none, input, cache);
    if (v.email) plan.emails.push(v.email);
    if (v.skip) plan.skipped.push(v.skip);
    if (v.hold) plan.holds.push(v.hold);
  }
  return plan;
}
