CREATE TABLE `csv_uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`status` text NOT NULL,
	`files` text NOT NULL,
	`options` text NOT NULL,
	`requested_by` text NOT NULL,
	`result` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `csv_uploads_org_created` ON `csv_uploads` (`org_id`,`created_at`);