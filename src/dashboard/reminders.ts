/**
 * The reminders page's data (`/orgs/<slug>/reminders`, JSON at `/api/orgs/<slug>/reminders`) and what a member
 * does there: Send now (a run of the reminder engine for the organisation, now) and resolving an email left
 * for review. Each change lands in the audit log with who did it.
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { mailMissing } from "../mail/org-mail";
import { dateInZone } from "../model";
import { whyNotChased } from "../reminders/chase";
import { plannedSends } from "../reminders/outlook";
import type { RemindReport } from "../reminders/run-types";
import { overdueCustomers } from "../store/chase";
import { resolveReview } from "../store/claims";
import { reminderEmails } from "../store/dashboard-reminders";
import type { Organisation } from "../store/orgs";
import { loadReminderSettings } from "../store/reminder-settings";
import { auditMemberChange, type Member } from "./member";

/** What the SMTP outcome of an email is, in words. */
function outcomeOf(r: {
  status: string;
  smtpResponse: string | null;
  messageId: string | null;
  lastError: string | null;
}) {
  switch (r.status) {
    case "sent":
      return { kind: "accepted", text: `accepted${r.smtpResponse ? `: ${r.smtpResponse}` : ""}` };
    case "rejected":
      return { kind: "rejected", text: `rejected: ${r.lastError ?? "no reply recorded"}` };
    case "needs_review":
      return {
        kind: "review",
        text: `left for review: ${r.lastError ?? "outcome unknown"} (never resent automatically)`,
      };
    case "failed":
      return { kind: "failed", text: `not accepted, the next run retries: ${r.lastError ?? ""}` };
    default:
      return { kind: r.status, text: r.status };
  }
}

export async function remindersView(deps: Deps, org: Organisation) {
  const { db } = deps.store;
  const now = deps.clock.now();
  const today = dateInZone(now, org.timezone);
  const [planned, emails, overdue, settings] = await Promise.all([
    plannedSends(deps, org, now),
    reminderEmails(db, org.id, { limit: 100 }),
    overdueCustomers(db, org.id, today),
    loadReminderSettings(db, org),
  ]);
  const minAmount = settings.minAmount ?? deps.config.REMINDER_MIN_AMOUNT;
  return {
    org: { slug: org.slug, name: org.name },
    as_of: today,
    planned: planned.map((p) => ({ ...p, at: new Date(p.at).toISOString() })),
    cannot_chase: overdue.map((c) => whyNotChased(c, today, minAmount)).filter((x) => x !== null),
    emails: emails.map((r) => {
      const o = outcomeOf(r);
      return {
        email_id: r.emailId,
        at: new Date(r.at).toISOString(),
        customer_id: r.contactExternalId,
        customer_name: r.contactName,
        level: r.level,
        template: r.template,
        invoice_numbers: r.invoiceNumbers,
        status: r.status,
        outcome: o.kind,
        outcome_text: o.text,
        message_id: r.messageId,
        smtp_response: r.smtpResponse,
        error: r.lastError,
        resolution: r.resolution,
      };
    }),
  };
}

/** Send now without mail settings: what is missing, in words (the page lists them; the API has the message). */
export class MailNotConfigured extends UserError {
  constructor(readonly missing: string[]) {
    super("not_configured", `Reminders cannot be sent yet. Set ${missing.join("; and ")}.`, 409);
    this.name = "MailNotConfigured";
  }
}

/**
 * Send now: runs the reminder engine for the organisation at this instant (each customer still inside their own
 * sending window), with the ledger write-back, and records who asked. Refuses (409) when no mail transport is
 * configured.
 */
export async function sendNow(deps: Deps, org: Organisation, member: Member): Promise<RemindReport> {
  const now = deps.clock.now();
  const missing = mailMissing(await loadReminderSettings(deps.store.db, org), deps.config);
  if (missing.length) throw new MailNotConfigured(missing);
  // Loaded on use: the Worker does not evaluate the reminder engine until it sends.
  const { runRemindersFor } = await import("../reminders/run-for");
  const report = await runRemindersFor(deps, org, { kind: "instant", at: now });
  if (!report)
    throw new MailNotConfigured(["a mail server (SMTP_URL or POSTMARK_SERVER_TOKEN) and a sender address"]);
  await auditMemberChange(deps.store.db, member, { orgId: org.id, action: "reminders.send_now" }, now);
  return report;
}

/**
 * A member resolves an email left for review: "sent" records it as delivered, "resend" lets the next run send it
 * again. A 404 when that email is not waiting for review.
 */
export async function resolveEmailReview(
  deps: Deps,
  org: Organisation,
  input: { emailId: string; resolution: "sent" | "resend" },
  member: Member,
): Promise<void> {
  const { store } = deps;
  const now = deps.clock.now();
  await store.atomically(async () => {
    const n = await resolveReview(store.db, org.id, input.emailId, input.resolution, now);
    if (n === 0) throw new UserError("not_found", "That email is not waiting for review.", 404);
    await auditMemberChange(
      store.db,
      member,
      {
        orgId: org.id,
        action: "reminders.review_resolved",
        detail: { emailId: input.emailId, resolution: input.resolution },
      },
      now,
    );
  });
}
