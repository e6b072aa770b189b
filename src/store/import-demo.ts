/** The demo organisation's hidden truth: each generated customer's behaviour profile (for evaluating scores). */
import type { Db } from "./db";
import { demoProfiles } from "./schema";

/** Records (or replaces) one demo customer's profile and the date its behaviour changes. */
export async function upsertDemoProfile(
  db: Db,
  row: { contactId: string; orgId: string; profile: string; changesOn: string | null },
): Promise<void> {
  await db
    .insert(demoProfiles)
    .values(row)
    .onConflictDoUpdate({
      target: demoProfiles.contactId,
      set: { profile: row.profile, changesOn: row.changesOn },
    });
}
