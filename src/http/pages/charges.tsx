/**
 * The late-payment charges page (`/orgs/<slug>/charges`, JSON at `/api/orgs/<slug>/charges`): charges a run
 * proposed, waiting for a person, and the latest decided ones with what became of each in the ledger. Approve
 * (written to Xero / QuickBooks as a new sales invoice, exactly once; recorded only for a CSV ledger) and reject
 * are POST forms for bookkeepers and owners; viewers see no buttons.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { chargeAction, chargesView } from "../../dashboard/charges";
import type { Deps } from "../../deps";
import type { Organisation } from "../../store/orgs";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { PostButton, signed } from "../components";
import { bodyFields, memberOf, parseInput, text } from "../input";
import { Layout, OrgNav } from "../layout";

const actionParam = z.enum(["approve", "reject"], { error: "Not found" });
const actionInput = z.object({
  charge: text.refine((v) => /^chg_[0-9a-z]{1,40}$/.test(v), { message: "Name the charge (its id)." }),
});

/** `?done=` carries only these codes, never text. */
const DONE: Record<string, string> = {
  written: "Charge approved and written to the ledger as a new invoice.",
  recorded:
    "Charge approved and recorded in Creditpulse (a CSV ledger: nothing is written; add it to your books).",
  failed: "Charge approved; writing it to the ledger failed. Creditpulse retries on the next run.",
  rejected: "Charge rejected; nothing was written to the ledger.",
};

type View = Awaited<ReturnType<typeof chargesView>>;

const STATUS_WORDS = (org: Organisation, r: View["decided"][number]) =>
  r.status === "written"
    ? `written to ${org.provider === "xero" ? "Xero" : "QuickBooks"} as ${r.ledger_number ?? r.reference}`
    : r.status === "recorded"
      ? "recorded in Creditpulse (CSV ledger)"
      : r.status === "failed"
        ? `ledger write failed (${r.error ?? "unknown"}); retried by the next run`
        : r.status === "approved"
          ? "approved; being written"
          : r.status;

function ChargeTable(props: {
  org: Organisation;
  rows: View["proposed"];
  canAct: boolean;
  proposed: boolean;
}) {
  const { org } = props;
  if (props.rows.length === 0) return <p class="muted">None.</p>;
  return (
    <div class="table-wrap">
      <table data-testid={props.proposed ? "charges-proposed" : "charges-decided"}>
        <thead>
          <tr>
            <th scope="col">Customer</th>
            <th scope="col">Invoice</th>
            <th scope="col">Charge</th>
            <th scope="col" class="num">
              Amount
            </th>
            <th scope="col">{props.proposed ? "Decide" : "Status"}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr data-charge={r.id}>
              <td>
                <a href={`/orgs/${org.slug}/customers/${encodeURIComponent(r.customer_id)}`}>
                  {r.customer_name}
                </a>
              </td>
              <td>{r.invoice_number}</td>
              <td>
                {r.kind}: {r.detail}
              </td>
              <td class="num">{r.amount_formatted}</td>
              <td>
                {props.proposed ? (
                  props.canAct ? (
                    <>
                      <ActionForm org={org} id={r.id} action="approve" label="Approve" />
                      <ActionForm org={org} id={r.id} action="reject" label="Reject" secondary />
                    </>
                  ) : (
                    <span class="muted">waiting for approval</span>
                  )
                ) : (
                  <span class={r.status === "failed" ? "bad" : "muted"}>{STATUS_WORDS(org, r)}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ActionForm(props: {
  org: Organisation;
  id: string;
  action: string;
  label: string;
  secondary?: boolean;
}) {
  const { org, id, action, ...button } = props;
  return <PostButton action={`/orgs/${org.slug}/charges/${action}`} name="charge" value={id} {...button} />;
}

export function chargesRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs/:slug/charges", async (c) => {
    const { org } = await orgAccess(c, deps);
    return c.json(await chargesView(deps, org));
  });

  app.get("/orgs/:slug/charges", async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    const { org } = access;
    const v = await chargesView(deps, org);
    const canAct = access.role !== "viewer";
    const done = DONE[c.req.query("done") ?? ""];
    return c.html(
      <Layout title={`Late-payment charges · ${org.name}`} {...signed(c)}>
        <h1>{org.name}: late-payment charges</h1>
        <OrgNav slug={org.slug} current="holds" />
        {done ? (
          <p class="notice" role="status">
            {done}
          </p>
        ) : null}
        <p class="muted">
          {v.enabled ? "Charges are on" : "Charges are off"} (
          <a href={`/orgs/${org.slug}/settings#charges`}>settings</a>
          ). Runs propose them; nothing reaches the ledger until someone approves.{" "}
          {org.provider === "csv"
            ? "This is a CSV ledger: approved charges are recorded in Creditpulse only, nothing is written anywhere."
            : `Approved charges become a new sales invoice in ${org.provider === "xero" ? "Xero" : "QuickBooks"} naming the original.`}
        </p>
        <h2>Proposed: waiting for approval</h2>
        <ChargeTable org={org} rows={v.proposed} canAct={canAct} proposed />
        <h2>Decided</h2>
        <ChargeTable org={org} rows={v.decided} canAct={false} proposed={false} />
      </Layout>,
    );
  });

  for (const prefix of ["", "/api"])
    app.post(`${prefix}/orgs/:slug/charges/:action`, async (c) => {
      const action = parseInput(actionParam, c.req.param("action"), { code: "not_found", status: 404 });
      const access = await orgAccess(c, deps);
      requireRole(access, "bookkeeper");
      const input = parseInput(actionInput, await bodyFields(c));
      const res = await chargeAction(deps, access.org, input.charge, action, `user:${memberOf(c).id}`);
      if (prefix) return c.json(res);
      return c.redirect(`/orgs/${access.org.slug}/charges?done=${res.status}`, 303);
    });

  return app;
}
