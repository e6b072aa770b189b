/**
 * The portfolio page (`/`, JSON at `/api/orgs`): the organisations the user belongs to, with their receivables,
 * DSO and at-risk customers, and the movement since the same day last week.
 */
import { Hono } from "hono";
import { checklistFor } from "../../dashboard/onboarding";
import { portfolioOf } from "../../dashboard/portfolio";
import type { Deps } from "../../deps";
import { type AppEnv, currentUser } from "../auth";
import { money, signed } from "../components";
import { Layout } from "../layout";
import { CHECKLIST_CSS, ChecklistPanel } from "./checklist";

export function portfolioRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs", async (c) => c.json({ organisations: await portfolioOf(deps, currentUser(c).id) }));

  app.get("/", async (c) => {
    const user = currentUser(c);
    const rows = await portfolioOf(deps, user.id);
    const firstOwned =
      rows.find((r) => r.role === "owner" && !r.is_demo) ?? rows.find((r) => r.role === "owner");
    const checklist = await checklistFor(deps, user.id, firstOwned?.slug);
    const signedMoney = (minor: number, cur: string) =>
      (minor > 0 ? "+" : minor < 0 ? "−" : "±") + money(Math.abs(minor), cur);
    return c.html(
      <Layout
        title="Organisations"
        {...signed(c)}
        head={<style dangerouslySetInnerHTML={{ __html: CHECKLIST_CSS }} />}
      >
        <h1>Organisations</h1>
        {checklist.show ? <ChecklistPanel checklist={checklist} /> : null}
        {rows.length === 0 ? (
          <p>
            {checklist.show
              ? "No organisation yet: connect a ledger or import a file to start."
              : "You do not belong to any organisation yet. Ask an owner to invite you."}
          </p>
        ) : (
          <div class="table-wrap">
            <table class="stack">
              <caption class="muted" style="text-align:left">
                Receivables across your organisations; movement compares with the same day last week
              </caption>
              <thead>
                <tr>
                  <th scope="col">Organisation</th>
                  <th scope="col" class="hide-sm">
                    Source
                  </th>
                  <th scope="col" class="num">
                    Outstanding
                  </th>
                  <th scope="col" class="num">
                    Overdue
                  </th>
                  <th scope="col" class="num">
                    Overdue vs last week
                  </th>
                  <th scope="col" class="num">
                    DSO
                  </th>
                  <th scope="col" class="num">
                    At-risk customers
                  </th>
                  <th scope="col" class="num hide-sm">
                    Customers owing
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr data-org={r.slug}>
                    <td class="name">
                      <a href={`/orgs/${r.slug}`}>{r.name}</a>{" "}
                      {r.is_demo ? <span class="tag">demo</span> : null}
                    </td>
                    <td class="hide-sm" data-label="Source">
                      {r.provider}
                    </td>
                    <td class="num" data-label="Outstanding">
                      {r.totals.map((t) => money(t.outstanding, t.currency)).join(" + ") || "–"}
                    </td>
                    <td class="num" data-label="Overdue">
                      {r.totals.map((t) => money(t.overdue, t.currency)).join(" + ") || "–"}
                    </td>
                    <td class={r.overdue_change_week > 0 ? "num bad" : "num"} data-label="vs last week">
                      {signedMoney(r.overdue_change_week, r.base_currency)}
                    </td>
                    <td class="num" data-label="DSO">
                      {r.dso === null ? "–" : `${r.dso} days`}
                    </td>
                    <td class="num" data-label="At risk">
                      <a href={`/orgs/${r.slug}?risk=1`}>{r.at_risk}</a>
                      {r.at_risk_change_week !== 0 ? (
                        <span class={r.at_risk_change_week > 0 ? "bad" : "ok"}>
                          {" "}
                          ({r.at_risk_change_week > 0 ? "+" : ""}
                          {r.at_risk_change_week})
                        </span>
                      ) : null}
                    </td>
                    <td class="num hide-sm" data-label="Customers owing">
                      {r.totals.reduce((n, t) => n + t.customers, 0)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Layout>,
    );
  });

  return app;
}
