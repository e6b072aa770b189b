ALTER TABLE `connections` ADD `token_connection_id` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `provider_connection_id` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `sync_paused_until` integer;