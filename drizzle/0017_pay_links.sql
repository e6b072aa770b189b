CREATE TABLE `invoice_online_links` (
	`invoice_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`url` text,
	`fetched_at` integer NOT NULL,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `payment_settings` (
	`org_id` text PRIMARY KEY NOT NULL,
	`pay_url_template` text,
	`bank_details` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
