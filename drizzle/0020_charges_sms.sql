CREATE TABLE `charge_settings` (
	`org_id` text PRIMARY KEY NOT NULL,
	`rule` text,
	`ledger_status` text DEFAULT 'DRAFT' NOT NULL,
	`ledger_account` text,
	`sms_template` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `charges` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`kind` text NOT NULL,
	`period` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`as_of` text NOT NULL,
	`detail` text NOT NULL,
	`status` text NOT NULL,
	`proposed_at` integer NOT NULL,
	`decided_at` integer,
	`decided_by` text,
	`reference` text NOT NULL,
	`ledger_id` text,
	`ledger_number` text,
	`write_claimed_at` integer,
	`write_attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `charges_invoice_kind_period` ON `charges` (`invoice_id`,`kind`,`period`);--> statement-breakpoint
CREATE INDEX `charges_org_status` ON `charges` (`org_id`,`status`);--> statement-breakpoint
CREATE TABLE `sms_opt_outs` (
	`number` text PRIMARY KEY NOT NULL,
	`opted_out` integer NOT NULL,
	`source` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sms_sends` (
	`id` text PRIMARY KEY NOT NULL,
	`sms_id` text NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`offset_days` integer NOT NULL,
	`level` integer NOT NULL,
	`to_number` text,
	`status` text NOT NULL,
	`provider_id` text,
	`reason` text,
	`claimed_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sms_sends_invoice_offset` ON `sms_sends` (`invoice_id`,`offset_days`);--> statement-breakpoint
CREATE INDEX `sms_sends_sms` ON `sms_sends` (`sms_id`);--> statement-breakpoint
CREATE INDEX `sms_sends_contact` ON `sms_sends` (`contact_id`);