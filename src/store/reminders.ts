/**
 * Queries of the reminder engine: settings, policies, template overrides, the rows planning reads, the
 * (invoice, level) claims and their outcome, and credit-hold events. Every write is one idempotent statement
 * or runs inside `store.atomically`, so the same code holds on D1.
 */
import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import type { PlanContact, PlanInvoice } from "../reminders/plan";
import {
  DEFAULT_POLICY_LEVELS,
  DEFAULT_POLICY_NAME,
  FIRM_POLICY_LEVELS,
  FIRM_POLICY_NAME,
  type Policy,
  toPolicy,
} from "../reminders/policy";
import { DEFAULT_WINDOW, type SendingWindow } from "../reminders/window";
import { audit } from "./audit";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import type { Organisation } from "./orgs";
import {
  contacts,
  creditHolds,
  invoices,
  reminderPolicies,
  reminderSettings,
  reminders,
  reminderTemplates,
  scores,
} from "./schema";

export type ReminderRow = typeof reminders.$inferSelect;
export type ReminderStatus = ReminderRow["status"];
export type CreditHoldRow = typeof creditHolds.$inferSelect;
export type TemplatePart = "subject" | "html" | "text";

const OPEN = ["authorised", "submitted"] as const;

/** Placeholder owner address of demo organisations (nothing is delivered there by a real SMTP server). */
export const DEMO_OWNER_EMAIL = "owner@demo.example";

export interface ReminderSettings {
  ownerEmail: string | null;
  senderEmail: string | null;
  senderPhone: string | null;
  window: SendingWindow;
  defaultPolicyId: string | null;
  gradePolicies: Record<string, string>;
  minAmount: number | null;
  creditLimitMarginPct: number | null;
  bccOwner: boolean | null;
}

export function defaultSettings(org: Pick<Organisation, "isDemo">): ReminderSettings {
  return {
    ownerEmail: org.isDemo ? DEMO_OWNER_EMAIL : null,
    senderEmail: null,
    senderPhone: null,
    window: DEFAULT_WINDOW,
    defaultPolicyId: null,
    gradePolicies: {},
    minAmount: null,
    creditLimitMarginPct: null,
    bccOwner: null,
  };
}

export async function loadReminderSettings(db: Db, org: Organisation): Promise<ReminderSettings> {
  const rows = await db.select().from(reminderSettings).where(eq(reminderSettings.orgId, org.id)).limit(1);
  const r = rows[0];
  if (!r) return defaultSettings(org);
  return {
    ownerEmail: r.ownerEmail,
    senderEmail: r.senderEmail,
    senderPhone: r.senderPhone,
    window: { start: r.windowStart, end: r.windowEnd, days: r.windowDays },
    defaultPolicyId: r.defaultPolicyId,
    gradePolicies: r.gradePolicies,
    minAmount: r.minAmount,
    creditLimitMarginPct: r.creditLimitMarginPct,
    bccOwner: r.bccOwner,
  };
}

/** Creates the settings row (with defaults) if missing, then applies `patch`. */
export async function saveReminderSettings(
  db: Db,
  org: Organisation,
  patch: Partial<ReminderSettings>,
  now: number,
): Promise<void> {
  const d = { ...defaultSettings(org), ...patch };
  const values = {
    orgId: org.id,
    ownerEmail: d.ownerEmail,
    senderEmail: d.senderEmail,
    senderPhone: d.senderPhone,
    windowStart: d.window.start,
    windowEnd: d.window.end,
    windowDays: [...d.window.days],
    defaultPolicyId: d.defaultPolicyId,
    gradePolicies: d.gradePolicies,
    minAmount: d.minAmount,
    creditLimitMarginPct: d.creditLimitMarginPct,
    bccOwner: d.bccOwner,
    createdAt: now,
    updatedAt: now,
  };
  const set: Record<string, unknown> = { updatedAt: now };
  for (const [k, v] of Object.entries(patch)) {
    if (k === "window") {
      const w = v as SendingWindow;
      Object.assign(set, { windowStart: w.start, windowEnd: w.end, windowDays: [...w.days] });
    } else set[k] = v;
  }
  await db
    .insert(reminderSettings)
    .values(values)
    .onConflictDoUpdate({ target: reminderSettings.orgId, set });
}

