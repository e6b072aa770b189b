CREATE TABLE `customer_portal` (
	`contact_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`nonce` text NOT NULL,
	`reminder_email` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `invoice_disputes` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`reason` text NOT NULL,
	`comment` text,
	`created_at` integer NOT NULL,
	`resolved_at` integer,
	`resolved_by` text,
	`resolution` text,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `invoice_disputes_invoice` ON `invoice_disputes` (`invoice_id`);--> statement-breakpoint
CREATE INDEX `invoice_disputes_org` ON `invoice_disputes` (`org_id`);--> statement-breakpoint
CREATE TABLE `invoice_pauses` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`kind` text NOT NULL,
	`until` text NOT NULL,
	`paid_on` text,
	`reference` text,
	`broken_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `invoice_pauses_invoice` ON `invoice_pauses` (`invoice_id`);--> statement-breakpoint
CREATE INDEX `invoice_pauses_org_kind` ON `invoice_pauses` (`org_id`,`kind`);--> statement-breakpoint
CREATE TABLE `portal_hits` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `portal_hits_key_at` ON `portal_hits` (`key`,`at`);