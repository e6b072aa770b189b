/**
 * Who makes a change from the dashboard: the signed-in member. Every change lands in the audit log as
 * `user:<id>`, with the member's email in the detail, written in the same unit of work as the change.
 */
import { audit } from "../store/audit";
import type { Db } from "../store/db";

export interface Member {
  id: string;
  email: string;
}

/** Appends the audit row of a member's change (call it inside the change's `store.atomically`). */
export async function auditMemberChange(
  db: Db,
  member: Member,
  entry: { orgId: string; contactId?: string; action: string; detail?: Record<string, unknown> },
  now: number,
): Promise<void> {
  await audit(
    db,
    {
      orgId: entry.orgId,
      ...(entry.contactId ? { contactId: entry.contactId } : {}),
      actor: `user:${member.id}`,
      action: entry.action,
      detail: { ...entry.detail, by: member.email },
    },
    now,
  );
}
