/**
 * One reminder run for one organisation: plan (pure) -> for each email: claim (invoice, level) rows ->
 * re-read the customer and its invoices -> render -> send -> record the message id and the audit entries.
 * Credit holds: change state once (conditional update), write back through the connector, tell the owner.
 *
 * Failure rules. A send the SMTP server certainly refused (connection refused, 4xx) is marked "failed" and
 * claimed again by the next run. A send whose outcome is unknown, or a run that dies after claiming, leaves
 * the claim for review ("needs_review"): it is never resent automatically. A failed ledger write-back is
 * recorded and retried by the next run; the hold itself is never lost.
 */
import { type ConnectionContext, type Connector, ConnectorError } from "../../connectors/connector";
import { connectorFor } from "../../connectors/registry";
import type { Config } from "../config";
import type { Logger } from "../log";
import { domainOf } from "../mail/address";
import { classifySendError, errorText, type Mailer } from "../mail/mailer";
import { addDays, dateInZone, daysBetween, type IsoDate, type Provider } from "../model";
import { baseUrlOf, type CustomerLinks, issuePageToken, linksFor } from "../portal/token";
import { audit } from "../store/audit";
import { connectionForOrg } from "../store/connections";
import type { Store } from "../store/db";
import {
  approverEmails,
  claimProposalNotice,
  closeProposal,
  createProposal,
  type HoldProposalRow,
  recordProposalNotice,
  unfinishedProposalNotices,
} from "../store/holds";
import type { Organisation } from "../store/orgs";
import { activePauses, flagBrokenPromises, reminderEmailOverrides } from "../store/portal";
import {
  type CreditHoldRow,
  claimOwnerNotice,
  claimReminders,
  ensureReminderSetup,
  flagStaleClaims,
  latestHold,
  loadContactRows,
  loadPlanRows,
  loadPolicies,
  loadReminderSettings,
  loadTemplateOverrides,
  markEmail,
  newEmailId,
  type ReminderSettings,
  recordOwnerNotice,
  recordWriteback,
  releaseClaims,
  reminderHistory,
  transitionHold,
  unfinishedHolds,
} from "../store/reminders";
import { publicHolidays } from "./holidays";
import { listUnsubscribeHeaders } from "./links";
import { ownerAddress } from "./owner";
import {
  evaluateContact,
  type InvoicePause,
  type PlanContact,
  type PlannedEmail,
  type PlannedHold,
  type PlanSettings,
  planReminders,
  type RunAt,
} from "./plan";
import type { Policy } from "./policy";
import {
  buildFields,
  createReminderRenderer,
  formatDate,
  type ReminderHistory,
  type ReminderRenderer,
  TemplateRenderError,
} from "./render";
import { minutesOf, zonedInstant } from "./window";

/** How long a claim may stay "claimed" before it is taken for a crashed run's and flagged for review. */
export const CLAIM_LEASE_MS = 15 * 60_000;

export interface ReminderDeps {
  store: Store;
  config: Config;
  log: Logger;
  /** The install secret: signs the customers' page links every reminder carries. */
  secret: string;
  /** Required unless dry-running. */
  mailer?: Mailer;
  /** The connector for a provider (default: connectors/registry). */
  connectorFor?: (provider: Provider) => Connector;
  /** Access tokens for ledger write-back (the token keeper); without it Xero/QuickBooks write-backs wait. */
  tokens?: { accessToken(connectionId: string): Promise<string> };
}

export interface RemindOptions {
  org: Organisation;
  at: RunAt;
  /** The instant records are stamped with. */
  now: number;
  /** Plan and render, but send, claim and change nothing. */
  dryRun?: boolean;
  /**
   * At most this many actions (emails attempted and hold decisions applied) in this run; the rest waits for a
   * continuation run (`more`/`resumeAfter` in the report). Default: no cap (Node). Workers cap it so one queue
   * message stays within D1's queries per invocation.
   */
  budget?: number;
  /**
   * A continuation: customers are handled in id order, and those up to and including this id were handled by
   * an earlier run for the same instant. That run's start-of-run work (stale claims, broken promises,
   * unfinished holds and notices) is not repeated.
   */
  resumeAfter?: string;
}