/** Makes sure the organisation has its settings row and the built-in "default" and "firm" policies. */
export async function ensureReminderSetup(db: Db, org: Organisation, now: number): Promise<void> {
  const d = defaultSettings(org);
  await db
    .insert(reminderSettings)
    .values({
      orgId: org.id,
      ownerEmail: d.ownerEmail,
      windowStart: d.window.start,
      windowEnd: d.window.end,
      windowDays: [...d.window.days],
      gradePolicies: {},
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
  for (const [name, levels] of [
    [DEFAULT_POLICY_NAME, DEFAULT_POLICY_LEVELS],
    [FIRM_POLICY_NAME, FIRM_POLICY_LEVELS],
  ] as const) {
    await db
      .insert(reminderPolicies)
      .values({
        id: newId("pol"),
        orgId: org.id,
        name,
        levels: [...levels],
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing();
  }
}

/** Creates or replaces a named policy; returns its id. */
export async function upsertPolicy(
  db: Db,
  orgId: string,
  name: string,
  levels: unknown,
  now: number,
): Promise<string> {
  const parsed = toPolicy("check", name, levels);
  const stored = parsed.levels.map((l) => ({
    offsetDays: l.offsetDays,
    template: l.template,
    name: l.name,
    placeHold: l.placeHold,
  }));
  const rows = await db
    .insert(reminderPolicies)
    .values({ id: newId("pol"), orgId, name, levels: stored, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [reminderPolicies.orgId, reminderPolicies.name],
      set: { levels: stored, updatedAt: now },
    })
    .returning({ id: reminderPolicies.id });
  return rows[0]!.id;
}

export interface LoadedPolicies {
  policies: Map<string, Policy>;
  /** Id of the policy named "default" (or the in-memory default when none is stored). */
  defaultId: string;
}

/** The organisation's policies; the built-in ones in memory when none are stored yet (dry runs). */
export async function loadPolicies(db: Db, orgId: string): Promise<LoadedPolicies> {
  const rows = await db.select().from(reminderPolicies).where(eq(reminderPolicies.orgId, orgId));
  const policies = new Map<string, Policy>();
  let defaultId: string | undefined;
  for (const r of rows) {
    policies.set(r.id, toPolicy(r.id, r.name, r.levels));
    if (r.name === DEFAULT_POLICY_NAME) defaultId = r.id;
  }
  if (!defaultId) {
    defaultId = "builtin-default";
    policies.set(defaultId, toPolicy(defaultId, DEFAULT_POLICY_NAME, DEFAULT_POLICY_LEVELS));
    if (![...policies.values()].some((p) => p.name === FIRM_POLICY_NAME))
      policies.set("builtin-firm", toPolicy("builtin-firm", FIRM_POLICY_NAME, FIRM_POLICY_LEVELS));
  }
  return { policies, defaultId };
}

export async function loadTemplateOverrides(db: Db, orgId: string): Promise<Map<string, string>> {
  const rows = await db.select().from(reminderTemplates).where(eq(reminderTemplates.orgId, orgId));
  return new Map(rows.map((r) => [`${r.name}.${r.part}`, r.body]));
}

export async function setTemplateOverride(
  db: Db,
  orgId: string,
  name: string,
  part: TemplatePart,
  body: string,
  now: number,
): Promise<void> {
  await db
    .insert(reminderTemplates)
    .values({ orgId, name, part, body, updatedAt: now })
    .onConflictDoUpdate({
      target: [reminderTemplates.orgId, reminderTemplates.name, reminderTemplates.part],
      set: { body, updatedAt: now },
    });
}

// --- what planning reads ---

const contactCols = {
  id: contacts.id,
  externalId: contacts.externalId,
  name: contacts.name,
  emails: contacts.emails,
  timezone: contacts.timezone,
  policyId: contacts.policyId,
  chasingPausedUntil: contacts.chasingPausedUntil,
  excluded: contacts.excluded,
  optedOut: contacts.optedOut,
  holdState: contacts.holdState,
  creditLimitMinor: contacts.creditLimitMinor,
  deleted: contacts.deleted,
};

const invoiceCols = {
  id: invoices.id,
  contactId: invoices.contactId,
  externalId: invoices.externalId,
  number: invoices.number,
  issueDate: invoices.issueDate,
  dueDate: invoices.dueDate,
  currency: invoices.currency,
  totalMinor: invoices.totalMinor,
  amountCreditedMinor: invoices.amountCreditedMinor,
  amountDueMinor: invoices.amountDueMinor,
  status: invoices.status,
  disputedAt: invoices.disputedAt,
  payUrl: invoices.payUrl,
};

const openInvoice = (orgId: string) =>
  and(eq(invoices.orgId, orgId), inArray(invoices.status, [...OPEN]), sql`${invoices.amountDueMinor} > 0`);

export interface PlanRows {
  contacts: PlanContact[];
  invoices: PlanInvoice[];
  /** Highest day offset claimed per invoice (a level's stable identity; see reminders.offset_days). */
  claimedOffset: Map<string, number>;
  /** Present when computed in SQL; otherwise planning sums it from `invoices`. */
  outstandingBase?: Map<string, number>;
}

/** Latest monitor grade per contact on or before `asOf` (none when the monitor has not run). */
async function latestGrades(
  db: Db,
  orgId: string,
  asOf: string,
  contactId?: string,
): Promise<Map<string, string>> {
  const rows = (await db
    .select({ contactId: scores.contactId, grade: scores.grade })
    .from(scores)
    .where(
      and(
        eq(scores.orgId, orgId),
        contactId ? eq(scores.contactId, contactId) : undefined,
        sql`${scores.asOf} = (select max(s2.as_of) from scores s2 where s2.contact_id = ${scores.contactId} and s2.as_of <= ${asOf})`,
      ),
    )) as { contactId: string; grade: string }[];
  return new Map(rows.map((r) => [r.contactId, r.grade]));
}

interface RawContact {
  id: string;
  external_id: string;
  name: string;
  emails: string;
  timezone: string | null;
  policy_id: string | null;
  chasing_paused_until: string | null;
  excluded: number;
  opted_out: number;
  hold_state: "none" | "on_hold";
  credit_limit_minor: number | null;
}

interface RawInvoice {
  id: string;
  contact_id: string;
  external_id: string;
  number: string;
  issue_date: string;
  due_date: string;
  currency: string;
  total_minor: number;
  amount_credited_minor: number;
  amount_due_minor: number;
  status: PlanInvoice["status"];
  disputed_at: number | null;
  pay_url: string | null;
}

function parseEmails(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/**
 * Rows for planning a whole organisation, in three plain passes (this is the hot path: 100,000 customers must
 * plan within a few times a bare scan of their overdue invoices): every live contact that owes something or is
 * on hold (nobody else can get a reminder or a hold change); the open invoices that
 * can have reached a level by `maxDueDate`, plus every open invoice of customers with a credit limit (the
 * planner sums their outstanding balance from them); and the highest level claimed per open invoice.
 */
export async function loadPlanRows(
  db: Db,
  org: Pick<Organisation, "id" | "baseCurrency">,
  opts: { asOf: string; maxDueDate: string },
): Promise<PlanRows> {
  const grades = await latestGrades(db, org.id, opts.asOf);
  const rawContacts = await db.all<RawContact>(
    sql`select id, external_id, name, emails, timezone, policy_id, chasing_paused_until, excluded, opted_out,
               hold_state, credit_limit_minor
        from contacts
        where org_id = ${org.id} and deleted = 0
          and (hold_state = 'on_hold' or id in (
            select contact_id from invoices where org_id = ${org.id} and status in ('authorised', 'submitted')
              and amount_due_minor > 0))`,
  );
  const planContacts: PlanContact[] = rawContacts.map((c) => ({
    id: c.id,
    externalId: c.external_id,
    name: c.name,
    emails: parseEmails(c.emails),
    timezone: c.timezone,
    policyId: c.policy_id,
    chasingPausedUntil: c.chasing_paused_until,
    excluded: Boolean(c.excluded),
    optedOut: Boolean(c.opted_out),
    holdState: c.hold_state,
    creditLimitMinor: c.credit_limit_minor,
    deleted: false,
    grade: grades.get(c.id) ?? null,
  }));
  const rawInvoices = await db.all<RawInvoice>(
    sql`select id, contact_id, external_id, number, issue_date, due_date, currency, total_minor,
               amount_credited_minor, amount_due_minor, status, disputed_at, pay_url
        from invoices
        where org_id = ${org.id} and status in ('authorised', 'submitted') and amount_due_minor > 0
          and (due_date <= ${opts.maxDueDate}
               or contact_id in (select id from contacts where org_id = ${org.id} and credit_limit_minor is not null))`,
  );
  const planInvoices: PlanInvoice[] = rawInvoices.map((i) => ({
    id: i.id,
    contactId: i.contact_id,
    externalId: i.external_id,
    number: i.number,
    issueDate: i.issue_date,
    dueDate: i.due_date,
    currency: i.currency,
    totalMinor: i.total_minor,
    amountCreditedMinor: i.amount_credited_minor,
    amountDueMinor: i.amount_due_minor,
    status: i.status,
    disputedAt: i.disputed_at,
    payUrl: i.pay_url,
  }));
  const claimRows = await db.all<{ invoice_id: string; offset_days: number }>(
    sql`select invoice_id, max(offset_days) as offset_days from reminders
        where org_id = ${org.id} and status <> 'failed'
        group by invoice_id`,
  );
  return {
    contacts: planContacts,
    invoices: planInvoices,
    claimedOffset: new Map(claimRows.map((r) => [r.invoice_id, r.offset_days])),
  };
}

/** One customer's rows, re-read (the re-check after claiming); claims of `exceptEmailId` are left out. */
export async function loadContactRows(
  db: Db,
  org: Pick<Organisation, "id" | "baseCurrency">,
  contactId: string,
  asOf: string,
  exceptEmailId?: string,
): Promise<PlanRows> {
  const grades = await latestGrades(db, org.id, asOf, contactId);
  const c = await db
    .select(contactCols)
    .from(contacts)
    .where(and(eq(contacts.orgId, org.id), eq(contacts.id, contactId)));
  const planContacts = c.map((x) => ({ ...x, grade: grades.get(x.id) ?? null }));
  const invoiceRows = (await db
    .select(invoiceCols)
    .from(invoices)
    .where(and(openInvoice(org.id), eq(invoices.contactId, contactId)))) as PlanInvoice[];
  const claimRows = (await db
    .select({ invoiceId: reminders.invoiceId, offsetDays: sql<number>`max(${reminders.offsetDays})` })
    .from(reminders)
    .where(
      and(
        eq(reminders.contactId, contactId),
        ne(reminders.status, "failed"),
        exceptEmailId ? ne(reminders.emailId, exceptEmailId) : undefined,
      ),
    )
    .groupBy(reminders.invoiceId)) as { invoiceId: string; offsetDays: number }[];
  let base = 0;
  for (const i of invoiceRows)
    if (i.disputedAt === null && i.currency === org.baseCurrency) base += i.amountDueMinor;
  return {
    contacts: planContacts,
    invoices: invoiceRows,
    claimedOffset: new Map(claimRows.map((r) => [r.invoiceId, r.offsetDays])),
    outstandingBase: new Map([[contactId, base]]),
  };
}

export async function findContactByExternalId(db: Db, orgId: string, externalId: string) {
  const rows = await db
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(eq(contacts.orgId, orgId), eq(contacts.externalId, externalId)))
    .limit(1);
  return rows[0];
}

// --- claims ---

export interface ClaimRequest {
  orgId: string;
  contactId: string;
  invoiceId: string;
  level: number;
  offsetDays: number;
  template: string;
  policyId: string;
}

export function newEmailId(): string {
  return newId("rem");
}

/**
 * Claims (invoice, level) rows for one email before anything is sent, a level being known by its day offset
 * (positions move when a policy is edited): a fresh row is inserted, a "failed" row (the server did not accept
 * it last time) is taken over; any other existing row is left alone. Returns the invoice ids this email won.
 */
export async function claimReminders(
  store: Store,
  emailId: string,
  requests: ClaimRequest[],
  now: number,
): Promise<Set<string>> {
  const won = new Set<string>();
  if (requests.length === 0) return won;
  await store.atomically(async () => {
    for (const r of requests) {
      const rows = await store.db
        .insert(reminders)
        .values({
          id: newId("rem"),
          orgId: r.orgId,
          contactId: r.contactId,
          invoiceId: r.invoiceId,
          level: r.level,
          offsetDays: r.offsetDays,
          template: r.template,
          policyId: r.policyId,
          emailId,
          status: "claimed",
          attempts: 1,
          claimedAt: now,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: [reminders.invoiceId, reminders.offsetDays],
          set: {
            level: r.level,
            template: r.template,
            policyId: r.policyId,
            status: "claimed",
            emailId,
            claimedAt: now,
            updatedAt: now,
            attempts: sql`${reminders.attempts} + 1`,
          },
          setWhere: eq(reminders.status, "failed"),
        })
        .returning({ invoiceId: reminders.invoiceId });
      for (const x of rows) won.add(x.invoiceId);
    }
  });
  return won;
}

/** Gives claims back (the re-check found nothing to send for them): deletes still-"claimed" rows. */
export async function releaseClaims(db: Db, emailId: string, invoiceIds?: string[]): Promise<void> {
  await db
    .delete(reminders)
    .where(
      and(
        eq(reminders.emailId, emailId),
        eq(reminders.status, "claimed"),
        invoiceIds ? inArray(reminders.invoiceId, invoiceIds) : undefined,
      ),
    );
}

export async function markEmail(
  db: Db,
  emailId: string,
  outcome:
    | { status: "sent"; messageId: string; recipients: string[] }
    | { status: "failed" | "rejected" | "needs_review"; error: string },
  now: number,
): Promise<void> {
  const set =
    outcome.status === "sent"
      ? {
          status: outcome.status,
          messageId: outcome.messageId,
          recipients: outcome.recipients,
          sentAt: now,
          lastError: null,
          updatedAt: now,
        }
      : { status: outcome.status, lastError: outcome.error, updatedAt: now };
  await db.update(reminders).set(set).where(eq(reminders.emailId, emailId));
}

/**
 * Claims still "claimed" after `before` belong to a run that died between claiming and recording: the SMTP
 * server may have accepted them, so they become "needs_review" and are never resent automatically.
 */
export async function flagStaleClaims(
  db: Db,
  orgId: string,
  before: number,
  now: number,
): Promise<ReminderRow[]> {
  return db
    .update(reminders)
    .set({
      status: "needs_review",
      lastError: "the run stopped before the outcome was recorded",
      updatedAt: now,
    })
    .where(
      and(
        eq(reminders.orgId, orgId),
        eq(reminders.status, "claimed"),
        sql`${reminders.claimedAt} < ${before}`,
      ),
    )
    .returning();
}

export async function remindersFor(db: Db, orgId: string): Promise<ReminderRow[]> {
  return db.select().from(reminders).where(eq(reminders.orgId, orgId));
}

// --- credit holds ---

/**
 * Moves a customer onto or off hold, exactly once: the state change is conditional on the current state, and
 * the event (with a pending write-back and owner notice) and the audit entry land with it. Returns the event,
 * or undefined when another run already made the change.
 */
export async function transitionHold(
  store: Store,
  t: { orgId: string; contactId: string; action: "place" | "release"; reason: string; ownerNotice: boolean },
  now: number,
): Promise<CreditHoldRow | undefined> {
  const from = t.action === "place" ? "none" : "on_hold";
  const to = t.action === "place" ? "on_hold" : "none";
  return store.atomically(async () => {
    const changed = await store.db
      .update(contacts)
      .set({ holdState: to, holdChangedAt: now, updatedAt: now })
      .where(and(eq(contacts.id, t.contactId), eq(contacts.orgId, t.orgId), eq(contacts.holdState, from)))
      .returning({ id: contacts.id });
    if (changed.length === 0) return undefined;
    const rows = await store.db
      .insert(creditHolds)
      .values({
        id: newId("hld"),
        orgId: t.orgId,
        contactId: t.contactId,
        action: t.action,
        reason: t.reason,
        at: now,
        writebackStatus: "pending",
        ownerNotice: t.ownerNotice ? "pending" : "none",
      })
      .returning();
    await audit(
      store.db,
      {
        orgId: t.orgId,
        contactId: t.contactId,
        actor: "reminders",
        action: t.action === "place" ? "credit_hold.placed" : "credit_hold.released",
        detail: { reason: t.reason, holdEventId: rows[0]!.id },
      },
      now,
    );
    return rows[0]!;
  });
}

export async function recordWriteback(
  db: Db,
  holdId: string,
  status: "written" | "not_applicable" | "failed" | "superseded",
  detail: string | null,
): Promise<void> {
  await db
    .update(creditHolds)
    .set({
      writebackStatus: status,
      writebackDetail: detail,
      writebackAttempts: sql`${creditHolds.writebackAttempts} + 1`,
    })
    .where(eq(creditHolds.id, holdId));
}

/** Hold events whose write-back or owner notice is still to do (failed last time, or a run died). */
export async function unfinishedHolds(db: Db, orgId: string): Promise<CreditHoldRow[]> {
  return db
    .select()
    .from(creditHolds)
    .where(
      and(
        eq(creditHolds.orgId, orgId),
        sql`(${creditHolds.writebackStatus} in ('pending', 'failed') or ${creditHolds.ownerNotice} in ('pending', 'failed'))`,
      ),
    )
    .orderBy(creditHolds.at);
}

/** The latest hold event of a contact. */
export async function latestHold(db: Db, contactId: string): Promise<CreditHoldRow | undefined> {
  const rows = await db
    .select()
    .from(creditHolds)
    .where(eq(creditHolds.contactId, contactId))
    .orderBy(desc(creditHolds.at), desc(sql`rowid`))
    .limit(1);
  return rows[0];
}

/** Takes the owner notice of a hold event for sending (one taker wins). */
export async function claimOwnerNotice(db: Db, holdId: string, now: number): Promise<boolean> {
  const rows = await db
    .update(creditHolds)
    .set({ ownerNotice: "sending", ownerNoticeAt: now })
    .where(and(eq(creditHolds.id, holdId), inArray(creditHolds.ownerNotice, ["pending", "failed"])))
    .returning({ id: creditHolds.id });
  return rows.length > 0;
}

export async function recordOwnerNotice(
  db: Db,
  holdId: string,
  status: "sent" | "failed" | "none",
  now: number,
) {
  await db
    .update(creditHolds)
    .set({ ownerNotice: status, ownerNoticeAt: now })
    .where(eq(creditHolds.id, holdId));
}

export async function holdEvents(db: Db, orgId: string): Promise<CreditHoldRow[]> {
  return db.select().from(creditHolds).where(eq(creditHolds.orgId, orgId)).orderBy(creditHolds.at);
}
