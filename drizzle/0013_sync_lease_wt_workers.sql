ALTER TABLE `connections` ADD `sync_lease_owner` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `sync_lease_until` integer;