/**
 * The customer timeline in plain words: every activity the code records (audit actions, see `ACTIVITY_WORDS`)
 * as one sentence saying what happened and who did it ("Promised to pay INV-1 (£1,250.00) by 12 Dec 2026 (by
 * the customer on their page)", "Credit hold proposed by the monitor — approved by owner@…"). An action without
 * a sentence here still reads as words ("Something happened: foo bar"), never as its internal code.
 */
import { formatDate, formatMoney } from "../format";
import { isIsoDate } from "../model";
import { DISPUTE_REASONS } from "../portal/actions";

type Detail = Record<string, unknown>;

export interface WordsContext {
  locale: string;
}

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : str(v) ? [String(v)] : [];

/** Who did it, in words: the member's email, else the actor ("customer", "reminders", "user:…", …). */
export function whoDid(actor: string, detail: Detail): string {
  const by = str(detail.by);
  if (by?.includes("@")) return by;
  switch (actor) {
    case "customer":
      return "the customer on their page";
    case "reminders":
      return "the reminder run";
    case "monitor":
      return "the monitor";
    case "statements":
      return "the statement run";
    case "cli":
      return "the command line";
    case "owner":
      return "the owner";
    default:
      if (actor.startsWith("user:")) return "a member";
      return by ?? actor;
  }
}

