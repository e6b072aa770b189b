/**
 * Every table of the store, in one place. Money is integer minor units beside its currency; calendar dates
 * are ISO text in the organisation's timezone; instants are epoch milliseconds written from the injected clock.
 * Provider ids live in `external_id`, unique per organisation (each ledger tenant is one organisation).
 *
 * Change this file, then `npm run db:generate` and commit the migration under drizzle/.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { StatementSetting } from "../model";

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
  /**
   * Bumped by SQLite triggers (drizzle/0009_ledger_version_triggers.sql) on every insert, update or delete of
   * the ledger rows the dashboard's figures read, whatever code path writes them. Never written by the app.
   */
  ledgerVersion: integer("ledger_version").notNull().default(0),
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
    /**
     * One consent can cover several tenants (Xero): their connections share one token set, kept on the
     * connection named here (null = this row keeps its own tokens). Refresh tokens are single-use, so sharing
     * one sealed copy is the only safe way.
     */
    tokenConnectionId: text("token_connection_id"),
    /** The provider's id for this tenant connection (Xero /connections `id`), used to disconnect one tenant. */
    providerConnectionId: text("provider_connection_id"),
    /** Sync stays paused until this instant (daily API budget spent). */
    syncPausedUntil: integer("sync_paused_until"),
    /** One sync of a connection at a time, across processes and Worker invocations: the holder and expiry. */
    syncLeaseOwner: text("sync_lease_owner"),
    syncLeaseUntil: integer("sync_lease_until"),
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
    /** This customer's statement schedule: null = the organisation's; `{ "every": "off" }` = none. */
    statementSchedule: text("statement_schedule", { mode: "json" }).$type<StatementSetting>(),
    holdState: text("hold_state", { enum: ["none", "on_hold"] })
      .notNull()
      .default("none"),
    holdChangedAt: integer("hold_changed_at"),
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    providerUpdatedAt: integer("provider_updated_at"),
    /** Roles from the ledger (Xero IsCustomer / IsSupplier); null = not said (treated as a customer). */
    isCustomer: integer("is_customer", { mode: "boolean" }),
    isSupplier: integer("is_supplier", { mode: "boolean" }),
    /** The ledger's own receivable balance of this contact (reconciliation), in `providerBalanceCurrency`. */
    providerBalanceMinor: integer("provider_balance_minor"),
    providerOverdueMinor: integer("provider_overdue_minor"),
    providerBalanceCurrency: text("provider_balance_currency"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("contacts_org_external").on(t.orgId, t.externalId),
    // Reminder planning: customers that may change hold state with nothing about to be chased (on hold, or with
    // a credit limit), found without scanning every customer.
    index("contacts_hold_or_limit")
      .on(t.orgId)
      .where(sql`hold_state = 'on_hold' or credit_limit_minor is not null`),
  ],
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
    status: text("status", {
      enum: ["draft", "submitted", "authorised", "paid", "void", "deleted"],
    }).notNull(),
    /** Date the invoice was fully settled (paid or credited), when it is. */
    paidOn: text("paid_on"),
    payUrl: text("pay_url"),
    providerUpdatedAt: integer("provider_updated_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** When the customer disputed the invoice (epoch ms); disputed invoices are neither chased nor counted. */
    disputedAt: integer("disputed_at"),
  },
  (t) => [
    uniqueIndex("invoices_org_external").on(t.orgId, t.externalId),
    index("invoices_contact").on(t.contactId),
    // The monitor's loader pages through one organisation's invoices in rowid order (org_id = ? AND rowid > ?).
    index("invoices_org").on(t.orgId),
    // The dashboard's aging: open invoices per customer, covering every column the query reads (status too:
    // SQLite does not count a column as covered because the partial index's WHERE constrains it).
    index("invoices_open_aging_v2")
      .on(t.orgId, t.contactId, t.currency, t.dueDate, t.issueDate, t.amountDueMinor, t.status)
      .where(sql`status in ('authorised', 'submitted') and amount_due_minor > 0`),
    // Overdue as it stood on a past date: invoices not settled by then (paid_on null or later), covering.
    index("invoices_org_paid_on").on(
      t.orgId,
      t.paidOn,
      t.dueDate,
      t.issueDate,
      t.status,
      t.disputedAt,
      t.currency,
      t.totalMinor,
      t.id,
    ),
    // The monitor's as-of loader: each customer's invoices that count, latest first (its HISTORY_INVOICES cut).
    index("invoices_org_contact_issue")
      .on(t.orgId, t.contactId, t.issueDate, t.dueDate, t.id, t.paidOn)
      .where(sql`disputed_at is null and status not in ('draft', 'void', 'deleted') and total_minor > 0`),
    // The dashboard's DSO series: invoices by issue date, covering the columns it sums.
    index("invoices_org_currency_issue").on(
      t.orgId,
      t.currency,
      t.issueDate,
      t.status,
      t.paidOn,
      t.totalMinor,
      t.amountCreditedMinor,
    ),
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
  (t) => [
    uniqueIndex("payments_org_external").on(t.orgId, t.externalId),
    // Deleted payments only (few): the monitor's loader leaves their allocations out without visiting every payment.
    index("payments_deleted").on(t.id).where(sql`deleted = 1`),
  ],
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
  (t) => [
    primaryKey({ columns: [t.paymentId, t.invoiceId] }),
    index("payment_allocations_invoice").on(t.invoiceId),
    // The monitor's loader pages through one organisation's allocations in rowid order (org_id = ? AND rowid > ?).
    index("payment_allocations_org").on(t.orgId),
  ],
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
    status: text("status", {
      enum: ["draft", "submitted", "authorised", "paid", "void", "deleted"],
    }).notNull(),
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
    /**
     * The payment that applied the credit (QuickBooks records credit applied on the Payment, not on the memo);
     * null = the credit note's own allocation.
     */
    viaPaymentId: text("via_payment_id"),
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
    /** Re-pull attempts that failed so far. */
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
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

// --- reminders and credit holds (src/reminders; store: reminder-settings, plan-rows, claims, hold-events) ---

/** Per-organisation reminder settings. Absent row = the documented defaults. */
export const reminderSettings = sqliteTable("reminder_settings", {
  orgId: text("org_id")
    .primaryKey()
    .references(() => organisations.id),
  /** Who is told about credit holds (and BCC'd when enabled). */
  ownerEmail: text("owner_email"),
  /** Contact details shown to customers in reminders. */
  senderEmail: text("sender_email"),
  senderPhone: text("sender_phone"),
  /** Local wall-clock window, "HH:MM" 24h, in the customer's timezone. */
  windowStart: text("window_start").notNull(),
  windowEnd: text("window_end").notNull(),
  /** ISO weekdays (1 = Monday ... 7 = Sunday) reminders may go out on. */
  windowDays: text("window_days", { mode: "json" }).$type<number[]>().notNull(),
  /** Policy used when a customer has none of its own; null = the policy named "default". */
  defaultPolicyId: text("default_policy_id"),
  /** Monitor grade -> policy id (e.g. {"D": "pol_...", "E": "pol_..."}). */
  gradePolicies: text("grade_policies", { mode: "json" }).$type<Record<string, string>>().notNull(),
  /** Smallest amount due (major units of the invoice currency) worth chasing; null = REMINDER_MIN_AMOUNT. */
  minAmount: real("min_amount"),
  /** Percent over the credit limit that places a hold; null = CREDIT_LIMIT_MARGIN_PCT. */
  creditLimitMarginPct: real("credit_limit_margin_pct"),
  /** BCC the owner on every reminder; null = MAIL_BCC_OWNER. */
  bccOwner: integer("bcc_owner", { mode: "boolean" }),
  /** Mail settings (settings page, #mail); null = the environment's (MAIL_FROM, MAIL_REPLY_TO, OWNER_EMAIL). */
  senderName: text("sender_name"),
  replyTo: text("reply_to"),
  /** Who gets owner notices (credit holds, customers' actions); empty/null = owner_email, else OWNER_EMAIL. */
  noticeEmails: text("notice_emails", { mode: "json" }).$type<string[]>(),
  /** Blind copies of every reminder and statement. */
  bccEmails: text("bcc_emails", { mode: "json" }).$type<string[]>(),
  /** Smallest amount worth chasing in minor units of min_amount_currency; wins over min_amount. */
  minAmountMinor: integer("min_amount_minor"),
  minAmountCurrency: text("min_amount_currency"),
  /** "approve" (null, the default): runs propose credit holds and a person approves; "automatic": runs place them. */
  holdMode: text("hold_mode", { enum: ["approve", "automatic"] }),
  /** Scheduled statements for every customer: null = none (off by default). */
  statementSchedule: text("statement_schedule", { mode: "json" }).$type<StatementSetting>(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Xero's online invoice (pay-now) URL per invoice, fetched by the reminder run when a reminder first lists the
 * invoice (src/reminders/online-links.ts). Kept apart from `invoices.pay_url`, so a sync never overwrites it and
 * fetching one does not bump the ledger version. `url` null: Xero had none (a 400/404), asked again only after a
 * while.
 */
export const invoiceOnlineLinks = sqliteTable("invoice_online_links", {
  invoiceId: text("invoice_id")
    .primaryKey()
    .references(() => invoices.id),
  orgId: text("org_id")
    .notNull()
    .references(() => organisations.id),
  url: text("url"),
  fetchedAt: integer("fetched_at").notNull(),
});

/** How customers pay (pay links and bank details): the settings page's Payment section. One row per organisation. */
export const paymentSettings = sqliteTable("payment_settings", {
  orgId: text("org_id")
    .primaryKey()
    .references(() => organisations.id),
  /** A pay-now URL with {{ invoice_number }} / {{ amount_due }}, used when the ledger has no link; null = none. */
  payUrlTemplate: text("pay_url_template"),
  /** Bank details shown (as text) for invoices without a pay link; null = none. */
  bankDetails: text("bank_details"),
  updatedAt: integer("updated_at").notNull(),
});

/** Reminder policies as data: ordered levels (day offset from due date, template, optional credit hold). */
export const reminderPolicies = sqliteTable(
  "reminder_policies",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    name: text("name").notNull(),
    /** JSON [{ offsetDays, template, name, placeHold }], offsets strictly increasing; level N is entry N. */
    levels: text("levels", { mode: "json" })
      .$type<{ offsetDays: number; template: string; name: string; placeHold?: boolean; sms?: boolean }[]>()
      .notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("reminder_policies_org_name").on(t.orgId, t.name)],
);

/** Per-organisation template overrides: one row per template name and part (subject, html, text). */
export const reminderTemplates = sqliteTable(
  "reminder_templates",
  {
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    name: text("name").notNull(),
    part: text("part", { enum: ["subject", "html", "text"] }).notNull(),
    body: text("body").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.name, t.part] })],
);

