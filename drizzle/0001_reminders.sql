CREATE TABLE `credit_holds` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`action` text NOT NULL,
	`reason` text NOT NULL,
	`at` integer NOT NULL,
	`writeback_status` text NOT NULL,
	`writeback_detail` text,
	`writeback_attempts` integer DEFAULT 0 NOT NULL,
	`owner_notice` text NOT NULL,
	`owner_notice_at` integer,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `credit_holds_contact_at` ON `credit_holds` (`contact_id`,`at`);--> statement-breakpoint
CREATE INDEX `credit_holds_org_writeback` ON `credit_holds` (`org_id`,`writeback_status`);--> statement-breakpoint
CREATE TABLE `reminder_policies` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`levels` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reminder_policies_org_name` ON `reminder_policies` (`org_id`,`name`);--> statement-breakpoint
CREATE TABLE `reminder_settings` (
	`org_id` text PRIMARY KEY NOT NULL,
	`owner_email` text,
	`sender_email` text,
	`sender_phone` text,
	`window_start` text NOT NULL,
	`window_end` text NOT NULL,
	`window_days` text NOT NULL,
	`default_policy_id` text,
	`grade_policies` text NOT NULL,
	`min_amount` real,
	`credit_limit_margin_pct` real,
	`bcc_owner` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `reminder_templates` (
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`part` text NOT NULL,
	`body` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`org_id`, `name`, `part`),
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `reminders` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`level` integer NOT NULL,
	`offset_days` integer NOT NULL,
	`template` text NOT NULL,
	`policy_id` text NOT NULL,
	`email_id` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 1 NOT NULL,
	`claimed_at` integer NOT NULL,
	`sent_at` integer,
	`message_id` text,
	`recipients` text,
	`last_error` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reminders_invoice_level` ON `reminders` (`invoice_id`,`level`);--> statement-breakpoint
CREATE INDEX `reminders_org_status` ON `reminders` (`org_id`,`status`);--> statement-breakpoint
CREATE INDEX `reminders_email` ON `reminders` (`email_id`);--> statement-breakpoint
CREATE INDEX `reminders_contact` ON `reminders` (`contact_id`);--> statement-breakpoint
ALTER TABLE `invoices` ADD `disputed_at` integer;