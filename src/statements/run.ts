/**
 * One statement run for one organisation: for each customer owing something whose schedule (their own, else the
 * organisation's) makes a statement due today, inside their sending window: claim (customer, period) -> re-read
 * the open items -> render the email (template "statement", overridable like any reminder template) and the PDF
 * statement (the customers' page's own) -> send -> record. A statement already claimed for the period is never
 * sent again; a send that may have been taken is left for review, as with reminders.
 */
import type { Config } from "../config";
import { isoWeekday } from "../days";
import type { Deps } from "../deps";
import type { Logger } from "../log";
import { domainOf, validAddresses } from "../mail/address";
import { classifySendError, errorText, type Mailer } from "../mail/mailer";
import { withMailer } from "../mail/mailer-for";
import { orgMail } from "../mail/org-mail";
import { failedSend } from "../mail/outcome";
import { daysBetween, type IsoDate, type Money } from "../model";
import { paymentOf } from "../portal/page";
import { renderStatement } from "../portal/statement";
import { statementTotals } from "../portal/statement-model";
import { baseUrlOf, issuePageToken, linksFor } from "../portal/token";
import { publicHolidays } from "../reminders/holidays";
import { listUnsubscribeHeaders } from "../reminders/links";
import { buildFields, createReminderRenderer } from "../reminders/render";
import { type LocalMoment, localMoment, minutesOf, windowVerdict } from "../reminders/window";
import { audit } from "../store/audit";
import type { Store } from "../store/db";
import type { Organisation } from "../store/orgs";
import { openInvoicesOf, reminderEmailOverrides } from "../store/portal";
import { ensureReminderSetup, loadReminderSettings, loadTemplateOverrides } from "../store/reminder-settings";
import {
  claimStatement,
  flagStaleStatements,
  loadStatementSettings,
  markStatement,
  releaseStatement,
  statementCustomers,
  statementPeriodsTaken,
} from "../store/statements";
import { type StatementDue, statementDue } from "./schedule";

/** How long a claim may stay "claimed" before it counts as a crashed run's and is left for review. */
export const STATEMENT_LEASE_MS = 15 * 60_000;
export const STATEMENT_TEMPLATE = "statement";

export interface StatementDeps {
  store: Store;
  config: Config;
  log: Logger;
  /** The install secret: signs the customers' page link each statement carries. */
  secret: string;
  /** Required unless dry-running. */
  mailer?: Mailer;
}

export interface StatementOptions {
  org: Organisation;
  /** The instant of the run (records are stamped with it). */
  now: number;
  /** Run as if every customer were on this local date, at the opening of the sending window (CLI --as-of). */
  asOf?: IsoDate;
  /** Work out what would go, and send, claim and change nothing. */
  dryRun?: boolean;
  /**
   * At most this many statements attempted in this run; the rest wait for a continuation run (`more` and
   * `resume_after` in the report). Workers cap it so one queue message stays within D1's queries per invocation.
   */
  budget?: number;
  /** A continuation: customers up to and including this id were handled by an earlier run for the same instant. */
  resumeAfter?: string;
}

export interface StatementResult {
  customer_id: string;
  name: string;
  to: string;
  period: string | null;
  status: "sent" | "would_send" | "failed" | "skipped";
  reason: string | null;
  /** What the statement says is owed, per currency (minor units). */
  totals: Money[];
}

export interface StatementReport {
  org: string;
  statements: StatementResult[];
  /** Claims found left behind by a run that stopped, now waiting for a person. */
  flagged_for_review: number;
  /** The budget ran out: customers after `resume_after` are left for a continuation run. */
  more?: boolean;
  resume_after?: string;
}

const NOTHING_DUE = "no statement due today";

