/**
 * Reminder policies as data. A policy is an ordered list of levels; level N (1-based) is the N-th entry.
 * Each level has a day offset from the due date (negative = before due, a courtesy note), the template it
 * sends, and optionally "place a credit hold". The offset is a level's identity (offsets are strictly
 * increasing, so unique within a policy): claims record it, and an invoice is due a level only when that
 * level's offset is past every offset already claimed for it, whatever edits moved the positions since.
 *
 * PURE: no store, no clock, no node imports.
 */
import { z } from "zod";

export interface PolicyLevel {
  /** 1-based position in the policy: what people, the CLI and `preview --level` call the level. */
  level: number;
  offsetDays: number;
  /** Template name under templates/reminders (or an organisation override). */
  template: string;
  /** Short words for people ("Final notice"). */
  name: string;
  placeHold: boolean;
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
    })),
  };
}

/** The highest level an invoice `daysOverdue` days past due has reached, if any. */
export function reachedLevel(policy: Policy, daysOverdue: number): PolicyLevel | undefined {
  let found: PolicyLevel | undefined;
  for (const l of policy.levels) {
    if (l.offsetDays <= daysOverdue) found = l;
    else break;
  }
  return found;
}

/** The first level that places a credit hold, if the policy has one. */
export function holdLevel(policy: Policy): PolicyLevel | undefined {
  return policy.levels.find((l) => l.placeHold);
}

export interface PolicyChoice {
  /** The customer's own policy (contacts.policy_id). */
  contactPolicyId: string | null;
  /** Latest monitor grade, when the monitor has scored the customer. */
  grade: string | null;
  gradePolicies: Readonly<Record<string, string>>;
  defaultPolicyId: string;
}

/**
 * Which policy applies: the customer's own, else the one mapped from its monitor grade, else the
 * organisation's default. An id that names no policy falls through to the next choice.
 */
export function choosePolicy(choice: PolicyChoice, policies: ReadonlyMap<string, Policy>): Policy {
  const own = choice.contactPolicyId ? policies.get(choice.contactPolicyId) : undefined;
  if (own) return own;
  const mapped = choice.grade ? choice.gradePolicies[choice.grade] : undefined;
  const byGrade = mapped ? policies.get(mapped) : undefined;
  if (byGrade) return byGrade;
  const def = policies.get(choice.defaultPolicyId);
  if (def) return def;
  const first = policies.values().next();
  if (first.done) throw new Error("no reminder policy is defined");
  return first.value;
}
