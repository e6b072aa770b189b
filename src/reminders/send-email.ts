/**
 * One planned reminder email, end to end: claim its (invoice, level) rows, re-read and re-plan the customer,
 * render with a freshly signed customers' page link, send, and record the outcome and its audit entries
 * (failure rules: see src/reminders/dispatch.ts).
 */
import { domainOf } from "../mail/address";
import { classifySendError, errorText } from "../mail/mailer";
import { orgMail } from "../mail/org-mail";
import { failedSend } from "../mail/outcome";
import type { InvoicePause, PlanContact } from "../model/reminders";
import { baseUrlOf, issuePageToken, linksFor } from "../portal/token";
import { audit } from "../store/audit";
import { chargedOn } from "../store/charges";
import { claimReminders, markEmail, newEmailId, releaseClaims } from "../store/claims";
import type { Organisation } from "../store/orgs";
import { activePauses } from "../store/pauses";
import { loadPlanRows } from "../store/plan-rows";
import { reminderEmailOverrides } from "../store/portal";
import { listUnsubscribeHeaders } from "./links";
import { evaluateContact, type PlannedEmail, type RunAt } from "./plan";
import type { ReminderRenderer } from "./render";
import {
  historyOf,
  pauseHorizon,
  payFor,
  type RunContext,
  reminderFields,
  withReminderEmails,
} from "./run-context";
import type { EmailResult, EmailStatus, ReminderDeps } from "./run-types";
import { sendLevelSms } from "./send-sms";
import { reportTemplateFailure } from "./template-failure";

export function emailResult(
  contact: PlanContact,
  to: string[],
  invoiceNumbers: string[],
  level: number,
  status: EmailStatus,
  reason: string | null,
): EmailResult {
  return {
    customer_id: contact.externalId,
    to: to.join(", "),
    invoice_numbers: invoiceNumbers,
    level,
    status,
    reason,
  };
}