export type EmailStatus = "sent" | "failed" | "skipped";

export interface EmailResult {
  customer_id: string;
  to: string;
  invoice_numbers: string[];
  level: number;
  status: EmailStatus;
  reason: string | null;
}

export interface HoldResult {
  customer_id: string;
  action: "proposed" | "placed" | "released" | "withdrawn";
}

const HOLD_RESULT = {
  place: "placed",
  propose: "proposed",
  release: "released",
  withdraw: "withdrawn",
} as const;

export interface RemindReport {
  emails: EmailResult[];
  holds: HoldResult[];
  /** Claims found left behind by a run that stopped, now waiting for a person. */
  flaggedForReview: number;
  /** The budget ran out: customers after `resumeAfter` are left for a continuation run at the same instant. */
  more: boolean;
  /** The last customer (id) this run handled, when `more`. */
  resumeAfter?: string;
}

/** The instant `remind --as-of D` stands for: the opening of D's window in the organisation's timezone. */
export function openingInstant(date: IsoDate, window: { start: string }, timeZone: string): number {
  return zonedInstant(date, minutesOf(window.start), timeZone);
}

/** The latest local date any customer can be on at `at` (UTC+14 is the furthest ahead). */
function latestLocalDate(at: RunAt): IsoDate {
  return at.kind === "opening" ? at.date : dateInZone(at.at, "Pacific/Kiritimati");
}

/** What dry runs and previews show instead of a page link (a real one is signed for each email sent). */
export function placeholderLinks(config: Config): CustomerLinks {
  return linksFor(baseUrlOf(config), "link-issued-when-sent");
}

/** Applies the customers' own reminder address (customers' page) over the ledger's addresses. */
function withReminderEmails(list: PlanContact[], overrides: ReadonlyMap<string, string>): PlanContact[] {
  if (overrides.size === 0) return list;
  return list.map((c) => {
    const e = overrides.get(c.id);
    return e ? { ...c, emails: [e] } : c;
  });
}

/** The local date the organisation is on for this run (broken promises are judged on it). */
function orgToday(org: Organisation, at: RunAt): IsoDate {
  return at.kind === "opening" ? at.date : dateInZone(at.at, org.timezone);
}

export function planSettingsFor(
  org: Organisation,
  settings: ReminderSettings,
  config: Config,
  defaultPolicyId: string,
  holidays: ReadonlyMap<IsoDate, string>,
): PlanSettings {
  return {
    orgTimezone: org.timezone,
    baseCurrency: org.baseCurrency,
    window: settings.window,
    holidays,
    defaultPolicyId: settings.defaultPolicyId ?? defaultPolicyId,
    gradePolicies: settings.gradePolicies,
    minAmount: settings.minAmount ?? config.REMINDER_MIN_AMOUNT,
    creditLimitMarginPct: settings.creditLimitMarginPct ?? config.CREDIT_LIMIT_MARGIN_PCT,
    holdMode: settings.holdMode ?? "approve",
    holdNoticeDays: config.HOLD_NOTICE_DAYS,
  };
}

function holidaysAround(org: Organisation, at: RunAt): Map<IsoDate, string> {
  const latest = latestLocalDate(at);
  return publicHolidays(org.country, [addDays(latest, -2), latest]);
}

function maxLeadDays(policies: ReadonlyMap<string, Policy>): number {
  let lead = 0;
  for (const p of policies.values()) for (const l of p.levels) lead = Math.max(lead, -l.offsetDays);
  return lead;
}

