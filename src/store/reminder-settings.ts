/**
 * An organisation's reminder settings (owner and sender, sending window, default and per-grade policies,
 * thresholds, hold mode), its named reminder policies and its template overrides. Every write is one
 * idempotent statement, so the same code holds on D1.
 */
import { eq } from "drizzle-orm";
import { currencyExponent } from "../model";
import {
  DEFAULT_POLICY_LEVELS,
  DEFAULT_POLICY_NAME,
  DEFAULT_WINDOW,
  FIRM_POLICY_LEVELS,
  FIRM_POLICY_NAME,
  type Policy,
  type SendingWindow,
  toPolicy,
} from "../model/reminders";
import type { Db } from "./db";
import { newId } from "./ids";
import type { Organisation } from "./orgs";
import { reminderPolicies, reminderSettings, reminderTemplates } from "./schema";

export type TemplatePart = "subject" | "html" | "text";

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
  /** Mail settings (src/mail/org-mail.ts applies the environment's defaults). */
  senderName: string | null;
  replyTo: string | null;
  noticeEmails: string[] | null;
  bccEmails: string[] | null;
  /** The minimum amount as the member typed it: minor units of its currency (minAmount is derived from it). */
  minAmountMinor: number | null;
  minAmountCurrency: string | null;
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
    senderName: null,
    replyTo: null,
    noticeEmails: null,
    bccEmails: null,
    minAmountMinor: null,
    minAmountCurrency: null,
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
    minAmount:
      r.minAmountMinor !== null && r.minAmountCurrency
        ? r.minAmountMinor / 10 ** currencyExponent(r.minAmountCurrency)
        : r.minAmount,
    creditLimitMarginPct: r.creditLimitMarginPct,
    bccOwner: r.bccOwner,
    holdMode: r.holdMode,
    senderName: r.senderName,
    replyTo: r.replyTo,
    noticeEmails: r.noticeEmails,
    bccEmails: r.bccEmails,
    minAmountMinor: r.minAmountMinor,
    minAmountCurrency: r.minAmountCurrency,
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
    senderName: d.senderName,
    replyTo: d.replyTo,
    noticeEmails: d.noticeEmails,
    bccEmails: d.bccEmails,
    minAmountMinor: d.minAmountMinor,
    minAmountCurrency: d.minAmountCurrency,
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
    ...(l.sms ? { sms: true } : {}),
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
