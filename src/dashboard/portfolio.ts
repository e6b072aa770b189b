/**
 * The portfolio page's data (`/`, JSON at `/api/orgs`): each organisation the user belongs to with its
 * receivables, DSO, at-risk customers and the movement since the same day last week. Reads only.
 */

import type { Deps } from "../deps";
import { addDays, dateInZone, type IsoDate } from "../model";
import { type OrgAccess, orgsOf } from "../store/accounts";
import { atRiskCount } from "../store/dashboard-scores";
import { dashboardFigures } from "../store/dashboard-summary";

interface PortfolioRow {
  slug: string;
  name: string;
  role: string;
  is_demo: boolean;
  provider: string;
  as_of: IsoDate;
  totals: { currency: string; outstanding: number; overdue: number; customers: number }[];
  dso: number | null;
  at_risk: number;
  /** Change in overdue (base currency, minor units) since the same day last week. */
  overdue_change_week: number;
  base_currency: string;
  /** Change in the number of at-risk customers since the scores of a week before. */
  at_risk_change_week: number;
}

/** The portfolio of the organisations a user belongs to (by name). */
export async function portfolioOf(deps: Deps, userId: string): Promise<PortfolioRow[]> {
  return portfolio(deps, await orgsOf(deps.store.db, userId));
}

async function portfolio(deps: Deps, orgs: OrgAccess[]): Promise<PortfolioRow[]> {
  const { db } = deps.store;
  return Promise.all(
    orgs.map(async ({ org, role }) => {
      const now = deps.clock.now(); // read once: the as-of date and the cache's computed_at agree
      const asOf = dateInZone(now, org.timezone);
      const weekAgo = addDays(asOf, -7);
      // Whole-ledger figures from the summary cache (computed and stored on a miss); scores read live.
      const [figures, riskNow, riskBefore] = await Promise.all([
        dashboardFigures(deps.store, org, asOf, now),
        atRiskCount(db, org.id, asOf),
        atRiskCount(db, org.id, weekAgo),
      ]);
      return {
        slug: org.slug,
        name: org.name,
        role,
        is_demo: org.isDemo,
        provider: org.provider,
        as_of: asOf,
        totals: figures.totals.map((t) => ({
          currency: t.currency,
          outstanding: t.outstandingMinor,
          overdue: t.overdueMinor,
          customers: t.customers,
        })),
        dso: figures.dso.at(-1)?.dso ?? null,
        at_risk: riskNow,
        at_risk_change_week: riskNow - riskBefore,
        base_currency: org.baseCurrency,
        overdue_change_week:
          (figures.overdue[org.baseCurrency] ?? 0) - (figures.overdueWeekAgo[org.baseCurrency] ?? 0),
      };
    }),
  );
}
