/**
 * Sample customers for template previews and checks: no real customer data leaves the settings page. A
 * template must render for every one of them before it is saved (src/dashboard/templates.ts).
 */
import type { Deps } from "../deps";
import { validAddresses } from "../mail/address";
import { addDays, dateInZone } from "../model";
import type { PlanContact } from "../model/reminders";
import { payView } from "../reminders/pay-links";
import type { ReminderFields } from "../reminders/render";
import { reminderFields } from "../reminders/run-context";
import { localMoment } from "../reminders/window";
import type { Organisation } from "../store/orgs";
import { defaultSettings } from "../store/reminder-settings";

/** The bank details sample customers see for invoices without a pay link. */
export const SAMPLE_BANK_DETAILS =
  "Sample Bank plc\nSort code 00-00-00 · Account 12345678\nReference: your invoice number";

/** One sample invoice for template previews and checks: due `due` days from today (negative = overdue). */
interface SampleInvoice {
  due: number;
  minor: number;
  currency?: string;
  payUrl?: string | null;
}

/** A sample customer for template previews (no real customer data leaves the page). */
export function sampleFields(
  deps: Deps,
  org: Organisation,
  level: { level: number; name: string; template: string },
  sample: { invoices?: SampleInvoice[]; hold?: ReminderFields["hold"]; owner?: boolean } = {},
): ReminderFields {
  const today = dateInZone(deps.clock.now(), org.timezone);
  const contact: PlanContact = {
    id: "sample",
    externalId: "SAMPLE",
    name: "Sample Customer Ltd",
    emails: ["accounts@sample.example"],
    timezone: null,
    policyId: null,
    chasingPausedUntil: null,
    excluded: false,
    optedOut: false,
    holdState: sample.hold ? "on_hold" : "none",
    creditLimitMinor: null,
    deleted: false,
    grade: null,
  };
  const inv = (n: string, s: SampleInvoice) => ({
    invoice: {
      id: n,
      contactId: "sample",
      externalId: n,
      number: n,
      issueDate: addDays(today, s.due - 30),
      dueDate: addDays(today, s.due),
      currency: s.currency ?? org.baseCurrency,
      totalMinor: s.minor,
      amountCreditedMinor: 0,
      amountDueMinor: s.minor,
      status: "authorised" as const,
      disputedAt: null,
      payUrl: s.payUrl ?? null,
    },
    daysOverdue: -s.due,
    level: { ...level, offsetDays: 0, placeHold: false },
    due: true,
  });
  const list = sample.invoices ?? [
    { due: -12, minor: 125_000 },
    { due: -3, minor: 48_050 },
  ];
  const invoices = list.map((s, i) => inv(`INV-${1001 + i}`, s));
  const pay = payView(
    invoices.map((p) => p.invoice),
    { payUrlTemplate: null, bankDetails: SAMPLE_BANK_DETAILS },
  );
  const fields = reminderFields(
    { config: deps.config },
    org,
    defaultSettings(org),
    {
      contact,
      to: validAddresses(contact.emails),
      level: { ...level, offsetDays: 0, placeHold: false },
      invoices,
      local: localMoment(deps.clock.now(), org.timezone),
    },
    undefined,
    undefined,
    pay,
  );
  return {
    ...fields,
    ...(level.template === "statement"
      ? { statement: { period: today.slice(0, 7), disputed_count: 0 } }
      : {}),
    hold: sample.hold ?? null,
    ...(sample.owner ? { links: { customer_page: null, unsubscribe: null } } : {}),
  };
}

/**
 * The sample customers a template must render for before it is saved: 1, 3 and 12 invoices; with and without
 * a credit hold; the base currency, several currencies together, and one without minor units (JPY).
 */
export function templateSamples(
  deps: Deps,
  org: Organisation,
  template: string,
): { label: string; fields: ReminderFields }[] {
  const owner = template.startsWith("owner-");
  const currencies = [org.baseCurrency, "EUR", "USD", "JPY"];
  const invoices = (n: number, mixed: boolean): SampleInvoice[] =>
    Array.from({ length: n }, (_, i) => ({
      due: 5 - i * 9,
      minor: 10_000 + i * 12_345,
      currency: mixed ? currencies[i % currencies.length] : org.baseCurrency,
      payUrl: i % 2 === 0 ? "https://pay.example/invoice" : null,
    }));
  const hold = (action: "place" | "release"): NonNullable<ReminderFields["hold"]> => ({
    action,
    reason: action === "place" ? "an invoice reached the credit-hold level" : "the overdue balance was paid",
    date_formatted: "1 Jan 2026",
    writeback: "The hold is recorded in Creditpulse only.",
  });
  const level = (onHold: boolean) =>
    owner
      ? { level: 0, name: onHold ? "Credit hold" : "Hold released", template: "owner" }
      : template === "statement"
        ? { level: 0, name: "Statement", template }
        : onHold
          ? { level: 6, name: "Credit hold", template }
          : { level: 2, name: "Overdue", template };
  const cases: { label: string; n: number; mixed: boolean; onHold: boolean }[] = [
    { label: `1 invoice in ${org.baseCurrency}, no credit hold`, n: 1, mixed: false, onHold: false },
    { label: "3 invoices in several currencies, on credit hold", n: 3, mixed: true, onHold: true },
    { label: "12 invoices in several currencies, no credit hold", n: 12, mixed: true, onHold: false },
    { label: `12 invoices in ${org.baseCurrency}, on credit hold`, n: 12, mixed: false, onHold: true },
  ];
  return cases.map((k) => ({
    label: k.label,
    fields: sampleFields(deps, org, level(k.onHold), {
      invoices: invoices(k.n, k.mixed),
      // Owner notices always describe a hold (placed or released); customers' emails never carry one.
      hold: owner ? hold(k.onHold ? "place" : "release") : k.onHold ? hold("place") : null,
      owner,
    }),
  }));
}