/**
 * One row per (invoice, level): the claim taken before any SMTP call. "failed" rows (the SMTP server did not
 * accept) may be claimed again; "claimed" rows left by a crash become "needs_review" and are never resent.
 */
export const reminders = sqliteTable(
  "reminders",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    /** The level's 1-based position in its policy when claimed (for people; policies can be edited later). */
    level: integer("level").notNull(),
    /**
     * The level's day offset from the due date: its stable identity. Claims are unique per (invoice, offset),
     * and an invoice is due a level only when its offset is past every offset claimed for it, so inserting,
     * removing or reordering levels in a policy never resends or re-reaches a level already sent.
     */
    offsetDays: integer("offset_days").notNull(),
    template: text("template").notNull(),
    policyId: text("policy_id").notNull(),
    /** The email this invoice went out in (several invoices share one email). */
    emailId: text("email_id").notNull(),
    status: text("status", { enum: ["claimed", "sent", "failed", "rejected", "needs_review"] }).notNull(),
    attempts: integer("attempts").notNull().default(1),
    claimedAt: integer("claimed_at").notNull(),
    sentAt: integer("sent_at"),
    messageId: text("message_id"),
    recipients: text("recipients", { mode: "json" }).$type<string[]>(),
    /** The SMTP server's reply on acceptance ("250 2.0.0 Ok: queued as 4F2A1C"): its id for the message. */
    smtpResponse: text("smtp_response"),
    /** How a person resolved an email left for review: "marked_sent" or "resend". */
    resolution: text("resolution"),
    lastError: text("last_error"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("reminders_invoice_offset").on(t.invoiceId, t.offsetDays),
    index("reminders_org_status").on(t.orgId, t.status),
    index("reminders_email").on(t.emailId),
    index("reminders_contact").on(t.contactId),
  ],
);

