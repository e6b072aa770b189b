/**
 * What a reminder run (and `preview`) works from: the organisation's settings and policies, the instants and
 * local dates a run stands on, the renderer, and the merge fields of one planned email.
 */
import type { Config } from "../config";
import { addDays, dateInZone, type IsoDate } from "../model";
import type { PlanContact, PlanInvoice, Policy } from "../model/reminders";
import { baseUrlOf, type CustomerLinks, linksFor } from "../portal/token";
import { reminderHistory } from "../store/claims";
import type { Store } from "../store/db";
import type { Organisation } from "../store/orgs";
import { loadPaymentSettings } from "../store/payment";
import {
  loadPolicies,
  loadReminderSettings,
  loadTemplateOverrides,
  type ReminderSettings,
} from "../store/reminder-settings";
import { publicHolidays } from "./holidays";
import { onlineLinksFor } from "./online-links";
import { type PayView, payView } from "./pay-links";
import type { PlannedEmail, PlanSettings, RunAt } from "./plan";
import { buildFields, createReminderRenderer, type ReminderHistory } from "./render";
import type { ReminderDeps } from "./run-types";
import { minutesOf, zonedInstant } from "./window";

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
export function withReminderEmails(
  list: PlanContact[],
  overrides: ReadonlyMap<string, string>,
): PlanContact[] {
  if (overrides.size === 0) return list;
  return list.map((c) => {
    const e = overrides.get(c.id);
    return e ? { ...c, emails: [e] } : c;
  });
}

/** The local date the organisation is on for this run (broken promises are judged on it). */
export function orgToday(org: Organisation, at: RunAt): IsoDate {
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
  deps: Pick<ReminderDeps, "store" | "config"> &
    Partial<Pick<ReminderDeps, "log" | "connectorFor" | "tokens">>,
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
    /** Pay-URL template and bank details (settings page, Payment). */
    payment: await loadPaymentSettings(db, org.id),
    /** Xero online invoice links: fetched before an email is claimed, read when it is rendered. */
    links: onlineLinksFor(deps, org),
  };
}

/** The pay links and bank details of an email's invoices (cached Xero links: nothing is fetched here). */
export async function payFor(
  run: Pick<RunContext, "payment" | "links">,
  invoices: readonly { invoice: PlanInvoice }[],
): Promise<PayView> {
  const list = invoices.map((p) => p.invoice);
  return payView(list, run.payment, await run.links.cached(list.map((i) => i.id)));
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
  pay?: PayView,
  charges?: ReadonlyMap<string, number>,
) {
  return buildFields({
    org: { name: org.name, locale: org.locale },
    customer: { externalId: email.contact.externalId, name: email.contact.name, to: email.to },
    sender: {
      email: settings.replyTo ?? settings.senderEmail ?? deps.config.MAIL_REPLY_TO ?? null,
      phone: settings.senderPhone,
    },
    level: email.level,
    invoices: email.invoices,
    links,
    today: email.local.date,
    history,
    holdNoticeDays: deps.config.HOLD_NOTICE_DAYS,
    pay,
    charges,
  });
}

export type RunContext = Awaited<ReturnType<typeof loadRunContext>>;

/** Pauses ending before this date cannot matter to any customer on this run (timezones span about 2 days). */
export function pauseHorizon(latest: IsoDate): IsoDate {
  return addDays(latest, -2);
}