function words(action: string, d: Detail, actor: string, ctx: WordsContext): string | null {
  const date = (v: unknown) => {
    const s = str(v);
    return s && isIsoDate(s) ? formatDate(s, ctx.locale) : (s ?? "an unknown date");
  };
  const amount = () => {
    const minor = num(d.amountDueMinor);
    const cur = str(d.currency);
    return minor !== null && cur ? ` (${formatMoney({ minor, currency: cur }, ctx.locale)})` : "";
  };
  const invoice = str(d.invoiceNumber) ?? str(d.invoice);
  const inv = invoice ? `invoice ${invoice}` : "an invoice";
  const by = ` (by ${whoDid(actor, d)})`;
  const to = list(d.to);
  const toWhom = to.length ? ` to ${to.join(", ")}` : "";
  const headline = str(d.headline);
  const level = num(d.emailLevel) ?? num(d.level);
  const reminder = level !== null ? `Reminder ${level}` : "A reminder";
  const template = str(d.template) ? ` (${d.template})` : "";
  const error = str(d.error) ? `: ${str(d.error)!.slice(0, 200)}` : "";
  const reason = str(d.reason) ? `: ${d.reason}` : "";
  const holdWhat = d.action === "release" ? "credit hold release" : "credit hold";
  switch (action) {
    // What the customer did on their page.
    case "customer.promised":
      return `Promised to pay ${inv}${amount()} by ${date(d.payBy)}${by}`;
    case "customer.paid_reported": {
      const ref = str(d.reference) ? `, payment reference ${d.reference}` : ", no payment reference given";
      const paused = str(d.pausedUntil) ? `; reminders for it paused until ${date(d.pausedUntil)}` : "";
      return `Said ${inv}${amount()} was paid on ${date(d.paidOn)}${ref}${by}${paused}`;
    }
    case "customer.disputed": {
      const why =
        DISPUTE_REASONS[str(d.reason) as keyof typeof DISPUTE_REASONS] ?? str(d.reason) ?? "no reason";
      const comment = str(d.comment) ? `, “${d.comment}”` : "";
      return `Disputed ${inv}${amount()}: ${why}${comment}${by}`;
    }
    case "customer.reminder_address_changed": {
      const email = str(d.email);
      const before = list(d.previous);
      const was = before.length ? ` (was ${before.join(", ")})` : "";
      return email
        ? `Reminder address changed to ${email}${was}${by}`
        : `Reminder address cleared: reminders go to the ledger's addresses${by}`;
    }
    case "customer.opted_out":
      return d.via === "one_click"
        ? "Opted out of reminders (by the customer, with the unsubscribe link in a reminder)"
        : `Opted out of reminders${by}`;
    case "customer.opted_in":
      return `Reminders switched back on${by}`;
    case "customer.promise_broken":
      return `Promise to pay ${inv}${amount()} by ${date(d.promisedBy)} was not kept (noticed by the reminder run)`;
    case "customer.owner_notified":
      return `Owner told by email${toWhom} that the customer ${headline ?? "acted on their page"}`;
    case "customer.owner_notice_skipped":
      return `Owner not told that the customer ${headline ?? "acted on their page"}${reason}`;
    case "customer.owner_notice_failed":
      return `Email${toWhom} telling the owner that the customer ${headline ?? "acted on their page"} was not delivered${error}`;
    // What a member changed on the dashboard.
    case "customer.chasing_paused":
      return `Chasing paused until ${date(d.until)}${by}`;
    case "customer.chasing_resumed":
      return `Chasing resumed${by}`;
    case "customer.credit_limit":
      return str(d.limit) ? `Credit limit set to ${d.limit}${by}` : `Credit limit removed${by}`;
    case "customer.policy":
      return `Reminder policy set to ${str(d.policy) ?? "automatic (by grade)"}${by}`;
    case "customer.excluded":
      return `Excluded from reminders and credit holds${by}`;
    case "customer.included":
      return `Included in reminders and credit holds again${by}`;
    case "customer.dispute_resolved":
    case "invoice.dispute_resolved": {
      const res = str(d.resolution) ? `: ${d.resolution}` : "";
      return `Dispute on ${inv} resolved${by}${res}; the invoice is chased again`;
    }
    // The monitor.
    case "monitor.deteriorating": {
      const change = num(d.changeDays);
      const how =
        change !== null && change > 0
          ? `: paying ${Math.round(change)} day${Math.round(change) === 1 ? "" : "s"} later than usual`
          : "";
      const since = str(d.startedOn) ? `, since invoices due ${date(d.startedOn)}` : "";
      return `Flagged as deteriorating by the monitor${how}${since}`;
    }
    // Reminders.
    case "reminder.sent":
      return `${reminder}${template} sent${toWhom} — accepted by the mail server`;
    case "reminder.failed":
      return `${reminder} not delivered${error}`;
    case "reminder.needs_review":
      return `${reminder}: the mail server's answer is unknown; left for a person to check (never resent automatically)`;
    case "reminder.marked_sent":
      return `A reminder whose outcome was unknown was marked as sent${by}`;
    case "reminder.resend_allowed":
      return `A reminder whose outcome was unknown may be sent again${by}`;
    case "reminder.template_failed":
      return `A reminder${template} was not sent: its template does not render${error}`;
    // Credit holds.
    case "credit_hold.proposed":
      return `Credit hold proposed by the monitor${reason}; waiting for a person to approve`;
    case "credit_hold.proposal_approved":
      return `Credit hold proposal approved${by}`;
    case "credit_hold.proposal_dismissed":
      return `Credit hold proposal dismissed${by}${reason}`;
    case "credit_hold.proposal_withdrawn":
      return `Credit hold proposal withdrawn by the reminder run${reason}`;
    case "credit_hold.proposal_notified":
      return `Owner told of the proposed credit hold by email${toWhom}`;
    case "credit_hold.placed":
      if (str(d.proposalId))
        return `Credit hold proposed by the monitor — approved by ${whoDid(actor, d)}${reason}`;
      if (actor === "reminders") return `Credit hold placed automatically by the reminder run${reason}`;
      return `Credit hold placed by ${whoDid(actor, d)}${reason}`;
    case "credit_hold.released":
      return `Credit hold released by ${whoDid(actor, d)}${reason}`;
    case "credit_hold.written_back":
      return `The ${holdWhat} was written to the ledger`;
    case "credit_hold.store_only":
      return `The ${holdWhat} is kept in Creditpulse only (the ledger has no credit hold to set)`;
    case "credit_hold.writeback_failed":
      return `Writing the ${holdWhat} to the ledger failed${error}; it is tried again`;
    case "credit_hold.owner_notified":
      return `Owner told of the ${holdWhat} by email${toWhom}`;
    case "credit_hold.owner_notice_failed":
      return `Email${toWhom} telling the owner of the ${holdWhat} was not delivered${error}; it is tried again`;
    case "credit_hold.owner_notice_needs_review":
      return `Email${toWhom} telling the owner of the ${holdWhat}: the mail server's answer is unknown; left for a person to check`;
    // Late-payment charges and SMS (src/reminders/charge-worker.ts, send-sms.ts).
    case "charge.proposed":
    case "charge.approved":
    case "charge.rejected": {
      const minor = num(d.amount);
      const cur = str(d.currency);
      const money = minor !== null && cur ? ` of ${formatMoney({ minor, currency: cur }, ctx.locale)}` : "";
      const verb = action === "charge.proposed" ? "proposed by the reminder run" : `${action.slice(7)}${by}`;
      return `Late-payment ${str(d.kind) ?? "charge"}${money} ${verb}${str(d.detail) ? `: ${d.detail}` : ""}`;
    }
    case "charge.written":
      return `Late-payment charge written to the ledger as invoice ${str(d.ledgerNumber) ?? str(d.reference) ?? ""}`.trim();
    case "charge.recorded":
      return "Late-payment charge recorded in Creditpulse only (a CSV ledger: nothing written)";
    case "charge.write_failed":
      return `Writing the late-payment charge to the ledger failed${error}; it is tried again`;
    case "sms.sent":
      return `SMS reminder${level !== null ? ` (level ${level})` : ""} sent${str(d.to) ? ` to ${d.to}` : ""}`;
    case "sms.refused":
    case "sms.failed":
    case "sms.needs_review":
      return `SMS reminder${level !== null ? ` (level ${level})` : ""} not sent${reason}${action === "sms.needs_review" ? "; left for a person to check" : ""}`;
    // Statements.
    case "statement.sent":
      return `Statement${str(d.period) ? ` for ${d.period}` : ""} sent${toWhom}`;
    case "statement.failed":
      return `Statement${str(d.period) ? ` for ${d.period}` : ""} not delivered${error}`;
    case "statement.needs_review":
      return `Statement${str(d.period) ? ` for ${d.period}` : ""}: the mail server's answer is unknown; left for a person to check`;
    default:
      return null;
  }
}

