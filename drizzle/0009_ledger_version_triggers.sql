-- The ledger version of each organisation (organisations.ledger_version), bumped by the database itself on
-- every insert, update and delete of the rows the dashboard's whole-ledger figures read, so that no write path
-- (sync, CSV import, demo seed, the customers' page, dispute resolution, a hand-run SQL fix) can forget to
-- invalidate the cached figures in dashboard_summaries. Triggers are per row; each does one primary-key update
-- (a row moved to another organisation, which the app never does, bumps both). Every body is one plain statement
-- (nothing nested, LF line endings), kept simple for the statement splitter of D1's migration apply.
-- Contacts bump only when a column the figures show changes (name, ledger id, hold state), not on the
-- chasing/opt-out/credit-limit edits the dashboard makes. Disputes count through invoices.disputed_at.
-- The organisation's base currency (the DSO series is in it) bumps it too.
-- Scores are not part of the cached figures (the pages read them live).
CREATE TRIGGER `invoices_ledger_version_insert` AFTER INSERT ON `invoices`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `invoices_ledger_version_update` AFTER UPDATE ON `invoices`
WHEN OLD.`org_id` IS NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `invoices_ledger_version_move` AFTER UPDATE ON `invoices`
WHEN OLD.`org_id` IS NOT NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` IN (OLD.`org_id`, NEW.`org_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `invoices_ledger_version_delete` AFTER DELETE ON `invoices`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = OLD.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `payments_ledger_version_insert` AFTER INSERT ON `payments`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `payments_ledger_version_update` AFTER UPDATE ON `payments`
WHEN OLD.`org_id` IS NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `payments_ledger_version_move` AFTER UPDATE ON `payments`
WHEN OLD.`org_id` IS NOT NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` IN (OLD.`org_id`, NEW.`org_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `payments_ledger_version_delete` AFTER DELETE ON `payments`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = OLD.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `payment_allocations_ledger_version_insert` AFTER INSERT ON `payment_allocations`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `payment_allocations_ledger_version_update` AFTER UPDATE ON `payment_allocations`
WHEN OLD.`org_id` IS NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `payment_allocations_ledger_version_move` AFTER UPDATE ON `payment_allocations`
WHEN OLD.`org_id` IS NOT NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` IN (OLD.`org_id`, NEW.`org_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `payment_allocations_ledger_version_delete` AFTER DELETE ON `payment_allocations`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = OLD.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `credit_notes_ledger_version_insert` AFTER INSERT ON `credit_notes`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `credit_notes_ledger_version_update` AFTER UPDATE ON `credit_notes`
WHEN OLD.`org_id` IS NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `credit_notes_ledger_version_move` AFTER UPDATE ON `credit_notes`
WHEN OLD.`org_id` IS NOT NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` IN (OLD.`org_id`, NEW.`org_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `credit_notes_ledger_version_delete` AFTER DELETE ON `credit_notes`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = OLD.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `credit_note_allocations_ledger_version_insert` AFTER INSERT ON `credit_note_allocations`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `credit_note_allocations_ledger_version_update` AFTER UPDATE ON `credit_note_allocations`
WHEN OLD.`org_id` IS NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `credit_note_allocations_ledger_version_move` AFTER UPDATE ON `credit_note_allocations`
WHEN OLD.`org_id` IS NOT NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` IN (OLD.`org_id`, NEW.`org_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `credit_note_allocations_ledger_version_delete` AFTER DELETE ON `credit_note_allocations`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = OLD.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_ledger_version_insert` AFTER INSERT ON `contacts`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_ledger_version_update` AFTER UPDATE OF `org_id`, `external_id`, `name`, `hold_state` ON `contacts`
WHEN OLD.`org_id` IS NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_ledger_version_move` AFTER UPDATE OF `org_id`, `external_id`, `name`, `hold_state` ON `contacts`
WHEN OLD.`org_id` IS NOT NEW.`org_id`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` IN (OLD.`org_id`, NEW.`org_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_ledger_version_delete` AFTER DELETE ON `contacts`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = OLD.`org_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `organisations_ledger_version_base_currency` AFTER UPDATE OF `base_currency` ON `organisations`
BEGIN
  UPDATE `organisations` SET `ledger_version` = `ledger_version` + 1 WHERE `id` = NEW.`id`;
END;