/** Everything the run and `preview` share: settings, policies, renderer, merge-field sources. */
export async function loadRunContext(
  deps: Pick<ReminderDeps, "store" | "config">,
  org: Organisation,
  at: RunAt,
) {
  const { db } = deps.store;
  const settings = await loadReminderSettings(db, org);
  const { policies, defaultId } = await loadPolicies(db, org.id);
  const planSettings = planSettingsFor(org, settings, deps.config, defaultId, holidaysAround(org, at));
  const renderer = createReminderRenderer({ overrides: await loadTemplateOverrides(db, org.id) });
  const latest = latestLocalDate(at);
  return {
    settings,
    policies,
    planSettings,
    renderer,
    /** Template failures already in the audit log this run (one entry per template and part). */
    reported: new Set<string>(),
    latest,
    maxDueDate: addDays(latest, maxLeadDays(policies) + 1),
  };
}

/** What a customer was sent before, for the `previous_reminders` and `is_first_contact` merge fields. */
export async function historyOf(
  db: Store["db"],
  contactId: string,
  timeZone: string,
): Promise<ReminderHistory> {
  const h = await reminderHistory(db, contactId);
  return {
    count: h.count,
    lastSentDate: h.lastSentAt === null ? null : dateInZone(h.lastSentAt, timeZone),
  };
}

export function reminderFields(
  deps: Pick<ReminderDeps, "config">,
  org: Organisation,
  settings: ReminderSettings,
  email: Pick<PlannedEmail, "contact" | "to" | "level" | "invoices" | "local">,
  links: CustomerLinks = placeholderLinks(deps.config),
  history?: ReminderHistory,
) {
  return buildFields({
    org: { name: org.name, locale: org.locale },
    customer: { externalId: email.contact.externalId, name: email.contact.name, to: email.to },
    sender: { email: settings.senderEmail ?? deps.config.MAIL_REPLY_TO ?? null, phone: settings.senderPhone },
    level: email.level,
    invoices: email.invoices,
    links,
    today: email.local.date,
    history,
    holdNoticeDays: deps.config.HOLD_NOTICE_DAYS,
  });
}