/**
 * Scheduled statements: one row per (customer, period), claimed before any SMTP call, so a statement never goes
 * twice for a period. As with reminders, "failed" (certainly not accepted) may be claimed again; a "claimed" row
 * left by a crash becomes "needs_review" and is never resent automatically.
 */
export const statementSends = sqliteTable(
  "statement_sends",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    /** "2026-12" (monthly) or "2026-W49" (weekly). */
    period: text("period").notNull(),
    status: text("status", { enum: ["claimed", "sent", "failed", "rejected", "needs_review"] }).notNull(),
    attempts: integer("attempts").notNull().default(1),
    claimedAt: integer("claimed_at").notNull(),
    sentAt: integer("sent_at"),
    messageId: text("message_id"),
    recipients: text("recipients", { mode: "json" }).$type<string[]>(),
    /** What the statement said was owed: [{ currency, minor }]. */
    totals: text("totals", { mode: "json" }).$type<{ currency: string; minor: number }[]>(),
    lastError: text("last_error"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("statement_sends_contact_period").on(t.contactId, t.period),
    index("statement_sends_org_status").on(t.orgId, t.status),
  ],
);

/** Credit hold placements and releases, with the ledger write-back and the owner notice of each. */
export const creditHolds = sqliteTable(
  "credit_holds",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    action: text("action", { enum: ["place", "release"] }).notNull(),
    reason: text("reason").notNull(),
    at: integer("at").notNull(),
    writebackStatus: text("writeback_status", {
      enum: ["pending", "written", "not_applicable", "failed", "superseded"],
    }).notNull(),
    writebackDetail: text("writeback_detail"),
    writebackAttempts: integer("writeback_attempts").notNull().default(0),
    ownerNotice: text("owner_notice", {
      enum: ["pending", "sending", "sent", "failed", "needs_review", "none"],
    }).notNull(),
    ownerNoticeAt: integer("owner_notice_at"),
    /** Who made the change ("user:<id>", "cli"); null = a reminder run (an approval names the approver). */
    actor: text("actor"),
    /** Placed by hand (not a run's decision nor an approved proposal): only a person releases it. */
    byHand: integer("by_hand", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    index("credit_holds_contact_at").on(t.contactId, t.at),
    index("credit_holds_org_writeback").on(t.orgId, t.writebackStatus),
  ],
);

