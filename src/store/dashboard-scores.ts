/**
 * Scores as the dashboard reads them: plain queries over the stored history (the nightly scoring run), so pages
 * never rescore a ledger. Moved here from the web layer (src/http/queries.ts).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import type { Db } from "./db";
import { scores } from "./schema";

type ScoreRow = typeof scores.$inferSelect;

/** Ids per `in (...)` list: D1 binds at most 100 parameters per statement. */
export const IN_CHUNK = 90;

/** The scores of the latest scoring run on or before `asOf` (one row per customer). */
export async function scoresAsOf(db: Db, orgId: string, asOf: IsoDate): Promise<Map<string, ScoreRow>> {
  const rows = await db
    .select()
    .from(scores)
    .where(
      and(
        eq(scores.orgId, orgId),
        sql`${scores.asOf} = (select max(s2.as_of) from scores s2 where s2.org_id = ${orgId} and s2.as_of <= ${asOf})`,
      ),
    );
  return new Map(rows.map((r) => [r.contactId, r]));
}

/** The newest scoring run on or before `asOf` (null when there is none). */
async function latestRunAsOf(db: Db, orgId: string, asOf: IsoDate): Promise<IsoDate | null> {
  const [r] = await db.all<{ asOf: IsoDate | null }>(
    sql`select max(as_of) as asOf from scores where org_id = ${orgId} and as_of <= ${asOf}`,
  );
  return r?.asOf ?? null;
}

type RiskRow = Pick<ScoreRow, "contactId" | "asOf" | "score" | "grade" | "trend" | "trendChangeDays">;

/**
 * The same rows as scoresAsOf without the reasons and the other detail: enough to sort, filter and count the
 * customers of a large organisation. Fetch the reasons of the rows shown with `reasonsOf`.
 */
export async function riskAsOf(db: Db, orgId: string, asOf: IsoDate): Promise<Map<string, RiskRow>> {
  const run = await latestRunAsOf(db, orgId, asOf);
  if (run === null) return new Map();
  const rows = await db.all<RiskRow>(
    sql`select contact_id as contactId, as_of as asOf, score, grade, trend, trend_change_days as trendChangeDays
        from scores
        where org_id = ${orgId} and as_of = ${run}`,
  );
  return new Map(rows.map((r) => [r.contactId, r]));
}

/** How many customers the scores of the latest run on or before `asOf` put at risk (see atRisk). */
export async function atRiskCount(db: Db, orgId: string, asOf: IsoDate): Promise<number> {
  const run = await latestRunAsOf(db, orgId, asOf);
  if (run === null) return 0;
  const [r] = await db.all<{ n: number }>(
    sql`select count(*) as n from scores where org_id = ${orgId} and as_of = ${run}
          and (grade in ('D', 'E') or trend = 'deteriorating')`,
  );
  return r?.n ?? 0;
}

/** The reasons of some customers' scores of one run (as_of), by contact id. */
export async function reasonsOf(
  db: Db,
  orgId: string,
  asOf: IsoDate,
  contactIds: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let k = 0; k < contactIds.length; k += IN_CHUNK) {
    const ids = contactIds.slice(k, k + IN_CHUNK);
    const rows = await db
      .select({ contactId: scores.contactId, reasons: scores.reasons })
      .from(scores)
      .where(and(eq(scores.orgId, orgId), eq(scores.asOf, asOf), inArray(scores.contactId, ids)));
    for (const r of rows) out.set(r.contactId, r.reasons);
  }
  return out;
}

/** One customer's score of the latest run on or before `asOf`. */
export async function scoreOf(
  db: Db,
  orgId: string,
  contactId: string,
  asOf: IsoDate,
): Promise<ScoreRow | undefined> {
  const run = await latestRunAsOf(db, orgId, asOf);
  if (run === null) return undefined;
  const [r] = await db
    .select()
    .from(scores)
    .where(and(eq(scores.contactId, contactId), eq(scores.asOf, run), eq(scores.orgId, orgId)))
    .limit(1);
  return r;
}

/** A customer is at risk when graded D or E, or deteriorating. */
export const atRisk = (s: Pick<ScoreRow, "grade" | "trend"> | undefined) =>
  Boolean(s && (s.grade === "D" || s.grade === "E" || s.trend === "deteriorating"));
