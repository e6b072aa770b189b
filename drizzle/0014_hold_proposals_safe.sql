CREATE TABLE `hold_proposals` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`status` text NOT NULL,
	`reason` text NOT NULL,
	`proposed_at` integer NOT NULL,
	`decided_at` integer,
	`decided_by` text,
	`decision_reason` text,
	`hold_event_id` text,
	`notice` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `hold_proposals_open` ON `hold_proposals` (`contact_id`) WHERE status = 'proposed';--> statement-breakpoint
CREATE INDEX `hold_proposals_org_status` ON `hold_proposals` (`org_id`,`status`);--> statement-breakpoint
CREATE INDEX `hold_proposals_contact` ON `hold_proposals` (`contact_id`,`status`,`decided_at`);--> statement-breakpoint
ALTER TABLE `credit_holds` ADD `actor` text;--> statement-breakpoint
ALTER TABLE `credit_holds` ADD `by_hand` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `reminder_settings` ADD `hold_mode` text;--> statement-breakpoint
ALTER TABLE `reminders` ADD `smtp_response` text;--> statement-breakpoint
ALTER TABLE `reminders` ADD `resolution` text;