/**
 * Credit holds proposed by a reminder run (organisations in "approve" mode), and what became of each: approved
 * (the hold was placed: `holdEventId`), dismissed by a person, or withdrawn by a run (the customer paid). At most
 * one open ("proposed") row per customer.
 */
export const holdProposals = sqliteTable(
  "hold_proposals",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    status: text("status", { enum: ["proposed", "approved", "dismissed", "withdrawn"] }).notNull(),
    reason: text("reason").notNull(),
    proposedAt: integer("proposed_at").notNull(),
    decidedAt: integer("decided_at"),
    /** "user:<id>" / an email, "reminders" (withdrawn by a run) or "automatic". */
    decidedBy: text("decided_by"),
    decisionReason: text("decision_reason"),
    holdEventId: text("hold_event_id"),
    /** The notice to the owner and bookkeepers. */
    notice: text("notice", { enum: ["pending", "sending", "sent", "failed", "none"] }).notNull(),
  },
  (t) => [
    uniqueIndex("hold_proposals_open").on(t.contactId).where(sql`status = 'proposed'`),
    index("hold_proposals_org_status").on(t.orgId, t.status),
    // Planning reads each customer's latest dismissal.
    index("hold_proposals_contact").on(t.contactId, t.status, t.decidedAt),
  ],
);

