/**
 * The activity log (every customer's timeline): append-only audit entries, and the action names the
 * customers' page and the runs that follow it up write.
 */
import type { Db } from "./db";
import { newId } from "./ids";
import { auditLog } from "./schema";

export interface AuditEntry {
  orgId: string;
  contactId?: string | null;
  invoiceId?: string | null;
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
}

/** Appends to the audit log. Entries are never updated or deleted. */
export async function audit(db: Db, entry: AuditEntry, at: number): Promise<void> {
  await db.insert(auditLog).values({
    id: newId("aud"),
    orgId: entry.orgId,
    contactId: entry.contactId ?? null,
    invoiceId: entry.invoiceId ?? null,
    actor: entry.actor,
    action: entry.action,
    detail: entry.detail ?? null,
    at,
  });
}

/** Audit actions written by the customers' page and the runs that follow it up. */
export const CUSTOMER_ACTIONS = {
  paid: "customer.paid_reported",
  promised: "customer.promised",
  disputed: "customer.disputed",
  addressChanged: "customer.reminder_address_changed",
  optedOut: "customer.opted_out",
  promiseBroken: "customer.promise_broken",
  ownerNotified: "customer.owner_notified",
  ownerNoticeSkipped: "customer.owner_notice_skipped",
  ownerNoticeFailed: "customer.owner_notice_failed",
  disputeResolved: "invoice.dispute_resolved",
} as const;

export const CUSTOMER_ACTOR = "customer";
