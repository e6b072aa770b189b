CREATE INDEX `invoices_org` ON `invoices` (`org_id`);--> statement-breakpoint
CREATE INDEX `payment_allocations_org` ON `payment_allocations` (`org_id`);