ALTER TABLE `reminder_settings` ADD `sender_name` text;--> statement-breakpoint
ALTER TABLE `reminder_settings` ADD `reply_to` text;--> statement-breakpoint
ALTER TABLE `reminder_settings` ADD `notice_emails` text;--> statement-breakpoint
ALTER TABLE `reminder_settings` ADD `bcc_emails` text;--> statement-breakpoint
ALTER TABLE `reminder_settings` ADD `min_amount_minor` integer;--> statement-breakpoint
ALTER TABLE `reminder_settings` ADD `min_amount_currency` text;