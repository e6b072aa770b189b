CREATE TABLE `reconciliations` (
	`org_id` text PRIMARY KEY NOT NULL,
	`checked_at` integer NOT NULL,
	`customers_checked` integer NOT NULL,
	`mismatched` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `contacts` ADD `is_customer` integer;--> statement-breakpoint
ALTER TABLE `contacts` ADD `is_supplier` integer;--> statement-breakpoint
ALTER TABLE `contacts` ADD `provider_balance_minor` integer;--> statement-breakpoint
ALTER TABLE `contacts` ADD `provider_overdue_minor` integer;--> statement-breakpoint
ALTER TABLE `contacts` ADD `provider_balance_currency` text;--> statement-breakpoint
ALTER TABLE `credit_note_allocations` ADD `via_payment_id` text;--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `last_error` text;