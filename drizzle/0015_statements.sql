CREATE TABLE `statement_sends` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`period` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 1 NOT NULL,
	`claimed_at` integer NOT NULL,
	`sent_at` integer,
	`message_id` text,
	`recipients` text,
	`totals` text,
	`last_error` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `statement_sends_contact_period` ON `statement_sends` (`contact_id`,`period`);--> statement-breakpoint
CREATE INDEX `statement_sends_org_status` ON `statement_sends` (`org_id`,`status`);--> statement-breakpoint
ALTER TABLE `contacts` ADD `statement_schedule` text;--> statement-breakpoint
ALTER TABLE `reminder_settings` ADD `statement_schedule` text;