// --- accounts, sessions and the weekly digest (src/auth, src/http, src/digest) ---

/** People who sign in. Passwords are scrypt hashes with a per-user salt (`scrypt$N$r$p$salt$hash`). */
export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  /** Lower-cased. */
  email: text("email").notNull().unique(),
  /** Null until the invite is accepted or a password is set. */
  passwordHash: text("password_hash"),
  /** IANA timezone for the digest; null = the timezone of the user's first organisation. */
  timezone: text("timezone"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Signed-in sessions. `id` is the SHA-256 of the random token in the cookie; the token itself is never stored. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    /** Absolute expiry (epoch ms). */
    expiresAt: integer("expires_at").notNull(),
    /** Last request seen, for the idle timeout. */
    lastSeenAt: integer("last_seen_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("sessions_user").on(t.userId)],
);

/** Who may see which organisation, and what they may do there. */
export const memberships = sqliteTable(
  "memberships",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    role: text("role", { enum: ["owner", "bookkeeper", "viewer"] }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.orgId] }), index("memberships_org").on(t.orgId)],
);

/** Invitations: the link carries a random token; only its SHA-256 is kept. Accepting sets the password. */
export const invites = sqliteTable("invites", {
  tokenHash: text("token_hash").primaryKey(),
  email: text("email").notNull(),
  orgId: text("org_id")
    .notNull()
    .references(() => organisations.id),
  role: text("role", { enum: ["owner", "bookkeeper", "viewer"] }).notNull(),
  invitedBy: text("invited_by"),
  expiresAt: integer("expires_at").notNull(),
  acceptedAt: integer("accepted_at"),
  createdAt: integer("created_at").notNull(),
});

/**
 * Password resets asked for by email: the link carries a random token; only its SHA-256 is kept. Single use
 * (`usedAt`), expiring; using one sets the password and ends the user's sessions.
 */
export const passwordResets = sqliteTable(
  "password_resets",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("password_resets_user").on(t.userId)],
);

/** Failed sign-ins by key (`email:<address>` or `ip:<address>`), kept in the store so limits survive restarts. */
export const loginFailures = sqliteTable(
  "login_failures",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    key: text("key").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("login_failures_key_at").on(t.key, t.at)],
);

