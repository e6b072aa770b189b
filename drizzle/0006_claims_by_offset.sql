DROP INDEX `reminders_invoice_level`;--> statement-breakpoint
-- Claims become unique per (invoice, day offset). Two rows can share an offset only where a policy edit moved a
-- level to another position and it was claimed again: keep the row that best records the send (sent, then
-- needs review, rejected, claimed, failed; the earliest first) and note each row merged away in the audit log.
INSERT INTO `audit_log` (`id`, `org_id`, `contact_id`, `invoice_id`, `at`, `actor`, `action`, `detail`)
SELECT 'aud_m' || lower(hex(randomblob(8))), `org_id`, `contact_id`, `invoice_id`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'migration', 'reminder.merged',
  json_object('reminderId', `id`, 'level', `level`, 'offsetDays', `offset_days`, 'template', `template`,
    'emailId', `email_id`, 'status', `status`, 'messageId', `message_id`, 'sentAt', `sent_at`)
FROM (
  SELECT *, row_number() OVER (
    PARTITION BY `invoice_id`, `offset_days`
    ORDER BY CASE `status` WHEN 'sent' THEN 0 WHEN 'needs_review' THEN 1 WHEN 'rejected' THEN 2 WHEN 'claimed' THEN 3 ELSE 4 END,
      `claimed_at`, `id`
  ) AS `n` FROM `reminders`
) WHERE `n` > 1;--> statement-breakpoint
DELETE FROM `reminders` WHERE `id` IN (
  SELECT `id` FROM (
    SELECT `id`, row_number() OVER (
      PARTITION BY `invoice_id`, `offset_days`
      ORDER BY CASE `status` WHEN 'sent' THEN 0 WHEN 'needs_review' THEN 1 WHEN 'rejected' THEN 2 WHEN 'claimed' THEN 3 ELSE 4 END,
        `claimed_at`, `id`
    ) AS `n` FROM `reminders`
  ) WHERE `n` > 1
);--> statement-breakpoint
CREATE UNIQUE INDEX `reminders_invoice_offset` ON `reminders` (`invoice_id`,`offset_days`);
