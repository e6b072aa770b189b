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
