/**
 * Planning: (ledger rows, an instant) -> who gets which reminder, who is skipped and why, and which credit
 * holds change. One email per customer per run, listing every chaseable invoice that has reached a level,
 * at the level of the most overdue one; it is due only when some invoice has reached a level not yet claimed.
 *
 * PURE: no store, no clock, no node imports. The run (src/reminders/dispatch.ts) loads the rows, and
 * send-email.ts calls `evaluateContact` again on freshly re-read rows after claiming, before anything is sent.
 */
import { dayNumber, isoOfDay, isoWeekday } from "../days";
import { validAddresses } from "../mail/address";
import { type InvoiceStatus, type IsoDate, isTimeZone } from "../model";
import type {
  InvoicePause,
  PlanContact,
  PlanInvoice,
  Policy,
  PolicyLevel,
  SendingWindow,
} from "../model/reminders";
import { decideHold, type HoldAction, type HoldMode } from "./holds";
import { createPlanCache, localDayOf, minMinorFor, type PlanCache } from "./plan-cache";
import { choosePolicy, holdLevel, reachedLevel } from "./policy";
import { type LocalMoment, localMoment, minutesOf, windowVerdict, zonedInstant } from "./window";

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
  /** "approve" (default): holds are proposed for a person to approve; "automatic": placed by the run. */
  holdMode?: HoldMode;
  /** Days between the final notice and a hold (HOLD_NOTICE_DAYS, default 7). */
  holdNoticeDays?: number;
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
  /**
   * Reminders accepted by the SMTP server per invoice, as [level offset, sent at (epoch ms)]: when the final
   * notice went, which gates every automatic hold.
   */
  sentOffsets?: ReadonlyMap<string, readonly (readonly [number, number])[]>;
  at: RunAt;
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
  action: HoldAction;
  reason: string;
}

/** A customer due a credit hold that no run can propose or place: only a person can (the holds view). */
export interface HoldAttention {
  contact: PlanContact;
  reason: string;
  /** The local date from which the hold can be proposed, when the final notice went. */
  from: IsoDate | null;
}

export interface Plan {
  emails: PlannedEmail[];
  skipped: PlannedSkip[];
  holds: PlannedHold[];
  attention: HoldAttention[];
}

export interface ContactVerdict {
  email?: PlannedEmail;
  skip?: PlannedSkip;
  hold?: PlannedHold;
  attention?: HoldAttention;
  /** Every chaseable invoice with the level it has reached (also when nothing is due). */
  listed: PlannedInvoice[];
}

