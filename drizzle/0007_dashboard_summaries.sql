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
ALTER TABLE `organisations` ADD `ledger_version` integer DEFAULT 0 NOT NULL;