CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text,
	`invoice_id` text,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`detail` text,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `audit_log_org_at` ON `audit_log` (`org_id`,`at`);--> statement-breakpoint
CREATE INDEX `audit_log_contact` ON `audit_log` (`contact_id`);--> statement-breakpoint
CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`provider` text NOT NULL,
	`tenant_id` text NOT NULL,
	`tenant_name` text,
	`sealed_tokens` text,
	`access_expires_at` integer,
	`status` text NOT NULL,
	`refresh_lease_owner` text,
	`refresh_lease_until` integer,
	`last_sync_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `connections_provider_tenant` ON `connections` (`provider`,`tenant_id`);--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`external_id` text NOT NULL,
	`name` text NOT NULL,
	`emails` text NOT NULL,
	`phone` text,
	`credit_limit_minor` integer,
	`timezone` text,
	`chasing_paused_until` text,
	`excluded` integer DEFAULT false NOT NULL,
	`opted_out` integer DEFAULT false NOT NULL,
	`policy_id` text,
	`hold_state` text DEFAULT 'none' NOT NULL,
	`hold_changed_at` integer,
	`deleted` integer DEFAULT false NOT NULL,
	`provider_updated_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_org_external` ON `contacts` (`org_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `credit_note_allocations` (
	`credit_note_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`org_id` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`date` text NOT NULL,
	PRIMARY KEY(`credit_note_id`, `invoice_id`),
	FOREIGN KEY (`credit_note_id`) REFERENCES `credit_notes`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `credit_note_allocations_invoice` ON `credit_note_allocations` (`invoice_id`);--> statement-breakpoint
CREATE TABLE `credit_notes` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`external_id` text NOT NULL,
	`number` text,
	`issue_date` text NOT NULL,
	`currency` text NOT NULL,
	`total_minor` integer NOT NULL,
	`remaining_minor` integer NOT NULL,
	`status` text NOT NULL,
	`provider_updated_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credit_notes_org_external` ON `credit_notes` (`org_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `demo_profiles` (
	`contact_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`profile` text NOT NULL,
	`changes_on` text,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`external_id` text NOT NULL,
	`number` text NOT NULL,
	`issue_date` text NOT NULL,
	`due_date` text NOT NULL,
	`currency` text NOT NULL,
	`total_minor` integer NOT NULL,
	`amount_paid_minor` integer NOT NULL,
	`amount_credited_minor` integer NOT NULL,
	`amount_due_minor` integer NOT NULL,
	`status` text NOT NULL,
	`paid_on` text,
	`pay_url` text,
	`provider_updated_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_org_external` ON `invoices` (`org_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `invoices_contact` ON `invoices` (`contact_id`);--> statement-breakpoint
CREATE TABLE `organisations` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`base_currency` text NOT NULL,
	`timezone` text NOT NULL,
	`country` text,
	`locale` text DEFAULT 'en-GB' NOT NULL,
	`provider` text NOT NULL,
	`is_demo` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organisations_slug_unique` ON `organisations` (`slug`);--> statement-breakpoint
CREATE TABLE `payment_allocations` (
	`payment_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`org_id` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`date` text NOT NULL,
	PRIMARY KEY(`payment_id`, `invoice_id`),
	FOREIGN KEY (`payment_id`) REFERENCES `payments`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `payment_allocations_invoice` ON `payment_allocations` (`invoice_id`);--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text,
	`external_id` text NOT NULL,
	`date` text NOT NULL,
	`currency` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`provider_updated_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payments_org_external` ON `payments` (`org_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `quarantined_records` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`entity` text NOT NULL,
	`external_id` text NOT NULL,
	`reason` text NOT NULL,
	`payload` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `quarantined_records_org_entity_external` ON `quarantined_records` (`org_id`,`entity`,`external_id`);--> statement-breakpoint
CREATE TABLE `scores` (
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`as_of` text NOT NULL,
	`score` integer NOT NULL,
	`grade` text NOT NULL,
	`late_probability` real NOT NULL,
	`trend` text NOT NULL,
	`trend_change_days` real,
	`trend_started_on` text,
	`reasons` text NOT NULL,
	`computed_at` integer NOT NULL,
	PRIMARY KEY(`contact_id`, `as_of`),
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `scores_org_as_of` ON `scores` (`org_id`,`as_of`);--> statement-breakpoint
CREATE TABLE `sync_cursors` (
	`org_id` text NOT NULL,
	`entity` text NOT NULL,
	`cursor` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`org_id`, `entity`),
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`provider` text NOT NULL,
	`event_id` text NOT NULL,
	`org_id` text,
	`payload` text NOT NULL,
	`received_at` integer NOT NULL,
	`processed_at` integer,
	PRIMARY KEY(`provider`, `event_id`)
);