const OPEN: ReadonlySet<InvoiceStatus> = new Set(["authorised", "submitted"]);

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
  input: Pick<
    PlanInput,
    "settings" | "policies" | "claimedOffset" | "outstandingBase" | "pauses" | "at" | "sentOffsets"
  >,
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
  let notice = cache.noticeLevel.get(policy);
  if (hold === undefined || notice === undefined) {
    hold = holdLevel(policy) ?? null;
    notice = hold ? (policy.levels[hold.level - 2] ?? null) : null;
    cache.holdLevel.set(policy, hold);
    cache.noticeLevel.set(policy, notice);
  }
  const paused = contact.chasingPausedUntil !== null && local.date <= contact.chasingPausedUntil;
  const noticeDays = settings.holdNoticeDays ?? 7;
  const declinedAt = contact.holdDeclinedAt ?? null;

  let overdueMinor = 0;
  let outstandingBase = 0;
  let holdLevelReached = false;
  let holdLevelNoticed = false;
  let noticed = false;
  /** Earliest final notice (local day number) among the invoices at the hold level, for "needs attention". */
  let firstNoticeDay: number | null = null;
  let noticeBeforeDecline = false;
  const reached: PlannedInvoice[] = [];
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
    // The final notice this invoice was sent (after any decline by a person), as a local day number.
    let noticeDay: number | null = null;
    const atHold = hold !== null && level.level >= hold.level;
    const sent =
      notice && (atHold || contact.creditLimitMinor !== null) ? input.sentOffsets?.get(inv.id) : undefined;
    if (sent && notice)
      for (const [offset, sentAt] of sent)
        if (offset < notice.offsetDays) continue;
        else if (declinedAt !== null && sentAt <= declinedAt) noticeBeforeDecline = true;
        else {
          const d = localDayOf(sentAt, timeZone, cache);
          if (noticeDay === null || d < noticeDay) noticeDay = d;
        }
    const noticeOver = noticeDay !== null && today - noticeDay >= noticeDays;
    if (noticeOver) noticed = true;
    if (atHold) {
      holdLevelReached = true;
      if (noticeOver) holdLevelNoticed = true;
      if (noticeDay !== null && (firstNoticeDay === null || noticeDay < firstNoticeDay))
        firstNoticeDay = noticeDay;
    }
    reached.push({ invoice: inv, level, daysOverdue, due: false });
  }

  const verdict: ContactVerdict = { listed };
  const decision = decideHold({
    holdState: contact.holdState,
    byHand: contact.holdByHand ?? false,
    proposed: contact.holdProposed ?? false,
    mode: settings.holdMode ?? "approve",
    excluded: contact.excluded,
    paused,
    holdLevelReached,
    holdLevelNoticed,
    noticed,
    overdueMinor,
    outstandingBaseMinor: input.outstandingBase?.get(contact.id) ?? outstandingBase,
    creditLimitMinor: contact.creditLimitMinor,
    marginPct: settings.creditLimitMarginPct,
  });
  if (decision) verdict.hold = { contact, action: decision.action, reason: decision.reason };
  const onHold = contact.holdState === "on_hold" || decision?.action === "place";

  // Only a placed hold is announced: until then an invoice at the hold level gets the final notice (never
  // skipped, whatever level an invoice first seen late has reached).
  let anyDue = false;
  let top: PolicyLevel | undefined;
  for (const p of reached) {
    if (hold && !onHold && p.level.level >= hold.level) {
      if (!notice) continue;
      p.level = notice;
    }
    const claimed = input.claimedOffset.get(p.invoice.id);
    p.due = claimed === undefined || p.level.offsetDays > claimed;
    if (p.due) anyDue = true;
    if (!top || p.level.level > top.level) top = p.level;
    listed.push(p);
  }
  if (listed.length > 1) listed.sort(byDueDate);

  const attention =
    holdLevelReached && !onHold && !contact.holdProposed && !holdLevelNoticed && !contact.excluded;
  if (!attention && (!anyDue || !top)) return verdict;
  const to = validAddresses(contact.emails);
  if (attention) {
    const from = firstNoticeDay === null ? null : isoOfDay(firstNoticeDay + noticeDays);
    const reason = !notice
      ? "the policy has no final notice before its hold level: hold only by hand"
      : to.length === 0
        ? "no valid email address, so no final notice can be sent: hold only by hand"
        : contact.optedOut
          ? "opted out of reminders, so no final notice can be sent: hold only by hand"
          : firstNoticeDay === null
            ? noticeBeforeDecline
              ? "a person dismissed or released the hold: a new final notice is needed"
              : "the final notice has not been sent yet"
            : `final notice sent; a hold can be proposed from ${from}`;
    verdict.attention = { contact, reason, from };
  }

  if (!anyDue || !top) return verdict;
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
  const plan: Plan = { emails: [], skipped: [], holds: [], attention: [] };
  const none: PlanInvoice[] = [];
  for (const contact of input.contacts) {
    const mine = byContact.get(contact.id);
    // Nothing open that can reach a level, not on hold and no credit limit: nothing to send, place or release.
    if (!mine && contact.holdState === "none" && contact.creditLimitMinor === null && !contact.holdProposed)
      continue;
    const v = evaluateContact(contact, mine ?? none, input, cache);
    if (v.email) plan.emails.push(v.email);
    if (v.skip) plan.skipped.push(v.skip);
    if (v.hold) plan.holds.push(v.hold);
    if (v.attention) plan.attention.push(v.attention);
  }
  return plan;
}
