/**
 * The charges' dashboard functions: the "Charges and SMS" settings (read, check, save with its audit row), the
 * charges page's lists, and a member's approve / reject (src/reminders/charge-worker.ts writes an approved
 * charge to the ledger exactly once).
 */
import type { Deps } from "../deps";
import { formatMoney } from "../format";
import { readChargeRule } from "../reminders/charge-rule";
import { actOnCharge, type ChargeAction, type ChargeActionResult } from "../reminders/charge-worker";
import type { ChargeRule } from "../reminders/charges";
import { renderSms } from "../reminders/send-sms";
import { writeBackFor } from "../reminders/write-back";
import { type ChargeListEntry, listCharges, loadChargeSettings, saveChargeSettings } from "../store/charges";
import type { Organisation } from "../store/orgs";
import type { Member } from "./member";
import { sampleFields } from "./template-samples";

export interface ChargesSettingsView {
  rule: ChargeRule | null;
  ledger_status: "DRAFT" | "AUTHORISED";
  ledger_account: string | null;
  sms_template: string | null;
  /** The SMS a sample customer would get with the current template. */
  sms_sample: string;
  sms_configured: boolean;
  provider: Organisation["provider"];
}

export async function chargesSettingsView(deps: Deps, org: Organisation): Promise<ChargesSettingsView> {
  const s = await loadChargeSettings(deps.store.db, org.id);
  const sample = await renderSms(
    s.smsTemplate,
    sampleFields(deps, org, { level: 2, name: "Overdue", template: "overdue" }),
  );
  return {
    rule: readChargeRule(s.rule),
    ledger_status: s.ledgerStatus,
    ledger_account: s.ledgerAccount,
    sms_template: s.smsTemplate,
    sms_sample: sample.ok ? sample.body : sample.reason,
    sms_configured: Boolean(
      deps.config.TWILIO_ACCOUNT_SID && deps.config.TWILIO_AUTH_TOKEN && deps.config.TWILIO_FROM,
    ),
    provider: org.provider,
  };
}

export interface ChargesSettingsInput {
  rule: ChargeRule | null;
  ledgerStatus: "DRAFT" | "AUTHORISED";
  ledgerAccount: string | null;
  smsTemplate: string | null;
}

/**
 * Saves the settings, or returns the problems per field (nothing saved): the SMS template must render, for a
 * sample customer, to at most 320 characters.
 */
export async function saveChargesSettings(
  deps: Deps,
  org: Organisation,
  input: ChargesSettingsInput,
  member: Member,
): Promise<{ errors: Record<string, string> } | { saved: true }> {
  if (input.smsTemplate) {
    const sample = await renderSms(
      input.smsTemplate,
      sampleFields(deps, org, { level: 2, name: "Overdue", template: "overdue" }),
    );
    if (!sample.ok) return { errors: { sms_template: `Not saved: ${sample.reason}.` } };
  }
  await saveChargeSettings(
    deps.store,
    org.id,
    {
      rule: input.rule as Record<string, unknown> | null,
      ledgerStatus: input.ledgerStatus,
      ledgerAccount: input.ledgerAccount,
      smsTemplate: input.smsTemplate,
    },
    `user:${member.id}`,
    deps.clock.now(),
  );
  return { saved: true };
}

const entryJson = (org: Organisation) => (c: ChargeListEntry) => ({
  id: c.id,
  customer_id: c.customerExternalId,
  customer_name: c.customerName,
  invoice_number: c.invoiceNumber,
  kind: c.kind,
  period: c.period,
  amount: c.amountMinor,
  currency: c.currency,
  amount_formatted: formatMoney({ minor: c.amountMinor, currency: c.currency }, org.locale),
  as_of: c.asOf,
  detail: c.detail,
  status: c.status,
  reference: c.reference,
  ledger_id: c.ledgerId,
  ledger_number: c.ledgerNumber,
  error: c.lastError,
});

/** The charges page: proposals waiting for a person, and the latest decided ones. */
export async function chargesView(deps: Deps, org: Organisation) {
  const { db } = deps.store;
  const toJson = entryJson(org);
  const rule = readChargeRule((await loadChargeSettings(db, org.id)).rule);
  return {
    org: { slug: org.slug, name: org.name, provider: org.provider },
    enabled: rule !== null,
    rule,
    proposed: (await listCharges(db, org.id, ["proposed"])).map(toJson),
    decided: (
      await listCharges(db, org.id, ["approved", "written", "recorded", "failed", "rejected"], 100)
    ).map(toJson),
  };
}

/** A member ("user:<id>") or the command line ("cli") approves (and so writes) or rejects a proposed charge. */
export function chargeAction(
  deps: Deps,
  org: Organisation,
  id: string,
  action: ChargeAction,
  actor: string,
): Promise<ChargeActionResult> {
  return actOnCharge(
    { store: deps.store, log: deps.log, ...writeBackFor(deps, org) },
    org,
    id,
    action,
    actor,
    deps.clock.now(),
  );
}
