/**
 * What the reminder engine will do, told truthfully, for the reminders page and Send now's confirmation:
 * - `plannedSends`: each email of the next days with the instant it will actually go: the first hourly run of
 *   the `remind` job (minute 5 of each hour, see src/jobs.ts) that falls inside that customer's sending window,
 *   in its own timezone, skipping weekends and public holidays. A dry run at that instant sends it.
 * - `runOutlook`: what a run now (Send now) would send at once, what waits for the window (and until when), and
 *   which credit holds it would propose, place, release or withdraw.
 * Nothing is claimed, sent or changed.
 */
import type { Config } from "../config";
import { isoWeekday } from "../days";
import type { Logger } from "../log";
import { addDays, dateInZone, type IsoDate, isTimeZone } from "../model";
import type { PlanContact, SendingWindow } from "../model/reminders";
import type { Store } from "../store/db";
import type { Organisation } from "../store/orgs";
import { activePauses } from "../store/pauses";
import { loadPlanRows } from "../store/plan-rows";
import { reminderEmailOverrides } from "../store/portal";
import { publicHolidays } from "./holidays";
import {
  evaluateContact,
  type HoldAttention,
  type PlannedHold,
  type PlannedSkip,
  planReminders,
} from "./plan";
import { createPlanCache } from "./plan-cache";
import { TemplateRenderError } from "./render";
import { historyOf, loadRunContext, payFor, reminderFields } from "./run-context";
import { minutesOf, zonedInstant } from "./window";

const HOUR = 3_600_000;
/** The minute past each hour the `remind` job runs at (src/jobs.ts: "5 * * * *"). */
export const REMIND_MINUTE = 5;

/** The first run of the hourly `remind` job at or after `t`. */
export function remindTickAtOrAfter(t: number): number {
  const tick = Math.floor(t / HOUR) * HOUR + REMIND_MINUTE * 60_000;
  return tick >= t ? tick : tick + HOUR;
}

/**
 * The first instant on local `date` in `timeZone`, not before `notBefore`, at which a run writes to a customer:
 * an hourly tick inside the window on a sending day that is not a public holiday; null when there is none.
 * `tick` maps an instant to the next run (identity for "right now").
 */
export function firstSendInstant(
  date: IsoDate,
  timeZone: string,
  window: SendingWindow,
  holidays: ReadonlyMap<IsoDate, string>,
  notBefore: number,
  tick: (t: number) => number = remindTickAtOrAfter,
): number | null {
  if (!window.days.includes(isoWeekday(date)) || holidays.has(date)) return null;
  const open = zonedInstant(date, minutesOf(window.start), timeZone);
  const close = zonedInstant(date, minutesOf(window.end), timeZone);
  const t = tick(Math.max(open, notBefore));
  return t < close ? t : null;
}

/** The next instant a customer's window is open (for "waits until"), within two weeks. */
export function nextOpening(
  from: number,
  timeZone: string,
  window: SendingWindow,
  holidays: ReadonlyMap<IsoDate, string>,
): number | null {
  const today = dateInZone(from, timeZone);
  for (let d = 0; d < 15; d++) {
    const t = firstSendInstant(addDays(today, d), timeZone, window, holidays, from, (x) => x);
    if (t !== null) return t;
  }
  return null;
}

export interface PlannedSend {
  /** When it will go (epoch ms): the first hourly run inside the customer's window. */
  at: number;
  /** The customer's local date then. */
  date: IsoDate;
  timeZone: string;
  customer_id: string;
  customer_name: string;
  to: string[];
  level: number;
  template: string;
  invoice_numbers: string[];
  subject: string;
  text: string;
  /** Set when the organisation's template does not render (nothing would be sent; the run reports it). */
  template_error: string | null;
}

type OutlookDeps = { store: Store; config: Config; log: Logger };

function zoneOf(contact: PlanContact, org: Organisation): string {
  return contact.timezone && isTimeZone(contact.timezone) ? contact.timezone : org.timezone;
}

/** The rows a run reads, with the customers' own reminder addresses applied. */
async function rowsFor(deps: OutlookDeps, org: Organisation, now: number, days: number) {
  const { db } = deps.store;
  const last = addDays(dateInZone(now, "Pacific/Kiritimati"), days);
  const run = await loadRunContext(deps, org, { kind: "opening", date: last });
  const first = dateInZone(now, org.timezone);
  const rows = await loadPlanRows(db, org, { asOf: first, maxDueDate: run.maxDueDate });
  const overrides = await reminderEmailOverrides(db, org.id);
  const contacts = rows.contacts.map((c) => {
    const e = overrides.get(c.id);
    return e ? { ...c, emails: [e] } : c;
  });
  const pauses = await activePauses(db, org.id, addDays(first, -2));
  const holidays = publicHolidays(org.country, [addDays(first, -2), addDays(last, 2)]);
  return { run, rows, contacts, pauses, holidays };
}

/**
 * Every email of the next `days` days with the instant it will actually go, customer by customer: a level sent
 * on one day is claimed for the days after (as the engine would), so each email is listed once.
 */
