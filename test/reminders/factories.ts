/** Factories for reminder tests: an organisation, customers and invoices written through the ledger writes. */

import { and, eq } from "drizzle-orm";
import type { Connector, HoldNote } from "../../connectors/connector";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { createSmtpMailer } from "../../src/mail/smtp-mailer";
import type { CanonicalInvoice, InvoiceStatus } from "../../src/model";
import { runReminders } from "../../src/reminders/dispatch";
import type { ReminderDeps, RemindOptions } from "../../src/reminders/run-types";
import { contactIds, upsertContacts } from "../../src/store/contacts";
import type { Store } from "../../src/store/db";
import { upsertInvoices } from "../../src/store/ledger";
import { ensureOrg, type Organisation } from "../../src/store/orgs";
import { contacts, invoices } from "../../src/store/schema";
import { TEST_SECRET } from "../support/deps";
import type { TestInbox } from "../support/smtp";

let seq = 0;
export const uid = (p: string) => `${p}-${++seq}`;

export const T0 = Date.parse("2026-01-01T00:00:00Z");

export async function makeOrg(
  store: Store,
  over: Partial<{
    slug: string;
    timezone: string;
    country: string | null;
    locale: string;
    isDemo: boolean;
    provider: "csv" | "xero";
  }> = {},
): Promise<Organisation> {
  const { org } = await ensureOrg(
    store.db,
    {
      slug: over.slug ?? uid("org"),
      name: "Acme Supplies Ltd",
      baseCurrency: "GBP",
      timezone: over.timezone ?? "Europe/London",
      country: over.country === undefined ? "GB" : over.country,
      locale: over.locale ?? "en-GB",
      provider: over.provider ?? "csv",
      isDemo: over.isDemo ?? false,
    },
    T0,
  );
  return org;
}

export interface CustomerSpec {
  externalId?: string;
  name?: string;
  emails?: string[];
  timezone?: string | null;
  creditLimitMinor?: number | null;
}

export async function makeCustomer(store: Store, org: Organisation, spec: CustomerSpec = {}) {
  const externalId = spec.externalId ?? uid("C");
  await upsertContacts(
    store,
    org.id,
    [
      {
        externalId,
        name: spec.name ?? `Customer ${externalId}`,
        emails: spec.emails ?? [`${externalId.toLowerCase()}@customer.example`],
        timezone: spec.timezone ?? null,
        creditLimitMinor: spec.creditLimitMinor ?? null,
      },
    ],
    T0,
  );
  const id = (await contactIds(store, org.id, [externalId])).get(externalId)!;
  return { id, externalId };
}

export async function setContact(
  store: Store,
  contactId: string,
  patch: Partial<typeof contacts.$inferInsert>,
) {
  await store.db.update(contacts).set(patch).where(eq(contacts.id, contactId));
}

export interface InvoiceSpec {
  externalId?: string;
  number?: string;
  issueDate?: string;
  dueDate: string;
  totalMinor?: number;
  amountDueMinor?: number;
  amountCreditedMinor?: number;
  status?: InvoiceStatus;
  currency?: string;
  payUrl?: string | null;
}

export function invoiceRow(customerExternalId: string, spec: InvoiceSpec): CanonicalInvoice {
  const total = spec.totalMinor ?? 120_00;
  const credited = spec.amountCreditedMinor ?? 0;
  const due = spec.amountDueMinor ?? total - credited;
  const externalId = spec.externalId ?? uid("I");
  return {
    externalId,
    contactExternalId: customerExternalId,
    number: spec.number ?? `INV-${externalId}`,
    issueDate: spec.issueDate ?? "2025-12-01",
    dueDate: spec.dueDate,
    currency: spec.currency ?? "GBP",
    totalMinor: total,
    amountPaidMinor: total - credited - due,
    amountCreditedMinor: credited,
    amountDueMinor: due,
    status: spec.status ?? (due === 0 ? "paid" : "authorised"),
    payUrl: spec.payUrl ?? null,
  };
}

export async function makeInvoice(
  store: Store,
  org: Organisation,
  customerExternalId: string,
  spec: InvoiceSpec,
) {
  const row = invoiceRow(customerExternalId, spec);
  await upsertInvoices(store, org.id, [row], T0);
  return row;
}

/** Marks an invoice paid in full, as a sync or import would. */
export async function payInvoice(store: Store, org: Organisation, row: CanonicalInvoice, paidOn: string) {
  await upsertInvoices(
    store,
    org.id,
    [
      {
        ...row,
        amountPaidMinor: row.totalMinor - row.amountCreditedMinor,
        amountDueMinor: 0,
        status: "paid",
        paidOn,
      },
    ],
    T0,
  );
}

export async function disputeInvoice(store: Store, org: Organisation, externalId: string, at: number) {
  await store.db
    .update(invoices)
    .set({ disputedAt: at })
    .where(and(eq(invoices.orgId, org.id), eq(invoices.externalId, externalId)));
}

export const TEST_ENV = {
  LOG_LEVEL: "silent",
  MAIL_FROM: "Acme Supplies <billing@acme.example>",
  MAIL_REPLY_TO: "accounts@acme.example",
  PUBLIC_URL: "https://creditpulse.example",
  CREDITPULSE_SECRET: TEST_SECRET,
};

export function testConfig(inbox?: TestInbox, extra: Record<string, string> = {}) {
  return loadConfig({ ...TEST_ENV, ...(inbox ? { SMTP_URL: inbox.url } : {}), ...extra });
}

export interface Harness {
  deps: ReminderDeps;
  clock: ReturnType<typeof fixedClock>;
  /** Runs reminders as at the clock's instant (or `opening` of a date). */
  run(org: Organisation, opts?: Partial<RemindOptions>): ReturnType<typeof runReminders>;
  close(): Promise<void>;
}

export function harness(
  store: Store,
  inbox: TestInbox,
  start: string,
  over: Partial<ReminderDeps> = {},
): Harness {
  const clock = fixedClock(start);
  const mailer = createSmtpMailer({ url: inbox.url, timeoutMs: 5_000 });
  const deps: ReminderDeps = {
    store,
    config: testConfig(inbox),
    log: silentLogger,
    secret: TEST_ENV.CREDITPULSE_SECRET,
    mailer,
    ...over,
  };
  return {
    deps,
    clock,
    run: (org, opts = {}) =>
      runReminders(deps, { org, at: { kind: "instant", at: clock.now() }, now: clock.now(), ...opts }),
    close: () => mailer.close(),
  };
}

/** A connector that records every write-back (and can be told to fail). */
export function recordingConnector(provider: "csv" | "xero" = "csv") {
  const calls: { action: "place" | "release"; hold: HoldNote; tenantId: string }[] = [];
  let failNext = 0;
  const connector: Connector = {
    provider,
    async *pull() {},
    async placeHold(ctx, hold) {
      if (failNext > 0) {
        failNext--;
        const { ConnectorError } = await import("../../connectors/connector");
        throw new ConnectorError("transient", "ledger unavailable");
      }
      calls.push({ action: "place", hold, tenantId: ctx.tenantId });
      return { written: true };
    },
    async releaseHold(ctx, hold) {
      calls.push({ action: "release", hold, tenantId: ctx.tenantId });
      return { written: true };
    },
  };
  return {
    connector,
    calls,
    failTimes(n: number) {
      failNext = n;
    },
  };
}
