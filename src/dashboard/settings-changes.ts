/**
 * What a member changes on an organisation's settings and holds pages: the sending window and timezone, a
 * reminder policy's levels, and the credit-hold mode. Each change and its audit row (who did it) land together
 * (`store.atomically`). The input arrives already parsed (src/http/pages/settings.tsx, holds.tsx).
 */
import type { Deps } from "../deps";
import type { PolicyLevelsInput } from "../model/reminders";
import { setOrgTimezone } from "../store/dashboard-orgs";
import type { Organisation } from "../store/orgs";
import { saveReminderSettings, upsertPolicy } from "../store/reminder-settings";
import { auditMemberChange, type Member } from "./member";

interface SendingWindowInput {
  start: string;
  end: string;
  /** The days as the member picked them (1 = Monday), stored without repeats, in order. */
  days: number[];
  timezone: string;
}

/** Saves the sending window and, when it changed, the organisation's timezone. */
export async function saveSendingWindow(
  deps: Deps,
  org: Organisation,
  input: SendingWindowInput,
  member: Member,
): Promise<void> {
  const { store } = deps;
  const { start, end, days, timezone } = input;
  const now = deps.clock.now();
  await store.atomically(async () => {
    await saveReminderSettings(
      store.db,
      org,
      { window: { start, end, days: [...new Set(days)].sort() } },
      now,
    );
    if (timezone !== org.timezone) await setOrgTimezone(store.db, org.id, timezone, now);
    await auditMemberChange(
      store.db,
      member,
      { orgId: org.id, action: "settings.window", detail: { start, end, days, timezone } },
      now,
    );
  });
}

/** Creates or replaces the named policy's levels. */
export async function saveReminderPolicy(
  deps: Deps,
  org: Organisation,
  input: { name: string; levels: PolicyLevelsInput },
  member: Member,
): Promise<void> {
  const { store } = deps;
  const now = deps.clock.now();
  await store.atomically(async () => {
    await upsertPolicy(store.db, org.id, input.name, input.levels, now);
    await auditMemberChange(
      store.db,
      member,
      { orgId: org.id, action: "settings.policy", detail: { name: input.name } },
      now,
    );
  });
}

export type HoldMode = "approve" | "automatic";

/** Whether credit holds are proposed for a person to approve, or placed automatically. */
export async function saveHoldMode(
  deps: Deps,
  org: Organisation,
  mode: HoldMode,
  member: Member,
): Promise<void> {
  const { store } = deps;
  const now = deps.clock.now();
  await store.atomically(async () => {
    await saveReminderSettings(store.db, org, { holdMode: mode }, now);
    await auditMemberChange(
      store.db,
      member,
      { orgId: org.id, action: "settings.hold_mode", detail: { mode } },
      now,
    );
  });
}