/** Every action with its own sentence (the test checks none renders raw). */
export const ACTIVITY_WORDS: readonly string[] = [
  "customer.promised",
  "customer.paid_reported",
  "customer.disputed",
  "customer.reminder_address_changed",
  "customer.opted_out",
  "customer.opted_in",
  "customer.promise_broken",
  "customer.owner_notified",
  "customer.owner_notice_skipped",
  "customer.owner_notice_failed",
  "customer.chasing_paused",
  "customer.chasing_resumed",
  "customer.credit_limit",
  "customer.policy",
  "customer.excluded",
  "customer.included",
  "customer.dispute_resolved",
  "invoice.dispute_resolved",
  "monitor.deteriorating",
  "reminder.sent",
  "reminder.failed",
  "reminder.needs_review",
  "reminder.marked_sent",
  "reminder.resend_allowed",
  "reminder.template_failed",
  "credit_hold.proposed",
  "credit_hold.proposal_approved",
  "credit_hold.proposal_dismissed",
  "credit_hold.proposal_withdrawn",
  "credit_hold.proposal_notified",
  "credit_hold.placed",
  "credit_hold.released",
  "credit_hold.written_back",
  "credit_hold.store_only",
  "credit_hold.writeback_failed",
  "credit_hold.owner_notified",
  "credit_hold.owner_notice_failed",
  "credit_hold.owner_notice_needs_review",
  "statement.sent",
  "statement.failed",
  "statement.needs_review",
  "charge.proposed",
  "charge.approved",
  "charge.rejected",
  "charge.written",
  "charge.recorded",
  "charge.write_failed",
  "sms.sent",
  "sms.refused",
  "sms.failed",
  "sms.needs_review",
];

/** One activity as a sentence; an unknown action still reads as words. */
export function describeActivity(
  action: string,
  detail: Detail | null,
  actor: string,
  ctx: WordsContext,
): string {
  const d = detail ?? {};
  const known = words(action, d, actor, ctx);
  if (known) return known;
  const what = action.split(".").pop()!.replace(/[_-]+/g, " ").trim() || "an update";
  return `Recorded: ${what} (by ${whoDid(actor, d)})`;
}