export async function sendOne(
  deps: ReminderDeps,
  org: Organisation,
  run: RunContext,
  planned: PlannedEmail,
  at: RunAt,
  now: number,
): Promise<{ result: EmailResult; smtpDown?: string }> {
  const { store, config, log } = deps;
  const { db } = store;
  const numbers = planned.invoices.map((p) => p.invoice.number);
  const level = planned.level.level;
  const claiming = new Map(planned.invoices.filter((p) => p.due).map((p) => [p.invoice.id, p.level]));
  const emailId = newEmailId();

  // 1. Claim every (invoice, level) this email is for, before any SMTP traffic.
  const won = await claimReminders(
    store,
    emailId,
    [...claiming].map(([invoiceId, l]) => ({
      orgId: org.id,
      contactId: planned.contact.id,
      invoiceId,
      level: l.level,
      offsetDays: l.offsetDays,
      template: l.template,
      policyId: planned.policy.id,
    })),
    now,
  );
  if (won.size === 0)
    return {
      result: emailResult(
        planned.contact,
        planned.to,
        numbers,
        level,
        "skipped",
        "already claimed by another run",
      ),
    };

  // 2. Re-read the customer and its invoices: still unpaid, still due for this level, not paused, address valid.
  //    The customers' page may have paused an invoice or changed the address since planning.
  const fresh = await loadPlanRows(db, org, {
    asOf: run.latest,
    contactId: planned.contact.id,
    exceptEmailId: emailId,
  });
  const contact = withReminderEmails(
    fresh.contacts,
    await reminderEmailOverrides(db, org.id, planned.contact.id),
  )[0];
  const freshPauses: Map<string, InvoicePause> = await activePauses(
    db,
    org.id,
    pauseHorizon(run.latest),
    planned.contact.id,
  );
  const verdict = contact
    ? evaluateContact(contact, fresh.invoices, {
        settings: run.planSettings,
        policies: run.policies,
        claimedOffset: fresh.claimedOffset,
        outstandingBase: fresh.outstandingBase,
        pauses: freshPauses,
        sentOffsets: fresh.sentOffsets,
        at,
      })
    : { listed: [] };
  const email = verdict.email;
  const keep = email
    ? [...won].filter((id) =>
        email.invoices.some(
          (p) => p.invoice.id === id && p.due && p.level.offsetDays === claiming.get(id)?.offsetDays,
        ),
      )
    : [];
  const drop = [...won].filter((id) => !keep.includes(id));
  if (drop.length) await releaseClaims(db, emailId, drop);
  if (!email || keep.length === 0) {
    const reason =
      verdict.skip?.reason ?? "nothing is due any more (paid, credited or changed since planning)";
    return { result: emailResult(planned.contact, planned.to, numbers, level, "skipped", reason) };
  }
  const freshNumbers = email.invoices.map((p) => p.invoice.number);

  // 3. Render, with a freshly signed link to the customers' page.
  let rendered: Awaited<ReturnType<ReminderRenderer["render"]>>;
  const token = await issuePageToken(
    db,
    deps.secret,
    { orgId: org.id, contactId: email.contact.id },
    now,
    config.CUSTOMER_PAGE_DAYS,
  );
  const history = await historyOf(db, email.contact.id, email.timeZone);
  const charged = await chargedOn(
    db,
    email.invoices.map((p) => p.invoice.id),
  );
  const fields = reminderFields(
    deps,
    org,
    run.settings,
    email,
    linksFor(baseUrlOf(config), token),
    history,
    await payFor(run, email.invoices),
    charged,
  );
  try {
    rendered = await run.renderer.render(email.level.template, fields);
  } catch (err) {
    await releaseClaims(db, emailId);
    await reportTemplateFailure(deps, org, email.level.template, err, now, email.contact.id, run.reported);
    return {
      result: emailResult(
        email.contact,
        email.to,
        freshNumbers,
        email.level.level,
        "failed",
        `template error: ${errorText(err)}`,
      ),
    };
  }

  // 4. Send.
  const mailSettings = orgMail(run.settings, config);
  const from = mailSettings.from!;
  const messageId = `<${emailId}@${domainOf(from)}>`;
  const unsubscribe = fields.links.unsubscribe!;
  try {
    const sent = await deps.mailer!.send({
      from,
      to: email.to,
      bcc: mailSettings.bcc.length ? mailSettings.bcc : undefined,
      replyTo: mailSettings.replyTo,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId,
      date: new Date(now),
      headers: listUnsubscribeHeaders(unsubscribe, mailSettings.replyTo ?? from),
    });
    // 5. Record.
    await markEmail(
      db,
      emailId,
      { status: "sent", messageId: sent.messageId, recipients: sent.accepted, response: sent.response },
      now,
    );
    for (const p of email.invoices) {
      if (!keep.includes(p.invoice.id)) continue;
      await audit(
        db,
        {
          orgId: org.id,
          contactId: email.contact.id,
          invoiceId: p.invoice.id,
          actor: "reminders",
          action: "reminder.sent",
          detail: {
            emailId,
            messageId: sent.messageId,
            level: p.level.level,
            emailLevel: email.level.level,
            template: email.level.template,
            to: sent.accepted,
            rejected: sent.rejected,
          },
        },
        now,
      );
    }
    // 6. The level's SMS, if it has one (claimed per invoice and level like the email).
    const sms = await sendLevelSms(deps, org, email, keep, fields, now);
    const result = emailResult(email.contact, email.to, freshNumbers, email.level.level, "sent", null);
    return {
      result: sms ? { ...result, sms: sms.reason ? `${sms.status}: ${sms.reason}` : sms.status } : result,
    };
  } catch (err) {
    const kind = classifySendError(err);
    const text = errorText(err);
    const { status, reason } = failedSend(kind, text);
    await markEmail(db, emailId, { status, error: text }, now);
    await audit(
      db,
      {
        orgId: org.id,
        contactId: email.contact.id,
        actor: "reminders",
        action: kind === "unknown" ? "reminder.needs_review" : "reminder.failed",
        detail: { emailId, invoices: keep, level: email.level.level, error: text, outcome: kind },
      },
      now,
    );
    log.warn({ org: org.slug, emailId, outcome: kind, error: text }, "reminder not delivered");
    const connectionLevel =
      kind === "retry" && typeof (err as { responseCode?: unknown }).responseCode !== "number";
    return {
      result: emailResult(email.contact, email.to, freshNumbers, email.level.level, "failed", reason),
      ...(connectionLevel ? { smtpDown: text } : {}),
    };
  }
}
