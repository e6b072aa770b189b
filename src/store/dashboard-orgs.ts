/**
 * An organisation as the dashboard reads and changes it: lookup by id, its timezone, its ledger connections.
 * Moved here from the web layer (src/http/queries.ts).
 */
import { eq } from "drizzle-orm";
import type { Db } from "./db";
import { connections, organisations } from "./schema";

export async function setOrgTimezone(db: Db, orgId: string, timezone: string, now: number) {
  await db.update(organisations).set({ timezone, updatedAt: now }).where(eq(organisations.id, orgId));
}

type ConnectionRow = typeof connections.$inferSelect;

export async function connectionsOf(db: Db, orgId: string): Promise<ConnectionRow[]> {
  return db.select().from(connections).where(eq(connections.orgId, orgId));
}
