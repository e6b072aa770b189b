/**
 * CSV files uploaded over HTTP and their outcome (`csv_uploads`). The import itself writes through the same
 * store functions as `creditpulse import`; this only keeps the upload's status for `GET .../imports/:id`.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./db";
import { newId } from "./ids";
import { csvUploads } from "./schema";

export type CsvUpload = typeof csvUploads.$inferSelect;
export type CsvUploadFiles = CsvUpload["files"];

/** An id for an upload about to be stored (its files are named after it before the row is written). */
export const newUploadId = () => newId("upl");

export async function createCsvUpload(
  db: Db,
  u: {
    id: string;
    orgId: string;
    files: CsvUploadFiles;
    options: Record<string, unknown>;
    requestedBy: string;
  },
  now: number,
): Promise<CsvUpload> {
  const [row] = await db
    .insert(csvUploads)
    .values({ status: "queued", ...u, createdAt: now, updatedAt: now })
    .returning();
  return row!;
}

export async function findCsvUpload(db: Db, orgId: string, id: string): Promise<CsvUpload | undefined> {
  const [row] = await db
    .select()
    .from(csvUploads)
    .where(and(eq(csvUploads.id, id), eq(csvUploads.orgId, orgId)));
  return row;
}

export async function recentCsvUploads(db: Db, orgId: string, limit = 20): Promise<CsvUpload[]> {
  return db
    .select()
    .from(csvUploads)
    .where(eq(csvUploads.orgId, orgId))
    .orderBy(desc(csvUploads.createdAt))
    .limit(limit);
}

/**
 * Takes an upload for importing: queued (or running, when a consumer died mid-import and the message is being
 * retried: a re-import of the same files converges). Null when it already finished (a duplicate delivery).
 */
export async function startCsvUpload(db: Db, id: string, now: number): Promise<CsvUpload | null> {
  const [row] = await db
    .update(csvUploads)
    .set({ status: "running", attempts: sql`${csvUploads.attempts} + 1`, updatedAt: now })
    .where(and(eq(csvUploads.id, id), inArray(csvUploads.status, ["queued", "running"])))
    .returning();
  return row ?? null;
}

export async function finishCsvUpload(
  db: Db,
  id: string,
  status: "done" | "failed",
  result: Record<string, unknown>,
  now: number,
): Promise<void> {
  await db.update(csvUploads).set({ status, result, updatedAt: now }).where(eq(csvUploads.id, id));
}