/** The weekly digest: one row per (user, ISO week), inserted before sending, so nobody gets one twice. */
export const digestDeliveries = sqliteTable(
  "digest_deliveries",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    /** ISO week of the Monday it stands for, e.g. "2026-W47". */
    week: text("week").notNull(),
    asOf: text("as_of").notNull(),
    /**
     * failed: certainly not sent (claimed again by the next run); rejected: refused for good (5xx);
     * needs_review: may have been delivered (never sent again automatically).
     */
    status: text("status", { enum: ["claimed", "sent", "failed", "rejected", "needs_review"] }).notNull(),
    messageId: text("message_id"),
    lastError: text("last_error"),
    claimedAt: integer("claimed_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.week] })],
);

// --- the customers' page (src/portal, src/http/portal.tsx, src/store/portal.ts, pauses.ts, disputes.ts) ---

/**
 * Per-contact state of the customers' page: the random nonce every page token carries (rotating it revokes
 * every link already sent) and the address the customer asked reminders to go to. Kept apart from `contacts`
 * so ledger syncs never touch it.
 */
export const customerPortal = sqliteTable("customer_portal", {
  contactId: text("contact_id")
    .primaryKey()
    .references(() => contacts.id),
  orgId: text("org_id")
    .notNull()
    .references(() => organisations.id),
  /** Random, base64url; part of every signed page token of this contact. */
  nonce: text("nonce").notNull(),
  /** Where the customer asked reminders to go (wins over the ledger's addresses); null = the ledger's. */
  reminderEmail: text("reminder_email"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Per-invoice pauses the customer asked for: "I've already paid" (a few days for the payment to reach the
 * books) and "I'll pay by <date>". Reminders for the invoice wait up to and including `until`.
 */
export const invoicePauses = sqliteTable(
  "invoice_pauses",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    kind: text("kind", { enum: ["paid", "promise"] }).notNull(),
    /** Last local date (organisation's timezone) reminders wait for, inclusive. */
    until: text("until").notNull(),
    /** "paid": the date the customer says they paid. */
    paidOn: text("paid_on"),
    reference: text("reference"),
    /** A promise whose date passed with the invoice unpaid: when it was flagged (once). */
    brokenAt: integer("broken_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("invoice_pauses_invoice").on(t.invoiceId),
    index("invoice_pauses_org_kind").on(t.orgId, t.kind),
  ],
);

/** Disputes raised on the customers' page, with their resolution by a bookkeeper. */
export const invoiceDisputes = sqliteTable(
  "invoice_disputes",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    reason: text("reason").notNull(),
    comment: text("comment"),
    createdAt: integer("created_at").notNull(),
    resolvedAt: integer("resolved_at"),
    resolvedBy: text("resolved_by"),
    resolution: text("resolution"),
  },
  (t) => [index("invoice_disputes_invoice").on(t.invoiceId), index("invoice_disputes_org").on(t.orgId)],
);

/** Actions taken on the customers' page by key (`contact:<id>` or `ip:<address>`), for rate limiting. */
export const portalHits = sqliteTable(
  "portal_hits",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    key: text("key").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("portal_hits_key_at").on(t.key, t.at)],
);

// --- the dashboard's whole-ledger figures, cached (src/store/dashboard-summary.ts) ---

/**
 * The dashboard's whole-ledger figures of one organisation as of one date, valid while the organisation's
 * `ledger_version` equals the one stored here. Part 0 holds the figures (totals, DSO series, overdue now and a
 * week ago) and how many parts follow; parts 1..n hold the per-customer aging in chunks, so no row grows past
 * D1's row size limit. A summary counts only when every part carries the current ledger version.
 */
export const dashboardSummaries = sqliteTable(
  "dashboard_summaries",
  {
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    asOf: text("as_of").notNull(),
    part: integer("part").notNull(),
    ledgerVersion: integer("ledger_version").notNull(),
    computedAt: integer("computed_at").notNull(),
    data: text("data").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.asOf, t.part] })],
);

/**
 * The last reconciliation of each organisation: Creditpulse's balances against the ledger's own figures
 * (or, for CSV organisations, against the import's own totals). `mismatched` is the `reconcile --json` list.
 */
export const reconciliations = sqliteTable("reconciliations", {
  orgId: text("org_id")
    .primaryKey()
    .references(() => organisations.id),
  checkedAt: integer("checked_at").notNull(),
  customersChecked: integer("customers_checked").notNull(),
  mismatched: text("mismatched", { mode: "json" })
    .$type<{ customer_id: string; ours: number; theirs: number; currency: string }[]>()
    .notNull(),
});

/**
 * CSV files uploaded over HTTP (`POST /api/orgs/:slug/imports`) and what became of them: queued (Workers: the
 * files wait in R2 for the jobs queue), running, done (the import summary) or failed (the bad rows, or why).
 */
