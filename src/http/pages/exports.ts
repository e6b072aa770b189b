/**
 * CSV exports of the organisation page: the risk list (`/orgs/<slug>/export/risk.csv`, with the page's filters)
 * and the aging report (`/orgs/<slug>/export/aging.csv`). Same access as the page: any member; others get 404.
 */
import { type Context, Hono } from "hono";
import { agingCsv, riskCsv } from "../../dashboard/organisation";
import type { Deps } from "../../deps";
import { type AppEnv, orgAccess } from "../auth";
import { parseInput } from "../input";
import { viewInput } from "./organisation";

const csvResponse = (c: Context<AppEnv>, name: string, body: string) =>
  c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${name}"`,
    "cache-control": "no-store",
  });

export function exportRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/orgs/:slug/export/risk.csv", async (c) => {
    const { org } = await orgAccess(c, deps);
    const { page: _p, aging: _a, ...filters } = parseInput(viewInput, c.req.query());
    const { asOf, csv } = await riskCsv(deps, org, filters);
    return csvResponse(c, `${org.slug}-risk-${asOf}.csv`, csv);
  });

  app.get("/orgs/:slug/export/aging.csv", async (c) => {
    const { org } = await orgAccess(c, deps);
    const { asOf, csv } = await agingCsv(deps, org);
    return csvResponse(c, `${org.slug}-aging-${asOf}.csv`, csv);
  });

  return app;
}