export async function runStatements(deps: StatementDeps, opts: StatementOptions): Promise<StatementReport> {
  const { store, config, log } = deps;
  const { db } = store;
  const { org, now } = opts;
  if (!opts.dryRun && !deps.mailer)
    throw new Error("statements need a mailer (set SMTP_URL) unless dry-running");
  const report: StatementReport = { org: org.slug, statements: [], flagged_for_review: 0 };

  const sched = await loadStatementSettings(db, org.id);
  if (sched.schedule === null && sched.customers.size === 0) return report;
  if (!opts.dryRun && opts.resumeAfter === undefined) {
    await ensureReminderSetup(db, org, now);
    report.flagged_for_review = (await flagStaleStatements(db, org.id, now - STATEMENT_LEASE_MS, now)).length;
  }
  const settings = await loadReminderSettings(db, org);
  const holidayCache = new Map<number, ReadonlyMap<IsoDate, string>>();
  const holidays = (date: IsoDate) => {
    const year = Number(date.slice(0, 4));
    let h = holidayCache.get(year);
    if (!h) {
      h = publicHolidays(org.country, [date]);
      holidayCache.set(year, h);
    }
    return h;
  };
  const isWorkingDay = (d: IsoDate) => settings.window.days.includes(isoWeekday(d)) && !holidays(d).has(d);

  const customers = (await statementCustomers(db, org.id)).filter(
    (c) => opts.resumeAfter === undefined || c.id > opts.resumeAfter,
  );
  const due = new Map<string, { local: LocalMoment; when: Extract<StatementDue, { due: true }> }>();
  for (const c of customers) {
    const schedule = sched.customers.get(c.id) ?? sched.schedule;
    if (!schedule || schedule.every === "off") continue;
    const tz = c.timezone ?? org.timezone;
    const local: LocalMoment = opts.asOf
      ? { date: opts.asOf, minutes: minutesOf(settings.window.start), weekday: isoWeekday(opts.asOf) }
      : localMoment(now, tz);
    const when = statementDue(schedule, local.date, isWorkingDay);
    if (when.due) due.set(c.id, { local, when });
  }
  if (due.size === 0) return report;

  const taken = await statementPeriodsTaken(db, org.id, [
    ...new Set([...due.values()].map((d) => d.when.period)),
  ]);
  const overrides = await reminderEmailOverrides(db, org.id);
  const renderer = createReminderRenderer({ overrides: await loadTemplateOverrides(db, org.id) });
  const mailSettings = orgMail(settings, config);
  const from = mailSettings.from;
  const bcc = mailSettings.bcc;

  let attempts = 0;
  let lastHandled: string | undefined;
  for (const c of customers) {
    const d = due.get(c.id);
    if (!d) continue;
    if (opts.budget !== undefined && attempts >= opts.budget) {
      report.more = true;
      report.resume_after = lastHandled;
      break;
    }
    lastHandled = c.id;
    const { local, when } = d;
    const override = overrides.get(c.id);
    const to = validAddresses(override ? [override] : c.emails);
    const result = (status: StatementResult["status"], reason: string | null, totals: Money[] = []) =>
      report.statements.push({
        customer_id: c.externalId,
        name: c.name,
        to: to.join(", "),
        period: when.period,
        status,
        reason,
        totals,
      });
    if (taken.has(`${c.id}|${when.period}`)) continue; // sent (or being looked at) for this period already
    if (c.optedOut) {
      result("skipped", "opted out of reminders on the customers' page");
      continue;
    }
    if (c.excluded) {
      result("skipped", "excluded from chasing");
      continue;
    }
    if (to.length === 0) {
      result("skipped", "no valid email address");
      continue;
    }
    const window = windowVerdict(local, settings.window, holidays(local.date));
    if (!window.open) {
      result("skipped", window.reason);
      continue;
    }
    if (opts.dryRun) {
      const items = await openInvoicesOf(db, org.id, c.id, local.date);
      const { totals } = statementTotals(items);
      result(totals.length ? "would_send" : "skipped", totals.length ? null : "nothing owed", totals);
      continue;
    }

    // 1. Claim the period before any SMTP traffic.
    attempts++;
    const claim = await claimStatement(db, { orgId: org.id, contactId: c.id, period: when.period }, now);
    if (!claim) {
      result("skipped", "already claimed by another run");
      continue;
    }
    // 2. Re-read what is open now: a customer who has just paid gets no statement.
    const items = await openInvoicesOf(db, org.id, c.id, local.date);
    const { totals } = statementTotals(items);
    if (totals.length === 0) {
      await releaseStatement(db, claim);
      result("skipped", "nothing owed");
      continue;
    }
    // 3. Render the email and the PDF, with a freshly signed link to the customers' page.
    const token = await issuePageToken(
      db,
      deps.secret,
      { orgId: org.id, contactId: c.id },
      now,
      config.CUSTOMER_PAGE_DAYS,
    );
    const links = linksFor(baseUrlOf(config), token);
    const owed = items.filter((i) => i.disputedAt === null);
    const pay = await paymentOf(store, org, items);
    const fields = buildFields({
      org: { name: org.name, locale: org.locale },
      customer: { externalId: c.externalId, name: c.name, to },
      sender: {
        email: settings.replyTo ?? settings.senderEmail ?? config.MAIL_REPLY_TO ?? null,
        phone: settings.senderPhone,
      },
      level: { level: 0, name: "Statement", template: STATEMENT_TEMPLATE },
      invoices: owed.map((i) => ({
        invoice: { ...i, amountCreditedMinor: 0, contactId: c.id, status: "authorised" as const },
        daysOverdue: Math.max(0, daysBetween(i.dueDate, local.date)),
      })),
      links: { customerPage: links.customerPage, unsubscribe: links.unsubscribe },
      today: local.date,
      pay,
    });
    let mail: { subject: string; html: string; text: string };
    let pdf: Buffer;
    try {
      mail = await renderer.render(STATEMENT_TEMPLATE, {
        ...fields,
        statement: {
          period: when.period,
          disputed_count: items.length - owed.length,
        },
      } as typeof fields);
      pdf = await renderStatement({
        orgName: org.name,
        locale: org.locale,
        customerName: c.name,
        customerId: c.externalId,
        today: local.date,
        invoices: items,
        pay,
      });
    } catch (err) {
      await releaseStatement(db, claim);
      const text = errorText(err);
      log.warn({ org: org.slug, customer: c.externalId, error: text }, "statement not rendered");
      result("failed", `template error: ${text}`, totals);
      continue;
    }
    // 4. Send.
    const messageId = `<${claim}@${domainOf(from!)}>`;
    try {
      const sent = await deps.mailer!.send({
        from: from!,
        to,
        bcc: bcc.length ? bcc : undefined,
        replyTo: mailSettings.replyTo,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        messageId,
        date: new Date(now),
        headers: listUnsubscribeHeaders(links.unsubscribe, mailSettings.replyTo ?? from!),
        attachments: [
          { filename: `statement-${local.date}.pdf`, content: pdf, contentType: "application/pdf" },
        ],
      });
      // 5. Record.
      await markStatement(
        db,
        claim,
        { status: "sent", messageId: sent.messageId, recipients: sent.accepted, totals },
        now,
      );
      await audit(
        db,
        {
          orgId: org.id,
          contactId: c.id,
          actor: "statements",
          action: "statement.sent",
          detail: { statementId: claim, period: when.period, to: sent.accepted, totals },
        },
        now,
      );
      result("sent", null, totals);
    } catch (err) {
      const kind = classifySendError(err);
      const text = errorText(err);
      const failed = failedSend(kind, text);
      await markStatement(db, claim, { status: failed.status, error: text }, now);
      await audit(
        db,
        {
          orgId: org.id,
          contactId: c.id,
          actor: "statements",
          action: kind === "unknown" ? "statement.needs_review" : "statement.failed",
          detail: { statementId: claim, period: when.period, error: text, outcome: kind },
        },
        now,
      );
      log.warn({ org: org.slug, statement: claim, outcome: kind, error: text }, "statement not delivered");
      result("failed", failed.reason, totals);
    }
  }
  return report;
}

/**
 * One statement run for `org` with the install's mail transport (the scheduler's job and `creditpulse
 * statements`). Null when no transport is configured; a dry run needs none.
 */
export async function runStatementsFor(
  deps: Deps,
  org: Organisation,
  opts: Omit<StatementOptions, "org">,
): Promise<StatementReport | null> {
  const { store, config, log, secret } = deps;
  const settings = await loadReminderSettings(store.db, org);
  return withMailer(
    config,
    opts.dryRun,
    (mailer) => runStatements({ store, config, log, secret, mailer }, { org, ...opts }),
    orgMail(settings, config).from,
  );
}