function emailResult(
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

export async function runReminders(deps: ReminderDeps, opts: RemindOptions): Promise<RemindReport> {
  const { store, config, log } = deps;
  const { db } = store;
  const { org, at, now } = opts;
  const dryRun = opts.dryRun ?? false;
  if (!dryRun && !deps.mailer) throw new Error("a mailer is needed to send reminders");
  if (!dryRun && !config.MAIL_FROM) throw new Error("MAIL_FROM must be set to send reminders");
  const report: RemindReport = { emails: [], holds: [], flaggedForReview: 0, more: false };
  const resumeAfter = opts.resumeAfter;
  const budget = opts.budget ?? Number.POSITIVE_INFINITY;
  if (!(budget >= 1)) throw new Error("a reminder run's budget must be at least 1");
  // Customers are handled in id order so a continuation (same instant, re-planned) picks up after the last one.
  const pending = (contactId: string) => resumeAfter === undefined || contactId > resumeAfter;

  if (!dryRun && resumeAfter === undefined) {
    await ensureReminderSetup(db, org, now);
    const stale = await flagStaleClaims(db, org.id, now - CLAIM_LEASE_MS, now);
    report.flaggedForReview = stale.length;
    for (const r of stale) {
      log.warn(
        { org: org.slug, reminder: r.id, invoice: r.invoiceId, level: r.level },
        "reminder left for review",
      );
      await audit(
        db,
        {
          orgId: org.id,
          contactId: r.contactId,
          invoiceId: r.invoiceId,
          actor: "reminders",
          action: "reminder.needs_review",
          detail: {
            level: r.level,
            emailId: r.emailId,
            reason: "the run stopped before the outcome was recorded",
          },
        },
        now,
      );
    }
  }

  // Promises to pay whose date has passed with the invoice unpaid: flagged once each (audit log).
  if (!dryRun && resumeAfter === undefined) await flagBrokenPromises(store, org, orgToday(org, at), now);

  const run = await loadRunContext(deps, org, at);
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

  const holds = createHoldWorker(deps, org, run.settings, now);
  if (!dryRun && resumeAfter === undefined) {
    for (const ev of await unfinishedHolds(db, org.id)) await holds.finish(ev);
    for (const p of await unfinishedProposalNotices(db, org.id)) await holds.notifyProposal(p);
  }

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
  let used = 0;
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
        reminderFields(deps, org, run.settings, email, undefined, history),
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
    const result = await sendOne(deps, org, run, email, at, now);
    if (result.smtpDown) smtpDown = result.smtpDown;
    emailDone.set(contactId, result.result);
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

type RunContext = Awaited<ReturnType<typeof loadRunContext>>;

/** Pauses ending before this date cannot matter to any customer on this run (timezones span about 2 days). */
function pauseHorizon(latest: IsoDate): IsoDate {
  return addDays(latest, -2);
}

async function sendOne(
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
  const fresh = await loadContactRows(db, org, planned.contact.id, run.latest, emailId);
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
  const fields = reminderFields(deps, org, run.settings, email, linksFor(baseUrlOf(config), token), history);
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
  const from = config.MAIL_FROM!;
  const messageId = `<${emailId}@${domainOf(from)}>`;
  const ownerBcc =
    (run.settings.bccOwner ?? config.MAIL_BCC_OWNER === "1") ? ownerAddress(run.settings, config) : null;
  const unsubscribe = fields.links.unsubscribe!;
  try {
    const sent = await deps.mailer!.send({
      from,
      to: email.to,
      bcc: ownerBcc ? [ownerBcc] : undefined,
      replyTo: config.MAIL_REPLY_TO,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId,
      date: new Date(now),
      headers: listUnsubscribeHeaders(unsubscribe, config.MAIL_REPLY_TO ?? from),
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
    return { result: emailResult(email.contact, email.to, freshNumbers, email.level.level, "sent", null) };
  } catch (err) {
    const kind = classifySendError(err);
    const text = errorText(err);
    const status = kind === "retry" ? "failed" : kind === "rejected" ? "rejected" : "needs_review";
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
    const reason =
      kind === "retry"
        ? `the SMTP server did not accept it (${text}); the next run retries`
        : kind === "rejected"
          ? `rejected by the SMTP server (${text}); left for review, not retried`
          : `outcome unknown (${text}); left for review, never resent automatically`;
    const connectionLevel =
      kind === "retry" && typeof (err as { responseCode?: unknown }).responseCode !== "number";
    return {
      result: emailResult(email.contact, email.to, freshNumbers, email.level.level, "failed", reason),
      ...(connectionLevel ? { smtpDown: text } : {}),
    };
  }
}

/**
 * A template that failed to render: logged and written to the organisation's audit log (once per template
 * part and run), so the owner sees it on the timeline; the email is reported failed and nothing is sent.
 */
async function reportTemplateFailure(
  deps: Pick<ReminderDeps, "store" | "log">,
  org: Organisation,
  template: string,
  err: unknown,
  now: number,
  contactId: string,
  reported: Set<string> = new Set(),
): Promise<void> {
  const key = err instanceof TemplateRenderError ? err.key : template;
  const detail = err instanceof TemplateRenderError ? err.detail : errorText(err);
  deps.log.error({ org: org.slug, template: key, error: detail }, "reminder template failed to render");
  if (reported.has(key)) return;
  reported.add(key);
  await audit(
    deps.store.db,
    {
      orgId: org.id,
      contactId,
      actor: "reminders",
      action: "reminder.template_failed",
      detail: {
        template: key,
        error: detail.slice(0, 500),
        overridden: err instanceof TemplateRenderError ? err.overridden : false,
      },
    },
    now,
  );
}

/** Applies hold decisions and finishes their write-back and owner notice (now, or on a later run). */
export function createHoldWorker(
  deps: Pick<ReminderDeps, "store" | "config" | "log" | "mailer" | "connectorFor" | "tokens">,
  org: Organisation,
  settings: ReminderSettings,
  now: number,
) {
  const { store, config, log } = deps;
  const { db } = store;
  const owner = ownerAddress(settings, config);
  const lookup = deps.connectorFor ?? connectorFor;

  async function connectionContext(): Promise<ConnectionContext> {
    if (org.provider === "csv") {
      return {
        orgId: org.id,
        connectionId: "",
        tenantId: "",
        accessToken: async () => {
          throw new ConnectorError("invalid_data", "a CSV ledger has no access token");
        },
      };
    }
    const conn = await connectionForOrg(db, org.id);
    if (!conn)
      throw new ConnectorError("auth_revoked", `organisation ${org.slug} has no ${org.provider} connection`);
    return {
      orgId: org.id,
      connectionId: conn.id,
      tenantId: conn.tenantId,
      accessToken: () =>
        deps.tokens
          ? deps.tokens.accessToken(conn.id)
          : Promise.reject(new ConnectorError("transient", "no token keeper is wired for ledger write-back")),
    };
  }

  async function contactOf(contactId: string) {
    const rows = await loadContactRows(db, org, contactId, dateInZone(now, org.timezone));
    return rows;
  }

  function noteFor(ev: CreditHoldRow, externalId: string): { contactExternalId: string; note: string } {
    const date = dateInZone(ev.at, org.timezone);
    return {
      contactExternalId: externalId,
      note:
        ev.action === "place"
          ? `Credit hold placed by Creditpulse on ${date}: ${ev.reason}.`
          : `Credit hold released by Creditpulse on ${date}: ${ev.reason}.`,
    };
  }

  async function writeBack(ev: CreditHoldRow, externalId: string): Promise<string> {
    const latest = await latestHold(db, ev.contactId);
    if (latest && latest.id !== ev.id) {
      await recordWriteback(db, ev.id, "superseded", `superseded by ${latest.id}`);
      return "A later hold change superseded this one in the ledger.";
    }
    try {
      const connector = lookup(org.provider);
      const ctx = await connectionContext();
      const note = noteFor(ev, externalId);
      const res =
        ev.action === "place" ? await connector.placeHold(ctx, note) : await connector.releaseHold(ctx, note);
      await recordWriteback(db, ev.id, res.written ? "written" : "not_applicable", res.detail ?? null);
      await audit(
        db,
        {
          orgId: org.id,
          contactId: ev.contactId,
          actor: "reminders",
          action: res.written ? "credit_hold.written_back" : "credit_hold.store_only",
          detail: { holdEventId: ev.id, action: ev.action, detail: res.detail ?? null },
        },
        now,
      );
      return res.written
        ? `The ${ev.action === "place" ? "hold" : "release"} was written to ${org.provider === "xero" ? "Xero" : "QuickBooks"}.`
        : (res.detail ?? "The hold is recorded in Creditpulse only.");
    } catch (err) {
      const text = errorText(err);
      const kind = err instanceof ConnectorError ? err.kind : "error";
      await recordWriteback(db, ev.id, "failed", `${kind}: ${text}`);
      await audit(
        db,
        {
          orgId: org.id,
          contactId: ev.contactId,
          actor: "reminders",
          action: "credit_hold.writeback_failed",
          detail: { holdEventId: ev.id, action: ev.action, kind, error: text },
        },
        now,
      );
      log.warn(
        { org: org.slug, holdEventId: ev.id, kind, error: text },
        "credit hold write-back failed; will retry",
      );
      return `Writing it to the ledger failed (${text}); Creditpulse will retry.`;
    }
  }

  async function notifyOwner(ev: CreditHoldRow, writeback: string) {
    if (!owner || !deps.mailer || !config.MAIL_FROM) {
      if (ev.ownerNotice === "pending" && !owner) await recordOwnerNotice(db, ev.id, "none", now);
      return;
    }
    if (!(await claimOwnerNotice(db, ev.id, now))) return;
    const rows = await contactOf(ev.contactId);
    const c = rows.contacts[0];
    if (!c) return;
    const local = dateInZone(now, org.timezone);
    const invoices = rows.invoices
      .filter((i) => i.disputedAt === null)
      .sort((a, b) => (a.dueDate < b.dueDate ? -1 : 1))
      .map((invoice) => ({
        invoice,
        daysOverdue: daysBetween(invoice.dueDate, local),
      }));
    const fields = buildFields({
      org: { name: org.name, locale: org.locale },
      customer: { externalId: c.externalId, name: c.name, to: c.emails as string[] },
      sender: { email: settings.senderEmail, phone: settings.senderPhone },
      level: { level: 0, name: ev.action === "place" ? "Credit hold" : "Hold released", template: "owner" },
      invoices: ev.action === "place" ? invoices : [],
      links: { customerPage: null, unsubscribe: null },
      today: local,
      hold: {
        action: ev.action,
        reason: ev.reason,
        date_formatted: formatDate(dateInZone(ev.at, org.timezone), org.locale),
        writeback,
        review_url: `${baseUrlOf(config)}/orgs/${org.slug}/holds`,
      },
    });
    const renderer = createReminderRenderer({ overrides: await loadTemplateOverrides(db, org.id) });
    const template = ev.action === "place" ? "owner-hold" : "owner-release";
    let r: Awaited<ReturnType<ReminderRenderer["render"]>>;
    try {
      r = await renderer.render(template, fields);
    } catch (err) {
      // Nothing was sent: the notice waits for the next run (after the template is fixed).
      await recordOwnerNotice(db, ev.id, "failed", now);
      await reportTemplateFailure(deps, org, template, err, now, ev.contactId);
      return;
    }
    try {
      const from = config.MAIL_FROM;
      const sent = await deps.mailer.send({
        from,
        to: [owner],
        subject: r.subject,
        html: r.html,
        text: r.text,
        messageId: `<${ev.id}@${domainOf(from)}>`,
        date: new Date(now),
      });
      await recordOwnerNotice(db, ev.id, "sent", now);
      await audit(
        db,
        {
          orgId: org.id,
          contactId: ev.contactId,
          actor: "reminders",
          action: "credit_hold.owner_notified",
          detail: { holdEventId: ev.id, to: owner, messageId: sent.messageId },
        },
        now,
      );
    } catch (err) {
      // Retry only what the server certainly did not take; anything that may have been accepted is left for
      // review (never resent automatically).
      const kind = classifySendError(err);
      await recordOwnerNotice(db, ev.id, kind === "retry" ? "failed" : "needs_review", now);
      await audit(
        db,
        {
          orgId: org.id,
          contactId: ev.contactId,
          actor: "reminders",
          action:
            kind === "retry" ? "credit_hold.owner_notice_failed" : "credit_hold.owner_notice_needs_review",
          detail: { holdEventId: ev.id, to: owner, outcome: kind, error: errorText(err) },
        },
        now,
      );
      log.warn(
        { org: org.slug, holdEventId: ev.id, outcome: kind, error: errorText(err) },
        "owner notice not delivered",
      );
    }
  }

  async function finish(ev: CreditHoldRow): Promise<void> {
    const rows = await contactOf(ev.contactId);
    const externalId = rows.contacts[0]?.externalId ?? ev.contactId;
    let writeback = "";
    if (ev.writebackStatus === "pending" || ev.writebackStatus === "failed")
      writeback = await writeBack(ev, externalId);
    else writeback = ev.writebackDetail ?? "";
    if (ev.ownerNotice === "pending" || ev.ownerNotice === "failed") await notifyOwner(ev, writeback);
  }

  /** Tells the owner and bookkeepers about a proposed hold, with a link to approve or dismiss it. */
  async function notifyProposal(p: HoldProposalRow): Promise<void> {
    const to = [...new Set([...(owner ? [owner] : []), ...(await approverEmails(db, org.id))])];
    if (to.length === 0) {
      await recordProposalNotice(db, p.id, "none");
      return;
    }
    if (!deps.mailer || !config.MAIL_FROM) return;
    if (!(await claimProposalNotice(db, p.id))) return;
    const rows = await contactOf(p.contactId);
    const c = rows.contacts[0];
    if (!c) return;
    const local = dateInZone(now, org.timezone);
    const invoices = rows.invoices
      .filter((i) => i.disputedAt === null)
      .sort((a, b) => (a.dueDate < b.dueDate ? -1 : 1))
      .map((invoice) => ({ invoice, daysOverdue: daysBetween(invoice.dueDate, local) }));
    const fields = buildFields({
      org: { name: org.name, locale: org.locale },
      customer: { externalId: c.externalId, name: c.name, to: c.emails as string[] },
      sender: { email: settings.senderEmail, phone: settings.senderPhone },
      level: { level: 0, name: "Credit hold proposed", template: "owner" },
      invoices,
      links: { customerPage: null, unsubscribe: null },
      today: local,
      hold: {
        action: "propose",
        reason: p.reason,
        date_formatted: formatDate(dateInZone(p.proposedAt, org.timezone), org.locale),
        writeback: "Nothing is written to the ledger until you approve.",
        review_url: `${baseUrlOf(config)}/orgs/${org.slug}/holds`,
      },
    });
    const renderer = createReminderRenderer({ overrides: await loadTemplateOverrides(db, org.id) });
    let r: Awaited<ReturnType<ReminderRenderer["render"]>>;
    try {
      r = await renderer.render("owner-hold-proposed", fields);
    } catch (err) {
      // Nothing was sent: the notice waits for the next run (after the template is fixed).
      await recordProposalNotice(db, p.id, "failed");
      await reportTemplateFailure(deps, org, "owner-hold-proposed", err, now, p.contactId);
      return;
    }
    try {
      const from = config.MAIL_FROM;
      const sent = await deps.mailer.send({
        from,
        to,
        subject: r.subject,
        html: r.html,
        text: r.text,
        messageId: `<${p.id}@${domainOf(from)}>`,
        date: new Date(now),
      });
      await recordProposalNotice(db, p.id, "sent");
      await audit(
        db,
        {
          orgId: org.id,
          contactId: p.contactId,
          actor: "reminders",
          action: "credit_hold.proposal_notified",
          detail: { proposalId: p.id, to, messageId: sent.messageId },
        },
        now,
      );
    } catch (err) {
      if (classifySendError(err) === "retry") await recordProposalNotice(db, p.id, "failed");
      log.warn(
        { org: org.slug, proposalId: p.id, error: errorText(err) },
        "hold proposal notice not delivered",
      );
    }
  }

  /** Places or releases a hold (a run's decision or a person's), then writes it back and tells the owner. */
  async function change(
    contactId: string,
    action: "place" | "release",
    reason: string,
    by?: { actor: string; byHand?: boolean; detail?: Record<string, unknown> },
  ): Promise<CreditHoldRow | undefined> {
    const ev = await transitionHold(
      store,
      {
        orgId: org.id,
        contactId,
        action,
        reason,
        ownerNotice: Boolean(owner),
        ...(by ? { actor: by.actor, byHand: by.byHand ?? false, detail: by.detail } : {}),
      },
      now,
    );
    if (!ev) return undefined;
    log.info(
      { org: org.slug, contact: contactId, action, by: by?.actor ?? "reminders" },
      "credit hold changed",
    );
    await finish(ev);
    return ev;
  }

  return {
    finish,
    notifyProposal,
    change,
    async apply(h: PlannedHold): Promise<HoldResult["action"] | null> {
      if (h.action === "propose") {
        const p = await createProposal(
          store,
          { orgId: org.id, contactId: h.contact.id, reason: h.reason, notice: true },
          now,
        );
        if (!p) return null;
        log.info({ org: org.slug, customer: h.contact.externalId }, "credit hold proposed");
        await notifyProposal(p);
        return "proposed";
      }
      if (h.action === "withdraw") {
        const p = await closeProposal(
          store,
          { orgId: org.id, contactId: h.contact.id, status: "withdrawn", by: "reminders", reason: h.reason },
          now,
        );
        return p ? "withdrawn" : null;
      }
      const ev = await change(h.contact.id, h.action, h.reason);
      if (!ev) return null;
      // Automatic mode: a proposal left from approve mode is closed by the placement.
      if (h.action === "place")
        await closeProposal(
          store,
          {
            orgId: org.id,
            contactId: h.contact.id,
            status: "approved",
            by: "automatic",
            reason: h.reason,
            holdEventId: ev.id,
          },
          now,
        );
      return h.action === "place" ? "placed" : "released";
    },
  };
}
