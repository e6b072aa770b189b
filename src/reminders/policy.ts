/**
 * Choosing a policy and reading its levels. Policies as data (levels, the stored-levels schema, the built-in
 * default and firm policies, `toPolicy`) live in src/model/reminders.ts, where the store reads them too.
 *
 * PURE: no store, no clock, no node imports.
 */
import { isoWeekday } from "../days";
import { addDays, type IsoDate } from "../model";
import type { Policy, PolicyLevel } from "../model/reminders";

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

export interface ScheduledLevel {
  level: number;
  name: string;
  template: string;
  placeHold: boolean;
  offsetDays: number;
  /** The due date plus the level's offset. */
  date: IsoDate;
  /** The first sending day on or after `date` (the window's days, skipping `holidays`): when it goes out. */
  sendsOn: IsoDate;
}

/**
 * When each level of a policy would go out for an invoice due on `dueDate` (a date in the organisation's
 * timezone): the due date plus the level's offset, moved to the next sending day of the window. A preview for
 * people: a real run also waits for the customer's own window, pauses and the minimum amount.
 */
export function scheduleFor(
  levels: readonly Pick<PolicyLevel, "offsetDays" | "name" | "template" | "placeHold">[],
  dueDate: IsoDate,
  sendingDays: readonly number[],
  holidays: ReadonlySet<IsoDate> = new Set(),
): ScheduledLevel[] {
  const days = new Set(sendingDays);
  return levels.map((l, i) => {
    const date = addDays(dueDate, l.offsetDays);
    let sendsOn = date;
    for (let n = 0; n < 14 && (!days.has(isoWeekday(sendsOn)) || holidays.has(sendsOn)); n++)
      sendsOn = addDays(sendsOn, 1);
    return {
      level: i + 1,
      name: l.name,
      template: l.template,
      placeHold: l.placeHold,
      offsetDays: l.offsetDays,
      date,
      sendsOn,
    };
  });
}
