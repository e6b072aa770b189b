CREATE TABLE `dashboard_summaries` (
	`org_id` text NOT NULL,
	`as_of` text NOT NULL,
	`part` integer NOT NULL,
	`ledger_version` integer NOT NULL,
	`computed_at` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`org_id`, `as_of`, `part`),
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
DROP INDEX `invoices_open_aging`;--> statement-breakpoint
CREATE INDEX `invoices_open_aging_v2` ON `invoices` (`org_id`,`contact_id`,`currency`,`due_date`,`issue_date`,`amount_due_minor`,`status`) WHERE status in ('authorised', 'submitted') and amount_due_minor > 0;--> statement-breakpoint
CREATE INDEX `invoices_org_paid_on` ON `invoices` (`org_id`,`paid_on`,`due_date`,`issue_date`,`status`,`disputed_at`,`currency`,`total_minor`,`id`);--> statement-breakpoint
ALTER TABLE `organisations` ADD `ledger_version` integer DEFAULT 0 NOT NULL;