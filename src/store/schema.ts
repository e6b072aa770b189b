/**
 * Every table of the store, in one place. Money is integer minor units beside its currency; calendar dates
 * are ISO text in the organisation's timezone; instants are epoch milliseconds written from the injected clock.
 * Provider ids live in `external_id`, unique per organisation (each ledger tenant is one organisation).
 *
 * Change this file, then `npm run db:generate` and commit the migration under drizzle/.
 */
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const organisations = sqliteTable("organisations", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  baseCurrency: text("base_currency").notNull(),
  timezone: text("timezone").notNull(),
  country: text("country"),
  locale: text("locale").notNull().default("en-GB"),
  provider: text("provider", { enum: ["xero", "quickbooks", "csv"] }).notNull(),
  isDemo: integer("is_demo", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const connections = sqliteTable(
  "connections",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    provider: text("provider", { enum: ["xero", "quickbooks"] }).notNull(),
    tenantId: text("tenant_id").notNull(),
    tenantName: text("tenant_name"),
    /** AES-GCM sealed token set; never plaintext. */
    sealedTokens: text("sealed_tokens"),
    accessExpiresAt: integer("access_expires_at"),
    status: text("status", { enum: ["active", "needs_reconnect", "disconnected"] }).notNull(),
    /** Single-flight refresh across processes: whoever holds an unexpired lease refreshes. */
    refreshLeaseOwner: text("refresh_lease_owner"),
    refreshLeaseUntil: integer("refresh_lease_until"),
    lastSyncAt: integer("last_sync_at"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("connections_provider_tenant").on(t.provider, t.tenantId)],
);

export const contacts = sqliteTable(
  "contacts",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    externalId: text("external_id").notNull(),
    name: text("name").notNull(),
    /** JSON array of addresses reminders go to, in order. */
    emails: text("emails", { mode: "json" }).$type<string[]>().notNull(),
    phone: text("phone"),
    creditLimitMinor: integer("credit_limit_minor"),
    timezone: text("timezone"),
    chasingPausedUntil: text("chasing_paused_until"),
    excluded: integer("excluded", { mode: "boolean" }).notNull().default(false),
    optedOut: integer("opted_out", { mode: "boolean" }).notNull().default(false),
    policyId: text("policy_id"),
    holdState: text("hold_state", { enum: ["none", "on_hold"] })
      .notNull()
      .default("none"),
    holdChangedAt: integer("hold_changed_at"),
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    providerUpdatedAt: integer("provider_updated_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("contacts_org_external").on(t.orgId, t.externalId)],
);

export const invoices = sqliteTable(
  "invoices",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    externalId: text("external_id").notNull(),
    number: text("number").notNull(),
    issueDate: text("issue_date").notNull(),
    dueDate: text("due_date").notNull(),
    currency: text("currency").notNull(),
    totalMinor: integer("total_minor").notNull(),
    amountPaidMinor: integer("amount_paid_minor").notNull(),
    amountCreditedMinor: integer("amount_credited_minor").notNull(),
    amountDueMinor: integer("amount_due_minor").notNull(),
    status: text("status", { enum: ["draft", "submitted", "authorised", "paid", "void", "deleted"] }).notNull(),
    /** Date the invoice was fully settled (paid or credited), when it is. */
    paidOn: text("paid_on"),
    payUrl: text("pay_url"),
    providerUpdatedAt: integer("provider_updated_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("invoices_org_external").on(t.orgId, t.externalId),
    index("invoices_contact").on(t.contactId),
  ],
);

export const payments = sqliteTable(
  "payments",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id").references(() => contacts.id),
    externalId: text("external_id").notNull(),
    date: text("date").notNull(),
    currency: text("currency").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    providerUpdatedAt: integer("provider_updated_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("payments_org_external").on(t.orgId, t.externalId)],
);

export const paymentAllocations = sqliteTable(
  "payment_allocations",
  {
    paymentId: text("payment_id")
      .notNull()
      .references(() => payments.id),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    orgId: text("org_id").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    date: text("date").notNull(),
  },
  (t) => [primaryKey({ columns: [t.paymentId, t.invoiceId] }), index("payment_allocations_invoice").on(t.invoiceId)],
);

export const creditNotes = sqliteTable(
  "credit_notes",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    externalId: text("external_id").notNull(),
    number: text("number"),
    issueDate: text("issue_date").notNull(),
    currency: text("currency").notNull(),
    totalMinor: integer("total_minor").notNull(),
    remainingMinor: integer("remaining_minor").notNull(),
    status: text("status", { enum: ["draft", "submitted", "authorised", "paid", "void", "deleted"] }).notNull(),
    providerUpdatedAt: integer("provider_updated_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("credit_notes_org_external").on(t.orgId, t.externalId)],
);

export const creditNoteAllocations = sqliteTable(
  "credit_note_allocations",
  {
    creditNoteId: text("credit_note_id")
      .notNull()
      .references(() => creditNotes.id),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    orgId: text("org_id").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    date: text("date").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.creditNoteId, t.invoiceId] }),
    index("credit_note_allocations_invoice").on(t.invoiceId),
  ],
);

export const syncCursors = sqliteTable(
  "sync_cursors",
  {
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    entity: text("entity").notNull(),
    cursor: text("cursor").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.entity] })],
);

/** Records a connector could not map, with the reason, so one bad record never stops a sync. */
export const quarantinedRecords = sqliteTable(
  "quarantined_records",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    entity: text("entity").notNull(),
    externalId: text("external_id").notNull(),
    reason: text("reason").notNull(),
    payload: text("payload"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("quarantined_records_org_entity_external").on(t.orgId, t.entity, t.externalId)],
);

/** Webhook deliveries by provider event id: inserting a duplicate is a no-op. */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    provider: text("provider").notNull(),
    eventId: text("event_id").notNull(),
    orgId: text("org_id"),
    payload: text("payload").notNull(),
    receivedAt: integer("received_at").notNull(),
    processedAt: integer("processed_at"),
  },
  (t) => [primaryKey({ columns: [t.provider, t.eventId] })],
);

/** Append-only: everything the product does to or about a customer. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id"),
    invoiceId: text("invoice_id"),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [index("audit_log_org_at").on(t.orgId, t.at), index("audit_log_contact").on(t.contactId)],
);

/** Score history: one row per customer per as-of date. */
export const scores = sqliteTable(
  "scores",
  {
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    asOf: text("as_of").notNull(),
    score: integer("score").notNull(),
    grade: text("grade").notNull(),
    lateProbability: real("late_probability").notNull(),
    trend: text("trend").notNull(),
    trendChangeDays: real("trend_change_days"),
    trendStartedOn: text("trend_started_on"),
    reasons: text("reasons", { mode: "json" }).$type<string[]>().notNull(),
    computedAt: integer("computed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.asOf] }), index("scores_org_as_of").on(t.orgId, t.asOf)],
);

/** Ground truth the demo generator wrote: each demo customer's behaviour profile. */
export const demoProfiles = sqliteTable("demo_profiles", {
  contactId: text("contact_id")
    .primaryKey()
    .references(() => contacts.id),
  orgId: text("org_id")
    .notNull()
    .references(() => organisations.id),
  profile: text("profile").notNull(),
  /** For deteriorating and defaulting customers, the date behaviour changed. */
  changesOn: text("changes_on"),
});