export async function plannedSends(
  deps: OutlookDeps,
  org: Organisation,
  now: number,
  days = 7,
  limit = 200,
): Promise<PlannedSend[]> {
  const { run, rows, contacts, pauses, holidays } = await rowsFor(deps, org, now, days);
  const settings = { ...run.planSettings, holidays };
  const claimed = new Map(rows.claimedOffset);
  const cache = createPlanCache();
  const found: { at: number; email: NonNullable<ReturnType<typeof evaluateContact>["email"]> }[] = [];
  const none: never[] = [];
  for (const contact of contacts) {
    const invoices = rows.byContact?.get(contact.id) ?? none;
    if (invoices.length === 0) continue;
    const tz = zoneOf(contact, org);
    const today = dateInZone(now, tz);
    for (let d = 0; d < days; d++) {
      const at = firstSendInstant(addDays(today, d), tz, settings.window, holidays, now);
      if (at === null) continue;
      cache.local.clear();
      cache.window.clear();
      const v = evaluateContact(
        contact,
        invoices,
        {
          settings,
          policies: run.policies,
          claimedOffset: claimed,
          outstandingBase: rows.outstandingBase,
          pauses,
          sentOffsets: rows.sentOffsets,
          at: { kind: "instant", at },
        },
        cache,
      );
      if (!v.email) continue;
      for (const p of v.email.invoices)
        if (p.due)
          claimed.set(p.invoice.id, Math.max(claimed.get(p.invoice.id) ?? -Infinity, p.level.offsetDays));
      found.push({ at, email: v.email });
    }
  }
  found.sort((a, b) => a.at - b.at || (a.email.contact.name < b.email.contact.name ? -1 : 1));
  const out: PlannedSend[] = [];
  for (const { at, email } of found.slice(0, limit)) {
    const history = await historyOf(deps.store.db, email.contact.id, email.timeZone);
    // A template that does not render is shown as such (the run reports and audits it).
    const r = await run.renderer
      .render(
        email.level.template,
        reminderFields(deps, org, run.settings, email, undefined, history, await payFor(run, email.invoices)),
      )
      .then((x) => ({ ...x, error: null as string | null }))
      .catch((e: unknown) => {
        const detail = e instanceof TemplateRenderError ? e.message : String(e);
        return { subject: `(template error) ${detail}`.slice(0, 300), text: "", html: "", error: detail };
      });
    out.push({
      at,
      date: email.local.date,
      timeZone: email.timeZone,
      customer_id: email.contact.externalId,
      customer_name: email.contact.name,
      to: email.to,
      level: email.level.level,
      template: email.level.template,
      invoice_numbers: email.invoices.map((p) => p.invoice.number),
      subject: r.subject,
      text: r.text,
      template_error: r.error,
    });
  }
  return out;
}

export interface Outlook {
  /** Emails a run now sends. */
  now: {
    customer_id: string;
    customer_name: string;
    to: string[];
    level: number;
    invoice_numbers: string[];
  }[];
  /** Emails due but outside the customer's window: when it opens. */
  waiting: {
    customer_id: string;
    customer_name: string;
    level: number;
    until: number | null;
    reason: string;
  }[];
  /** Emails due that no run will send (no address, opted out, paused, excluded). */
  blocked: { customer_id: string; customer_name: string; level: number; reason: string }[];
  holds: { customer_id: string; customer_name: string; action: PlannedHold["action"]; reason: string }[];
  attention: { customer_id: string; customer_name: string; reason: string; from: IsoDate | null }[];
}

const WINDOW_REASON = /^(not a sending day|public holiday|outside the sending window)/;

/** What a run at `now` (Send now) would do: nothing is sent or changed. */
export async function runOutlook(deps: OutlookDeps, org: Organisation, now: number): Promise<Outlook> {
  const { run, rows, contacts, pauses, holidays } = await rowsFor(deps, org, now, 1);
  const plan = planReminders({
    settings: { ...run.planSettings, holidays },
    policies: run.policies,
    contacts,
    invoices: rows.invoices,
    byContact: rows.byContact,
    claimedOffset: rows.claimedOffset,
    outstandingBase: rows.outstandingBase,
    pauses,
    sentOffsets: rows.sentOffsets,
    at: { kind: "instant", at: now },
  });
  const who = (c: PlanContact) => ({ customer_id: c.externalId, customer_name: c.name });
  const waits = (s: PlannedSkip) => WINDOW_REASON.test(s.reason);
  return {
    now: plan.emails.map((e) => ({
      ...who(e.contact),
      to: e.to,
      level: e.level.level,
      invoice_numbers: e.invoices.map((p) => p.invoice.number),
    })),
    waiting: plan.skipped.filter(waits).map((s) => ({
      ...who(s.contact),
      level: s.level.level,
      reason: s.reason,
      until: nextOpening(now, zoneOf(s.contact, org), run.planSettings.window, holidays),
    })),
    blocked: plan.skipped
      .filter((s) => !waits(s))
      .map((s) => ({ ...who(s.contact), level: s.level.level, reason: s.reason })),
    holds: plan.holds.map((h) => ({ ...who(h.contact), action: h.action, reason: h.reason })),
    attention: plan.attention.map((a: HoldAttention) => ({
      ...who(a.contact),
      reason: a.reason,
      from: a.from,
    })),
  };
}
