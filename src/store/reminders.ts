/**
 * Queries of the reminder engine: settings, policies, template overrides, the rows planning reads, the
 * (invoice, level) claims and their outcome, and credit-hold events. Every write is one idempotent statement
 * or runs inside `store.atomically`, so the same code holds on D1.
 */

import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import {
  DEFAULT_POLICY_LEVELS,
  DEFAULT_POLICY_NAME,
  DEFAULT_WINDOW,
  FIRM_POLICY_LEVELS,
  FIRM_POLICY_NAME,
  type PlanContact,
  type PlanInvoice,
  type Policy,
  type SendingWindow,
  toPolicy,
} from "../model/reminders";
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
  /** null = "approve" (the default). */
  holdMode: "approve" | "automatic" | null;
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
    holdMode: null,
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
    holdMode: r.holdMode,
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
    holdMode: d.holdMode,
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
  /**
   * Per contact with a credit limit, when computed in SQL (planning sums it from `invoices` for the others, where
   * it does not matter).
   */
  outstandingBase?: Map<string, number>;
  /** `invoices` grouped by contact, when the loader has them so. */
  byContact?: Map<string, PlanInvoice[]>;
  /** Accepted reminders per invoice: [level offset, sent at]. */
  sentOffsets?: Map<string, [number, number][]>;
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

/** Contact columns planning reads, in this order (rows come back as arrays). */
const PLAN_CONTACT_COLS =
  sql.raw(`c.id, c.external_id, c.name, c.emails, c.timezone, c.policy_id, c.chasing_paused_until,
  c.excluded, c.opted_out, c.hold_state = 'on_hold', c.credit_limit_minor`);
type ContactRow = [
  id: string,
  externalId: string,
  name: string,
  emails: string,
  timezone: string | null,
  policyId: string | null,
  chasingPausedUntil: string | null,
  excluded: number,
  optedOut: number,
  onHold: number,
  creditLimitMinor: number | null,
  /** Amount due on open, undisputed base-currency invoices; only for contacts with a credit limit. */
  outstandingBase: number | null,
];

type InvoiceRow = [
  id: string,
  contactId: string,
  number: string,
  issueDate: string,
  dueDate: string,
  currency: string,
  totalMinor: number,
  amountCreditedMinor: number,
  amountDueMinor: number,
  submitted: number,
  disputedAt: number | null,
  payUrl: string | null,
];

