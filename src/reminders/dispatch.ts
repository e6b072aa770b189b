/**
 * One reminder run for one organisation: plan (pure) -> for each email: claim (invoice, level) rows ->
 * re-read the customer and its invoices -> render -> send -> record the message id and the audit entries.
 * Credit holds: change state once (conditional update), write back through the connector, tell the owner.
 *
 * Failure rules. A send the SMTP server certainly refused (connection refused, 4xx) is marked "failed" and
 * claimed again by the next run. A send whose outcome is unknown, or a run that dies after claiming, leaves
 * the claim for review ("needs_review"): it is never resent automatically. A failed ledger write-back is
 * recorded and retried by the next run; the hold itself is never lost.
 *
 * This module is the run's loop; one email's steps are send-email.ts, the holds' are hold-worker.ts, and what
 * both work from (settings, policies, renderer, merge fields) is run-context.ts.
 */

import { orgMail } from "../mail/org-mail";
import { activePauses } from "../store/pauses";
import { loadPlanRows } from "../store/plan-rows";
import { reminderEmailOverrides } from "../store/portal";
import { ensureReminderSetup } from "../store/reminder-settings";
import { proposeDueCharges } from "./charge-worker";
import { createHoldWorker } from "./hold-worker";
import { type PlannedEmail, type PlannedHold, planReminders } from "./plan";
import {
  historyOf,
  loadRunContext,
  orgToday,
  pauseHorizon,
  payFor,
  reminderFields,
  withReminderEmails,
} from "./run-context";
import type { EmailResult, HoldResult, ReminderDeps, RemindOptions, RemindReport } from "./run-types";
import { emailResult, sendOne } from "./send-email";
import { retryFailedSms } from "./sms-retry";
import { startOfRun } from "./start-of-run";

export { CLAIM_LEASE_MS } from "./start-of-run";

const HOLD_RESULT = {
  place: "placed",
  propose: "proposed",
  release: "released",
  withdraw: "withdrawn",
} as const;

