/** Whether the database answers at all (the health check): one trivial statement. */
import { sql } from "drizzle-orm";
import type { Store } from "./db";

export async function storeAnswers(store: Store): Promise<void> {
  await store.db.run(sql`select 1`);
}