function parseEmails(text: string): string[] {
  // The common case, one plain address: no JSON.parse (planning reads every contact that owes something).
  if (text.length > 4 && text.startsWith('["') && text.endsWith('"]')) {
    const inner = text.slice(2, -2);
    if (!inner.includes('"') && !inner.includes("\\")) return [inner];
  }
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function planContact(
  r: ContactRow,
  grade: string | null,
  holds: {
    proposed: ReadonlySet<string>;
    declined: ReadonlyMap<string, number>;
    byHand: ReadonlySet<string>;
  },
): PlanContact {
  return {
    id: r[0],
    externalId: r[1],
    name: r[2],
    emails: parseEmails(r[3]),
    timezone: r[4],
    policyId: r[5],
    chasingPausedUntil: r[6],
    excluded: r[7] !== 0,
    optedOut: r[8] !== 0,
    holdState: r[9] ? "on_hold" : "none",
    creditLimitMinor: r[10],
    deleted: false,
    grade,
    holdProposed: holds.proposed.has(r[0]),
    holdDeclinedAt: holds.declined.get(r[0]) ?? null,
    holdByHand: holds.byHand.has(r[0]),
  };
}

/**
 * Rows for planning a whole organisation. This is the hot path (100,000 customers must plan within a few times a
 * bare scan of their overdue invoices), so it reads as little as can matter, as arrays:
 * - the open invoices that can have reached a level by `maxDueDate` (the latest local date plus the longest
 *   lead of any policy), ordered by customer so that they arrive grouped;
 * - the live customers owning one of them, and those on hold (they may be released) or with a credit limit and
 *   something open (they may go over it), with what they owe in the base currency summed in SQL when they
 *   have a credit limit;
 * - the highest day offset claimed per invoice.
 */
export async function loadPlanRows(
  db: Db,
  org: Pick<Organisation, "id" | "baseCurrency">,
  opts: { asOf: string; maxDueDate: string },
): Promise<PlanRows> {
  const grades = await latestGrades(db, org.id, opts.asOf);
  const reachable = sql`org_id = ${org.id} and status in ('authorised', 'submitted') and amount_due_minor > 0
    and due_date <= ${opts.maxDueDate}`;
  const invoiceRows = await db.values<InvoiceRow>(
    sql`select id, contact_id, number, issue_date, due_date, currency, total_minor,
               amount_credited_minor, amount_due_minor, status = 'submitted', disputed_at, pay_url
        from invoices where ${reachable} order by contact_id`,
  );
  const planInvoices: PlanInvoice[] = new Array(invoiceRows.length);
  const byContact = new Map<string, PlanInvoice[]>();
  let run: PlanInvoice[] | undefined;
  let runContact = "";
  for (let k = 0; k < invoiceRows.length; k++) {
    const i = invoiceRows[k]!;
    const inv: PlanInvoice = {
      id: i[0],
      contactId: i[1],
      number: i[2],
      issueDate: i[3],
      dueDate: i[4],
      currency: i[5],
      totalMinor: i[6],
      amountCreditedMinor: i[7],
      amountDueMinor: i[8],
      status: i[9] ? "submitted" : "authorised",
      disputedAt: i[10],
      payUrl: i[11],
    };
    planInvoices[k] = inv;
    // Grouped by the ORDER BY; a customer seen again (not expected) joins its list.
    if (run === undefined || inv.contactId !== runContact) {
      runContact = inv.contactId;
      run = byContact.get(runContact);
      if (!run) {
        run = [];
        byContact.set(runContact, run);
      }
    }
    run.push(inv);
  }

  const outstanding = sql.raw(`case when c.credit_limit_minor is null then null else (
      select coalesce(sum(i.amount_due_minor), 0) from invoices i
      where i.org_id = c.org_id and i.contact_id = c.id and i.status in ('authorised', 'submitted')
        and i.amount_due_minor > 0 and i.disputed_at is null and i.currency = `);
  const owing = await db.values<ContactRow>(
    sql`select ${PLAN_CONTACT_COLS}, ${outstanding}${org.baseCurrency}) end
        from contacts c
        where c.id in (select contact_id from invoices where ${reachable})
          and c.org_id = ${org.id} and c.deleted = 0`,
  );
  const others = await db.values<ContactRow>(
    sql`select ${PLAN_CONTACT_COLS}, ${outstanding}${org.baseCurrency}) end
        from contacts c
        where c.org_id = ${org.id} and (c.hold_state = 'on_hold' or c.credit_limit_minor is not null)
          and c.deleted = 0
          and (c.hold_state = 'on_hold' or exists (
            select 1 from invoices i where i.org_id = c.org_id and i.contact_id = c.id
              and i.status in ('authorised', 'submitted') and i.amount_due_minor > 0))
          and not exists (
            select 1 from invoices i where i.org_id = c.org_id and i.contact_id = c.id
              and i.status in ('authorised', 'submitted') and i.amount_due_minor > 0
              and i.due_date <= ${opts.maxDueDate})`,
  );
  // Open proposals, and the latest time a person dismissed a proposal or released a hold, per customer.
  const proposed = new Set(
    (
      await db.values<[string]>(
        sql`select contact_id from hold_proposals where org_id = ${org.id} and status = 'proposed'`,
      )
    ).map((r) => r[0]),
  );
  const declined = new Map<string, number>();
  for (const [contactId, at] of await db.values<[string, number]>(
    sql`select contact_id, max(decided_at) from hold_proposals
        where org_id = ${org.id} and status = 'dismissed' group by contact_id
        union all
        select contact_id, max(at) from credit_holds
        where org_id = ${org.id} and action = 'release' and actor is not null group by contact_id`,
  ))
    if (at > (declined.get(contactId) ?? 0)) declined.set(contactId, at);
  // Customers whose hold a person placed by hand: only a person releases it.
  const byHand = new Set(
    (
      await db.values<[string]>(
        sql`select h.contact_id from credit_holds h join contacts c on c.id = h.contact_id
            where h.org_id = ${org.id} and c.hold_state = 'on_hold' and h.action = 'place' and h.by_hand = 1
              and h.at = (select max(h2.at) from credit_holds h2 where h2.contact_id = h.contact_id)`,
      )
    ).map((r) => r[0]),
  );
  const holds = { proposed, declined, byHand };
  const planContacts: PlanContact[] = [];
  const outstandingBase = new Map<string, number>();
  const add = (r: ContactRow) => {
    planContacts.push(planContact(r, grades.get(r[0]) ?? null, holds));
    if (r[11] !== null) outstandingBase.set(r[0], r[11]);
  };
  for (const r of owing) add(r);
  for (const r of others) add(r);
  // Customers with an open proposal and nothing else to plan for (so a paid-up proposal is withdrawn).
  const proposedOnly = await db.values<ContactRow>(
    sql`select ${PLAN_CONTACT_COLS}, null from contacts c
        where c.id in (select contact_id from hold_proposals where org_id = ${org.id} and status = 'proposed')
          and c.org_id = ${org.id} and c.deleted = 0 and c.hold_state <> 'on_hold' and c.credit_limit_minor is null
          and not exists (
            select 1 from invoices i where i.org_id = c.org_id and i.contact_id = c.id
              and i.status in ('authorised', 'submitted') and i.amount_due_minor > 0
              and i.due_date <= ${opts.maxDueDate})`,
  );
  for (const r of proposedOnly) add(r);

  const claimRows = await db.values<[invoiceId: string, offsetDays: number]>(
    sql`select invoice_id, max(offset_days) from reminders
        where org_id = ${org.id} and status <> 'failed'
        group by invoice_id`,
  );
  const claimedOffset = new Map<string, number>();
  for (const r of claimRows) claimedOffset.set(r[0], r[1]);
  const sentRows = await db.values<[invoiceId: string, offsetDays: number, sentAt: number]>(
    sql`select invoice_id, offset_days, sent_at from reminders
        where org_id = ${org.id} and status = 'sent' and sent_at is not null
          and invoice_id in (select id from invoices where ${reachable})`,
  );
  return {
    contacts: planContacts,
    invoices: planInvoices,
    byContact,
    claimedOffset,
    outstandingBase,
    sentOffsets: groupSent(sentRows),
  };
}

function groupSent(rows: readonly (readonly [string, number, number])[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const [invoiceId, offset, at] of rows) {
    const list = out.get(invoiceId);
    if (list) list.push([offset, at]);
    else out.set(invoiceId, [[offset, at]]);
  }
  return out;
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
  const state = await db.values<[proposed: number, declinedAt: number]>(
    sql`select exists (select 1 from hold_proposals p where p.contact_id = ${contactId} and p.status = 'proposed'),
          max(coalesce((select max(p.decided_at) from hold_proposals p where p.contact_id = ${contactId} and p.status = 'dismissed'), 0),
              coalesce((select max(h.at) from credit_holds h where h.contact_id = ${contactId} and h.action = 'release' and h.actor is not null), 0))`,
  );
  const [proposed, declinedAt] = state[0] ?? [0, 0];
  const lastPlace = await db.values<[number]>(
    sql`select by_hand from credit_holds where contact_id = ${contactId} and action = 'place'
        order by at desc, rowid desc limit 1`,
  );
  const planContacts = c.map((x) => ({
    ...x,
    grade: grades.get(x.id) ?? null,
    holdProposed: proposed !== 0,
    holdDeclinedAt: declinedAt ? declinedAt : null,
    holdByHand: x.holdState === "on_hold" && lastPlace[0]?.[0] === 1,
  }));
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
  const sentRows = await db.values<[invoiceId: string, offsetDays: number, sentAt: number]>(
    sql`select invoice_id, offset_days, sent_at from reminders
        where contact_id = ${contactId} and status = 'sent' and sent_at is not null`,
  );
  let base = 0;
  for (const i of invoiceRows)
    if (i.disputedAt === null && i.currency === org.baseCurrency) base += i.amountDueMinor;
  return {
    contacts: planContacts,
    invoices: invoiceRows,
    claimedOffset: new Map(claimRows.map((r) => [r.invoiceId, r.offsetDays])),
    outstandingBase: new Map([[contactId, base]]),
    sentOffsets: groupSent(sentRows),
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
    | { status: "sent"; messageId: string; recipients: string[]; response?: string }
    | { status: "failed" | "rejected" | "needs_review"; error: string },
  now: number,
): Promise<void> {
  const set =
    outcome.status === "sent"
      ? {
          status: outcome.status,
          messageId: outcome.messageId,
          recipients: outcome.recipients,
          smtpResponse: outcome.response ?? null,
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
  t: {
    orgId: string;
    contactId: string;
    action: "place" | "release";
    reason: string;
    ownerNotice: boolean;
    /** Who did it ("user:<id>", "cli"); absent = a reminder run. */
    actor?: string;
    /** A placement by hand (not an approval): only a person releases it. */
    byHand?: boolean;
    /** Extra audit detail (who, which proposal). */
    detail?: Record<string, unknown>;
  },
  now: number,
): Promise<CreditHoldRow | undefined> {
  const from = t.action === "place" ? "none" : "on_hold";
  const to = t.action === "place" ? "on_hold" : "none";
  const id = newId("hld");
  const detail = JSON.stringify({ reason: t.reason, holdEventId: id, ...t.detail });
  // One all-or-nothing batch (a D1 batch on Workers, a transaction on SQLite): the state changes only from the
  // state the run read, and the hold event (which drives the write-back and the owner notice) and its audit
  // entry are written only when it did (`changes()` of the update), so neither can exist without the other.
  const [, inserted] = await store.batch([
    sql`update contacts set hold_state = ${to}, hold_changed_at = ${now}, updated_at = ${now}
        where id = ${t.contactId} and org_id = ${t.orgId} and hold_state = ${from}`,
    sql`insert into credit_holds (id, org_id, contact_id, action, reason, at, writeback_status, owner_notice,
          actor, by_hand)
        select ${id}, ${t.orgId}, ${t.contactId}, ${t.action}, ${t.reason}, ${now}, 'pending',
          ${t.ownerNotice ? "pending" : "none"}, ${t.actor ?? null}, ${t.byHand ? 1 : 0}
        where changes() = 1
        returning id`,
    sql`insert into audit_log (id, org_id, contact_id, actor, action, detail, at)
        select ${newId("aud")}, ${t.orgId}, ${t.contactId}, ${t.actor ?? "reminders"},
          ${t.action === "place" ? "credit_hold.placed" : "credit_hold.released"}, ${detail}, ${now}
        where exists (select 1 from credit_holds where id = ${id})`,
  ]);
  if (!inserted?.length) return undefined;
  return (await store.db.select().from(creditHolds).where(eq(creditHolds.id, id)))[0];
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
  status: "sent" | "failed" | "needs_review" | "none",
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

/** How many reminder emails the customer was sent (accepted by the SMTP server) and when the last went. */
export async function reminderHistory(
  db: Db,
  contactId: string,
): Promise<{ count: number; lastSentAt: number | null }> {
  const rows = await db.values<[number, number | null]>(
    sql`select count(distinct email_id), max(sent_at) from reminders
        where contact_id = ${contactId} and status = 'sent'`,
  );
  const [count, last] = rows[0] ?? [0, null];
  return { count, lastSentAt: last };
}

/**
 * A person resolves an email left for review (outcome unknown): "sent" records it as delivered (it then counts as
 * sent, e.g. for the final notice before a hold), "resend" lets the next run send it again. Only rows still
 * needing review change; returns how many did.
 */
export async function resolveReview(
  db: Db,
  orgId: string,
  emailId: string,
  resolution: "sent" | "resend",
  now: number,
): Promise<number> {
  const rows = await db
    .update(reminders)
    .set(
      resolution === "sent"
        ? { status: "sent", sentAt: sql`${reminders.claimedAt}`, resolution: "marked_sent", updatedAt: now }
        : { status: "failed", resolution: "resend", updatedAt: now },
    )
    .where(
      and(eq(reminders.orgId, orgId), eq(reminders.emailId, emailId), eq(reminders.status, "needs_review")),
    )
    .returning({ id: reminders.id, contactId: reminders.contactId });
  if (rows.length)
    await audit(
      db,
      {
        orgId,
        contactId: rows[0]!.contactId,
        actor: "reminders",
        action: resolution === "sent" ? "reminder.marked_sent" : "reminder.resend_allowed",
        detail: { emailId },
      },
      now,
    );
  return rows.length;
}