export const csvUploads = sqliteTable(
  "csv_uploads",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    status: text("status", { enum: ["queued", "running", "done", "failed"] }).notNull(),
    /** The uploaded files by kind (invoices, payments, customers): name, bytes and, on Workers, the R2 key. */
    files: text("files", { mode: "json" })
      .$type<Record<string, { name: string; bytes: number; key: string | null }>>()
      .notNull(),
    /** Import options given with the upload (currency, date format, column map). */
    options: text("options", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    requestedBy: text("requested_by").notNull(),
    /** Done: the import summary, as `import --json` prints it. Failed: `{ issues, issueCount }` or `{ error }`. */
    result: text("result", { mode: "json" }).$type<Record<string, unknown>>(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("csv_uploads_org_created").on(t.orgId, t.createdAt)],
);

// --- late-payment charges and SMS reminders (src/reminders/charge-*, src/reminders/send-sms.ts; store: charges, sms) ---

/** Per-organisation late-payment charges: `rule` null = off (the default). */
export const chargeSettings = sqliteTable("charge_settings", {
  orgId: text("org_id")
    .primaryKey()
    .references(() => organisations.id),
  /** The charge rule (src/reminders/charges.ts ChargeRule) as JSON; null = no charges. */
  rule: text("rule", { mode: "json" }).$type<Record<string, unknown>>(),
  /** Status of the charge invoices written to Xero: DRAFT (default) or AUTHORISED. */
  ledgerStatus: text("ledger_status", { enum: ["DRAFT", "AUTHORISED"] })
    .notNull()
    .default("DRAFT"),
  /** Xero account code / QuickBooks item id for the charge line; null = the ledger's default. */
  ledgerAccount: text("ledger_account"),
  /** The SMS template (liquid, one short line); null = the built-in one. */
  smsTemplate: text("sms_template"),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Late-payment charges proposed by a run, approved or rejected by a person, and written to the ledger as a new
 * sales invoice exactly once: unique per (invoice, kind, period) so a charge is never proposed twice; the write
 * is claimed (`write_claimed_at`) before the ledger call and looked up by `reference` before creating again.
 */
export const charges = sqliteTable(
  "charges",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    kind: text("kind", { enum: ["interest", "compensation", "fee"] }).notNull(),
    /** "2026-12" (interest, per month), "once" (compensation), "level-2" (a fee). */
    period: text("period").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    currency: text("currency").notNull(),
    /** The date (organisation's timezone) it was computed as of, and how. */
    asOf: text("as_of").notNull(),
    detail: text("detail").notNull(),
    status: text("status", {
      enum: ["proposed", "approved", "rejected", "written", "recorded", "failed"],
    }).notNull(),
    proposedAt: integer("proposed_at").notNull(),
    decidedAt: integer("decided_at"),
    decidedBy: text("decided_by"),
    /** The deterministic reference the ledger invoice carries (looked up before creating again). */
    reference: text("reference").notNull(),
    ledgerId: text("ledger_id"),
    ledgerNumber: text("ledger_number"),
    writeClaimedAt: integer("write_claimed_at"),
    writeAttempts: integer("write_attempts").notNull().default(0),
    lastError: text("last_error"),
  },
  (t) => [
    uniqueIndex("charges_invoice_kind_period").on(t.invoiceId, t.kind, t.period),
    index("charges_org_status").on(t.orgId, t.status),
  ],
);

/**
 * SMS reminders: one row per (invoice, level offset), claimed before the provider is called, as emails are.
 * `sms_id` groups the rows of one message. Refused (bad number, opted out) rows keep their reason.
 */
export const smsSends = sqliteTable(
  "sms_sends",
  {
    id: text("id").primaryKey(),
    smsId: text("sms_id").notNull(),
    orgId: text("org_id")
      .notNull()
      .references(() => organisations.id),
    contactId: text("contact_id")
      .notNull()
      .references(() => contacts.id),
    invoiceId: text("invoice_id")
      .notNull()
      .references(() => invoices.id),
    offsetDays: integer("offset_days").notNull(),
    level: integer("level").notNull(),
    toNumber: text("to_number"),
    status: text("status", {
      enum: ["claimed", "sent", "failed", "refused", "needs_review"],
    }).notNull(),
    providerId: text("provider_id"),
    reason: text("reason"),
    claimedAt: integer("claimed_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    uniqueIndex("sms_sends_invoice_offset").on(t.invoiceId, t.offsetDays),
    index("sms_sends_sms").on(t.smsId),
    index("sms_sends_contact").on(t.contactId),
  ],
);

/** STOP / START replies per E.164 number (the sending number is shared, so consent is per number). */
export const smsOptOuts = sqliteTable("sms_opt_outs", {
  number: text("number").primaryKey(),
  optedOut: integer("opted_out", { mode: "boolean" }).notNull(),
  /** The inbound message id (MessageSid) or "provider" (a send refused as unsubscribed). */
  source: text("source"),
  updatedAt: integer("updated_at").notNull(),
});
