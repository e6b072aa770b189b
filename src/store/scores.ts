/**
 * Scores: the monitor's result per customer and day (a re-run of the same day replaces that day's rows), the
 * latest score or grade per customer as of a date, and the one-alert-per-episode record of deteriorating
 * customers (kept in the audit log).
 */
import { and, desc, eq, inArray, lte, sql } from "drizzle-orm";
import type { CustomerScore, Episode } from "../model/monitor";
import { audit } from "./audit";
import type { Db } from "./db";
import { auditLog, scores } from "./schema";

/** Rows per insert: 11 columns x 9 rows stays under D1's 100 bound parameters per statement. */
const SCORE_ROWS_PER_INSERT = 9;

/** The columns of one stored score, in placeholder order. */
const SCORE_COLUMNS = [
  "orgId",
  "contactId",
  "asOf",
  "score",
  "grade",
  "lateProbability",
  "trend",
  "trendChangeDays",
  "trendStartedOn",
  "reasons",
  "computedAt",
] as const;

/**
 * The upsert of `rows` scores, prepared once per database and row count and reused for every chunk (building
 * a drizzle query per chunk of nine cost more than storing the rows).
 */
function scoreUpsert(db: Db, rows: number) {
  let byCount = upserts.get(db);
  if (!byCount) {
    byCount = new Map();
    upserts.set(db, byCount);
  }
  let prepared = byCount.get(rows);
  if (!prepared) {
    const fromNew = (column: string) => sql.raw(`excluded.${column}`);
    const values = Array.from({ length: rows }, (_, r) =>
      Object.fromEntries(SCORE_COLUMNS.map((c) => [c, sql.placeholder(`${c}${r}`)])),
    ) as unknown as (typeof scores.$inferInsert)[];
    prepared = db
      .insert(scores)
      .values(values)
      .onConflictDoUpdate({
        target: [scores.contactId, scores.asOf],
        set: {
          orgId: fromNew("org_id"),
          score: fromNew("score"),
          grade: fromNew("grade"),
          lateProbability: fromNew("late_probability"),
          trend: fromNew("trend"),
          trendChangeDays: fromNew("trend_change_days"),
          trendStartedOn: fromNew("trend_started_on"),
          reasons: fromNew("reasons"),
          computedAt: fromNew("computed_at"),
        },
      })
      .prepare();
    byCount.set(rows, prepared);
  }
  return prepared;
}

type ScoreUpsert = { run(values: Record<string, unknown>): unknown };
const upserts = new WeakMap<Db, Map<number, ScoreUpsert>>();

/** Stores one result per customer for `asOf` (a re-run of the same day replaces that day's rows). */
export async function saveScores(db: Db, orgId: string, asOf: string, results: CustomerScore[], now: number) {
  for (let i = 0; i < results.length; i += SCORE_ROWS_PER_INSERT) {
    const chunk = results.slice(i, i + SCORE_ROWS_PER_INSERT);
    const values: Record<string, unknown> = {};
    chunk.forEach((r, k) => {
      values[`orgId${k}`] = orgId;
      values[`contactId${k}`] = r.contact_id;
      values[`asOf${k}`] = asOf;
      values[`score${k}`] = r.score;
      values[`grade${k}`] = r.grade;
      values[`lateProbability${k}`] = r.late_probability;
      values[`trend${k}`] = r.trend;
      values[`trendChangeDays${k}`] = r.trend_change_days;
      values[`trendStartedOn${k}`] = r.trend_started_on;
      values[`reasons${k}`] = r.reasons;
      values[`computedAt${k}`] = now;
    });
    await scoreUpsert(db, chunk.length).run(values);
  }
}

/** The latest stored score of each customer on or before `asOf` (for movement and for the reminder policy). */
export async function latestScores(db: Db, orgId: string, asOf: string) {
  const rows = await db
    .select()
    .from(scores)
    .where(and(eq(scores.orgId, orgId), lte(scores.asOf, asOf)))
    .orderBy(desc(scores.asOf));
  const byContact = new Map<string, typeof scores.$inferSelect>();
  for (const r of rows) if (!byContact.has(r.contactId)) byContact.set(r.contactId, r);
  return byContact;
}

export const DETERIORATION_ALERT = "monitor.deteriorating";
const ALERT_IDS_PER_QUERY = 90;

/** The last deterioration alert raised for each of these customers, from the audit log. */
export async function lastAlerts(db: Db, orgId: string, contactIds: string[]): Promise<Map<string, Episode>> {
  const out = new Map<string, Episode>();
  if (contactIds.length === 0) return out;
  const rows: { contactId: string | null; detail: unknown; at: number }[] = [];
  // D1 binds at most 100 parameters per statement: ask for the customers in chunks.
  for (let i = 0; i < contactIds.length; i += ALERT_IDS_PER_QUERY)
    rows.push(
      ...(await db
        .select({ contactId: auditLog.contactId, detail: auditLog.detail, at: auditLog.at })
        .from(auditLog)
        .where(
          and(
            eq(auditLog.orgId, orgId),
            eq(auditLog.action, DETERIORATION_ALERT),
            inArray(auditLog.contactId, contactIds.slice(i, i + ALERT_IDS_PER_QUERY)),
          ),
        )),
    );
  rows.sort((a, b) => b.at - a.at);
  for (const r of rows) {
    if (!r.contactId || out.has(r.contactId)) continue;
    const d = (r.detail ?? {}) as { startedOn?: string | null; asOf?: string };
    out.set(r.contactId, { startedOn: d.startedOn ?? null, alertedOn: d.asOf ?? "" });
  }
  return out;
}

export async function recordAlert(db: Db, orgId: string, r: CustomerScore, asOf: string, now: number) {
  await audit(
    db,
    {
      orgId,
      contactId: r.contact_id,
      actor: "monitor",
      action: DETERIORATION_ALERT,
      detail: {
        asOf,
        startedOn: r.trend_onset_on ?? r.trend_started_on,
        changeDays: r.trend_change_days,
        reasons: r.reasons,
      },
    },
    now,
  );
}

/** Latest monitor grade per contact on or before `asOf` (none when the monitor has not run). */
export async function latestGrades(
  db: Db,
  orgId: string,
  asOf: string,
  contactId?: string,
): Promise<Map<string, string>> {
  const rows = (await db
    .select({ contactId: scores.contactId, grade: scores.grade })
    .from(scores)
    .where(
      and(
        eq(scores.orgId, orgId),
        contactId ? eq(scores.contactId, contactId) : undefined,
        sql`${scores.asOf} = (select max(s2.as_of) from scores s2 where s2.contact_id = ${scores.contactId} and s2.as_of <= ${asOf})`,
      ),
    )) as { contactId: string; grade: string }[];
  return new Map(rows.map((r) => [r.contactId, r.grade]));
}
