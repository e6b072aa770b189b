/**
 * What the reminder engine and the store both speak: reminder policies as data (levels, the stored-levels
 * schema, the built-in default and firm policies), the sending window, and the customer and invoice rows
 * planning reads. Declared here, in the model, so that the store (which loads and saves them) imports nothing
 * above it and the planner (src/reminders/plan.ts) stays pure.
 *
 * A policy is an ordered list of levels; level N (1-based) is the N-th entry. Each level has a day offset from
 * the due date (negative = before due, a courtesy note), the template it sends, and optionally "place a credit
 * hold". The offset is a level's identity (offsets are strictly increasing, so unique within a policy): claims
 * record it, and an invoice is due a level only when that level's offset is past every offset already claimed
 * for it, whatever edits moved the positions since.
 *
 * PURE: no store, no clock, no node imports.
 */
import { z } from "zod";
import type { HoldState, InvoiceStatus, IsoDate } from "../model";

// --- policies ---

export interface PolicyLevel {
  /** 1-based position in the policy: what people, the CLI and `preview --level` call the level. */
  level: number;
  offsetDays: number;
  /** Template name under templates/reminders (or an organisation override). */
  template: string;
  /** Short words for people ("Final notice"). */
  name: string;
  placeHold: boolean;
  /** The level also sends the customer an SMS (short template, the customers' page link). */
  sms?: boolean;
}

export interface Policy {
  id: string;
  name: string;
  levels: PolicyLevel[];
}

export const TEMPLATE_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

const levelInput = z.object({
  offsetDays: z.number().int().min(-365).max(3650),
  template: z.string().regex(TEMPLATE_NAME_RE, "template names are lower-case letters, digits and dashes"),
  name: z.string().min(1).max(80),
  placeHold: z.boolean().optional(),
  sms: z.boolean().optional(),
});

/** Levels as stored (reminder_policies.levels): offsets strictly increasing. */
export const policyLevelsSchema = z
  .array(levelInput)
  .min(1)
  .max(20)
  .refine((ls) => ls.every((l, i) => i === 0 || l.offsetDays > ls[i - 1]!.offsetDays), {
    message: "level offsets must be strictly increasing",
  });
export type PolicyLevelsInput = z.infer<typeof policyLevelsSchema>;

/**
 * The documented default: a courtesy note 3 days before the due date, then +1, +7, +14, a final notice at
 * +30 and a credit hold (with a notice to the owner) at +45.
 */
export const DEFAULT_POLICY_LEVELS: PolicyLevelsInput = [
  { offsetDays: -3, template: "courtesy", name: "Courtesy reminder" },
  { offsetDays: 1, template: "overdue", name: "Overdue" },
  { offsetDays: 7, template: "firm", name: "Second reminder" },
  { offsetDays: 14, template: "firmer", name: "Third reminder" },
  { offsetDays: 30, template: "final", name: "Final notice" },
  { offsetDays: 45, template: "credit-hold", name: "Account on hold", placeHold: true },
];

/** A firmer schedule for risky customers (map monitor grades to it in reminder_settings.grade_policies). */
export const FIRM_POLICY_LEVELS: PolicyLevelsInput = [
  { offsetDays: -5, template: "courtesy", name: "Courtesy reminder" },
  { offsetDays: 1, template: "overdue", name: "Overdue" },
  { offsetDays: 5, template: "firm", name: "Second reminder" },
  { offsetDays: 10, template: "firmer", name: "Third reminder" },
  { offsetDays: 21, template: "final", name: "Final notice" },
  { offsetDays: 30, template: "credit-hold", name: "Account on hold", placeHold: true },
];

export const DEFAULT_POLICY_NAME = "default";
export const FIRM_POLICY_NAME = "firm";

/** Builds a policy from stored levels, numbering them. Throws a zod error when the levels are malformed. */
export function toPolicy(id: string, name: string, levels: unknown): Policy {
  const parsed = policyLevelsSchema.parse(levels);
  return {
    id,
    name,
    levels: parsed.map((l, i) => ({
      level: i + 1,
      offsetDays: l.offsetDays,
      template: l.template,
      name: l.name,
      placeHold: l.placeHold ?? false,
      sms: l.sms ?? false,
    })),
  };
}

// --- the sending window ---

export interface SendingWindow {
  /** "HH:MM", 24h, inclusive. */
  start: string;
  /** "HH:MM", 24h, exclusive. */
  end: string;
  /** ISO weekdays, 1 = Monday ... 7 = Sunday. */
  days: readonly number[];
}

export const DEFAULT_WINDOW: SendingWindow = { start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5] };

// --- the rows planning reads ---

export interface PlanContact {
  id: string;
  externalId: string;
  name: string;
  emails: readonly string[];
  timezone: string | null;
  policyId: string | null;
  /** Chasing paused up to and including this date (customer's local date). */
  chasingPausedUntil: IsoDate | null;
  excluded: boolean;
  optedOut: boolean;
  holdState: HoldState;
  creditLimitMinor: number | null;
  deleted: boolean;
  /** Latest monitor grade, when scored. */
  grade: string | null;
  /** A proposed credit hold waits for a person (approve mode). */
  holdProposed?: boolean;
  /**
   * Latest time (epoch ms) a person dismissed a proposed hold or released a hold by hand: only a final notice
   * sent after it can lead to a new proposal.
   */
  holdDeclinedAt?: number | null;
  /** On a hold a person placed by hand: only a person releases it. */
  holdByHand?: boolean;
}

export interface PlanInvoice {
  id: string;
  contactId: string;
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  amountCreditedMinor: number;
  amountDueMinor: number;
  status: InvoiceStatus;
  disputedAt: number | null;
  payUrl: string | null;
}

export type PauseKind = "paid" | "promise";

/** A pause the customer asked for on the customers' page: the invoice is not chased up to `until`. */
export interface InvoicePause {
  kind: PauseKind;
  /** Inclusive (the customer's local date). */
  until: IsoDate;
}

// --- how customers pay ---

/** An organisation's Payment settings (settings page): a pay-URL template and bank details, each optional. */
export interface PaymentSettings {
  /** https://… with {{ invoice_number }} and {{ amount_due }}; used when the ledger has no link. */
  payUrlTemplate: string | null;
  /** Shown as text for invoices without a pay link. */
  bankDetails: string | null;
}

/** What the store knows of an invoice's Xero online invoice link. */
export interface OnlineLinkState {
  invoiceId: string;
  externalId: string;
  status: InvoiceStatus;
  /** Undefined: never fetched. Null: fetched, Xero had none. */
  url: string | null | undefined;
  fetchedAt: number | null;
}
