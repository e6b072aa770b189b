/**
 * The settings page's data (`/orgs/<slug>/settings`, JSON at `/api/orgs/<slug>/settings`): the sending window,
 * the reminder policies and the ledger connections; the page adds the template being edited. Reads only; the
 * caller has already checked the user may see the organisation.
 */
import type { Deps } from "../deps";
import { dateInZone } from "../model";
import { DEFAULT_POLICY_NAME } from "../model/reminders";
import { scheduleFor } from "../reminders/policy";
import { connectionsOf } from "../store/dashboard-orgs";
import type { Organisation } from "../store/orgs";
import { loadPolicies, loadReminderSettings, type TemplatePart } from "../store/reminder-settings";
import { mailSettingsView } from "./settings-mail";
import { TEMPLATE_NAMES, TEMPLATE_PARTS, templateChoices, templateSource } from "./templates";

export async function settingsPage(deps: Deps, org: Organisation) {
  const { db } = deps.store;
  const [settings, policies, conns, templateNames, mail] = await Promise.all([
    loadReminderSettings(db, org),
    loadPolicies(db, org.id),
    connectionsOf(db, org.id),
    templateChoices(deps, org),
    mailSettingsView(deps, org),
  ]);
  // The policy previews' sample invoice falls due today, in the organisation's timezone.
  const sampleDue = dateInZone(deps.clock.now(), org.timezone);
  return {
    org: { slug: org.slug, name: org.name, timezone: org.timezone, provider: org.provider },
    window: settings.window,
    mail,
    template_names: templateNames,
    sample_due_date: sampleDue,
    // In a stable order: "default" first, then by name (stored and built-in policies alike).
    policies: [...policies.policies.values()]
      .sort((a, b) =>
        a.name === DEFAULT_POLICY_NAME
          ? -1
          : b.name === DEFAULT_POLICY_NAME
            ? 1
            : a.name.localeCompare(b.name),
      )
      .map((p) => ({
        id: p.id,
        name: p.name,
        levels: p.levels.map((l) => ({
          level: l.level,
          offset_days: l.offsetDays,
          template: l.template,
          name: l.name,
          place_hold: l.placeHold,
          sms: l.sms ?? false,
        })),
        schedule: scheduleFor(p.levels, sampleDue, settings.window.days).map((s) => ({
          level: s.level,
          date: s.date,
          sends_on: s.sendsOn,
        })),
      })),
    connections: conns.map((c) => ({
      provider: c.provider,
      tenant: c.tenantName ?? c.tenantId,
      status: c.status,
      last_sync_at: c.lastSyncAt,
      last_error: c.lastError,
    })),
  };
}

/**
 * The settings page: the view and the template part open in the editor (the one asked for when it is one the
 * page offers, else "overdue" / "html"), with its stored (else product) text, or the text the member typed
 * when it could not be saved.
 */
export async function settingsEditor(
  deps: Deps,
  org: Organisation,
  asked: { template: string; part: string; typed?: string },
) {
  const view = await settingsPage(deps, org);
  const name = TEMPLATE_NAMES.includes(asked.template) ? asked.template : "overdue";
  const part = (TEMPLATE_PARTS as readonly string[]).includes(asked.part)
    ? (asked.part as TemplatePart)
    : "html";
  return { view, name, part, body: asked.typed ?? (await templateSource(deps, org, name, part)) };
}

/** What the policy editor accepts: the organisation's template names and its policies' names. */
export async function policyChoices(deps: Deps, org: Organisation) {
  const [templates, policies] = await Promise.all([
    templateChoices(deps, org),
    loadPolicies(deps.store.db, org.id),
  ]);
  return { templates, names: [...policies.policies.values()].map((p) => p.name) };
}