export async function runReminders(deps: ReminderDeps, opts: RemindOptions): Promise<RemindReport> {
  const { store, config } = deps;
  const { db } = store;
  const { org, at, now } = opts;
  const dryRun = opts.dryRun ?? false;
  if (!dryRun && !deps.mailer) throw new Error("a mailer is needed to send reminders");
  const report: RemindReport = { emails: [], holds: [], flaggedForReview: 0, more: false };
  const resumeAfter = opts.resumeAfter;
  const budget = opts.budget ?? Number.POSITIVE_INFINITY;
  if (!(budget >= 1)) throw new Error("a reminder run's budget must be at least 1");
  // Customers are handled in id order so a continuation (same instant, re-planned) picks up after the last one.
  const pending = (contactId: string) => resumeAfter === undefined || contactId > resumeAfter;

  if (!dryRun && resumeAfter === undefined) await ensureReminderSetup(db, org, now);
  const run = await loadRunContext(deps, org, at);
  if (!dryRun && !orgMail(run.settings, config).from)
    throw new Error("a sender address (Mail settings, or MAIL_FROM) must be set to send reminders");
  const holds = createHoldWorker(deps, org, run.settings, now);
  let used = 0;
  // Start-of-run work (stale claims, broken promises, unfinished holds and notices), only before the first
  // customer; it counts against the budget and may itself continue in the next run.
  if (!dryRun && resumeAfter === undefined) {
    const start = await startOfRun(deps, org, holds, { at, now, budget, from: opts.resumeStart });
    report.flaggedForReview = start.flaggedForReview;
    used = start.used;
    if (start.stoppedAt || used >= budget) {
      report.more = true;
      if (start.stoppedAt) report.resumeStart = start.stoppedAt;
      else report.resumeAfter = ""; // done: the next run starts at the first customer
      return report;
    }
  }

  const rows = await loadPlanRows(db, org, { asOf: run.latest, maxDueDate: run.maxDueDate });
  const plan = planReminders({
    settings: run.planSettings,
    policies: run.policies,
    contacts: withReminderEmails(rows.contacts, await reminderEmailOverrides(db, org.id)),
    invoices: rows.invoices,
    byContact: rows.byContact,
    claimedOffset: rows.claimedOffset,
    outstandingBase: rows.outstandingBase,
    pauses: await activePauses(db, org.id, pauseHorizon(run.latest)),
    sentOffsets: rows.sentOffsets,
    at,
  });

  // One hold decision and at most one email per customer: each customer's hold first, then its email (as
  // before, every hold of a customer is applied before its email). A run stops only between customers.
  const work = new Map<string, { hold?: PlannedHold; email?: PlannedEmail }>();
  for (const h of plan.holds) if (pending(h.contact.id)) work.set(h.contact.id, { hold: h });
  for (const e of plan.emails)
    if (pending(e.contact.id)) work.set(e.contact.id, { ...work.get(e.contact.id), email: e });
  // A run that may stop (a budget) or continues one goes in customer id order, the cursor's order; an
  // unbudgeted run (Node) keeps the plan's order.
  const order = [...work.keys()];
  if (opts.budget !== undefined || resumeAfter !== undefined)
    order.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  // Results are reported in the plan's order (as an unbudgeted run always did), whatever order they ran in.
  const holdDone = new Map<string, HoldResult>();
  const emailDone = new Map<string, EmailResult>();
  let smtpDown: string | null = null;
  for (const [i, contactId] of order.entries()) {
    if (used >= budget) {
      report.more = true;
      report.resumeAfter = order[i - 1];
      break;
    }
    const { hold: h, email } = work.get(contactId)!;
    if (h) {
      used++;
      if (dryRun)
        holdDone.set(contactId, { customer_id: h.contact.externalId, action: HOLD_RESULT[h.action] });
      else {
        const done = await holds.apply(h);
        if (done) holdDone.set(contactId, { customer_id: h.contact.externalId, action: done });
      }
    }
    if (!email) continue;
    used++;
    const numbers = email.invoices.map((p) => p.invoice.number);
    if (dryRun) {
      const history = await historyOf(db, email.contact.id, email.timeZone);
      await run.renderer.render(
        email.level.template,
        reminderFields(deps, org, run.settings, email, undefined, history, await payFor(run, email.invoices)),
      );
      emailDone.set(
        contactId,
        emailResult(email.contact, email.to, numbers, email.level.level, "skipped", "dry run: would be sent"),
      );
      continue;
    }
    if (smtpDown) {
      emailDone.set(
        contactId,
        emailResult(
          email.contact,
          email.to,
          numbers,
          email.level.level,
          "failed",
          `not attempted: the SMTP server is unavailable (${smtpDown}); the next run retries`,
        ),
      );
      continue;
    }
    // Xero online invoice links, before anything is claimed (a slow ledger never holds a claim).
    await run.links.fetchMissing(
      email.invoices.map((p) => p.invoice.id),
      now,
    );
    const result = await sendOne(deps, org, run, email, at, now);
    if (result.smtpDown) smtpDown = result.smtpDown;
    emailDone.set(contactId, result.result);
  }
  // Late-payment charges are proposed once the run's reminders are out (a fee follows the level just sent).
  if (!dryRun && !report.more) {
    await retryFailedSms(deps, org, run, now);
    await proposeDueCharges(deps, org, orgToday(org, at), now);
  }
  for (const h of plan.holds) {
    const done = holdDone.get(h.contact.id);
    if (done) report.holds.push(done);
  }
  for (const s of plan.skipped) {
    if (!pending(s.contact.id) || (report.resumeAfter !== undefined && s.contact.id > report.resumeAfter))
      continue;
    report.emails.push(
      emailResult(
        s.contact,
        s.to,
        s.invoices.map((p) => p.invoice.number),
        s.level.level,
        "skipped",
        s.reason,
      ),
    );
  }

  for (const e of plan.emails) {
    const done = emailDone.get(e.contact.id);
    if (done) report.emails.push(done);
  }
  return report;
}
