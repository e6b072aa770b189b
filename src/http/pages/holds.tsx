/**
 * The "Credit holds" view of an organisation (`/orgs/<slug>/holds`, JSON at `/api/orgs/<slug>/holds`): holds
 * proposed by a run and waiting for a person, customers on hold, recent releases, each with its reason and what
 * the customer has overdue; customers due a hold that no run can propose (needs attention); and the
 * organisation's hold mode. Approve, dismiss, place by hand and release by hand are POST forms (bookkeeper or
 * owner; CSRF checked by authMiddleware), audited with who did it and written back to the ledger.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { holdAction, holdsView } from "../../dashboard/holds";
import { saveHoldMode } from "../../dashboard/settings-changes";
import type { Deps } from "../../deps";
import { formatDate, formatMoneyList } from "../../format";
import { dateInZone } from "../../model";
import { HOLD_ACTIONS, type ManualHoldAction } from "../../reminders/hold-actions";
import type { OrgAccess } from "../../store/accounts";
import type { Organisation } from "../../store/orgs";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { PostButton, signed } from "../components";
import {
  apiFormError,
  errorsOf,
  Field,
  type FormFailure,
  FormProblem,
  fieldAttrs,
  isApi,
  parseForm,
  typed,
} from "../form";
import { bodyFields, memberOf, parseInput, text } from "../input";
import { Layout, OrgNav } from "../layout";

const modeInput = z.object({
  mode: z.enum(["approve", "automatic"], { error: 'Credit hold mode must be "approve" or "automatic".' }),
});

const actionParam = z.enum(HOLD_ACTIONS, { error: "Not found" });

const actionInput = z.object({
  customer: text.transform((v, ctx) => {
    const customer = v.trim();
    if (!customer) {
      ctx.addIssue({ code: "custom", message: "Name the customer (its customer id)." });
      return z.NEVER;
    }
    return customer;
  }),
  reason: text.transform((v) => v || null),
});

/** `?done=` carries only one of these codes (and a write-back code), never text. */
const DONE: Record<string, string> = {
  approve: "Credit hold approved: the account is on hold.",
  dismiss: "Proposed hold dismissed; nothing was written to the ledger.",
  place: "The customer is on credit hold.",
  release: "Credit hold released.",
  mode_approve: "Holds are proposed for approval.",
  mode_automatic: "Holds are placed automatically.",
};

function doneText(c: Context, org: Organisation): string | null {
  const text = DONE[c.req.query("done") ?? ""];
  if (!text) return null;
  const wb = c.req.query("wb");
  const ledger = org.provider === "xero" ? "Xero" : "QuickBooks";
  return wb === "written"
    ? `${text} Written to ${ledger}.`
    : wb === "failed"
      ? `${text} Writing it to the ledger failed; Creditpulse retries on the next run.`
      : wb === "not_applicable"
        ? `${text} Kept in Creditpulse (this ledger has no credit-hold field).`
        : text;
}

type View = Awaited<ReturnType<typeof holdsView>>;
type Entry = View["proposed"][number];

function HoldTable(props: {
  org: Organisation;
  rows: Entry[];
  kind: "proposed" | "active" | "released";
  canAct: boolean;
}) {
  const { org } = props;
  const when = (iso: string) => formatDate(dateInZone(Date.parse(iso), org.timezone), org.locale);
  const money = (r: Entry) =>
    formatMoneyList(
      r.overdue.map((o) => ({ minor: o.amount, currency: o.currency })),
      org.locale,
      "nothing",
    );
  if (props.rows.length === 0) return <p class="muted">None.</p>;
  return (
    <div class="table-wrap">
      <table data-testid={`holds-${props.kind}`} class="stack">
        <thead>
          <tr>
            <th scope="col">Customer</th>
            <th scope="col">
              {props.kind === "proposed" ? "Proposed" : props.kind === "active" ? "Placed" : "Released"}
            </th>
            <th scope="col">Reason</th>
            <th scope="col" class="num">
              Overdue now
            </th>
            <th scope="col">{props.kind === "proposed" ? "Decide" : "Ledger"}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr data-customer={r.customer_id}>
              <td class="name">
                <a href={`/orgs/${org.slug}/customers/${encodeURIComponent(r.customer_id)}`}>{r.name}</a>
              </td>
              <td
                data-label={
                  props.kind === "proposed" ? "Proposed" : props.kind === "active" ? "Placed" : "Released"
                }
              >
                {when(r.at)}
                {r.by === "reminders" ? null : (
                  <span class="muted">
                    {" "}
                    (
                    {/^(placed|released) by hand/.test(r.reason)
                      ? "by hand"
                      : r.by === "automatic"
                        ? "automatic"
                        : "approved"}
                    )
                  </span>
                )}
              </td>
              <td class="full" data-label="Reason">
                {r.reason}
              </td>
              <td class="num" data-label="Overdue now">
                {money(r)}
              </td>
              <td class="full">
                {props.kind === "proposed" ? (
                  props.canAct ? (
                    <>
                      <ActionForm org={org} customer={r.customer_id} action="approve" label="Approve hold" />
                      <ActionForm
                        org={org}
                        customer={r.customer_id}
                        action="dismiss"
                        label="Dismiss"
                        secondary
                      />
                    </>
                  ) : (
                    <span class="muted">waiting for approval</span>
                  )
                ) : (
                  <>
                    <span class={r.writeback === "failed" ? "bad" : "muted"}>
                      {r.writeback === "written"
                        ? `written to ${org.provider === "xero" ? "Xero" : "QuickBooks"}`
                        : r.writeback === "not_applicable"
                          ? "kept in Creditpulse"
                          : r.writeback === "failed"
                            ? "write-back failed; retried by the next run"
                            : (r.writeback ?? "")}
                    </span>
                    {props.kind === "active" && props.canAct ? (
                      <ActionForm
                        org={org}
                        customer={r.customer_id}
                        action="release"
                        label="Release"
                        secondary
                      />
                    ) : null}
                  </>
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
  customer: string;
  action: ManualHoldAction;
  label: string;
  secondary?: boolean;
}) {
  const { org, customer, action, ...button } = props;
  return (
    <PostButton action={`/orgs/${org.slug}/holds/${action}`} name="customer" value={customer} {...button} />
  );
}

/** The credit holds page; `failure` re-shows the mode form posted with a problem (422, the choice kept). */
async function holdsPageView(c: Context<AppEnv>, deps: Deps, access: OrgAccess, failure?: FormFailure) {
  const { org } = access;
  const v = await holdsView(deps, org);
  const canAct = access.role !== "viewer";
  const done = doneText(c, org);
  return c.html(
    <Layout title={`Credit holds · ${org.name}`} {...signed(c)}>
      <h1>{org.name}: credit holds</h1>
      <OrgNav slug={org.slug} current="holds" />
      {done ? (
        <p class="notice" role="status">
          {done}
        </p>
      ) : null}
      <p class="muted">
        Mode:{" "}
        <strong data-testid="hold-mode">{v.mode === "approve" ? "approve each hold" : "automatic"}</strong>. A
        hold is only proposed (or, in automatic mode, placed) {v.notice_days} days after the customer was sent
        the final notice; a customer who cannot be emailed is only held by hand.
      </p>
      {canAct ? (
        <form method="post" action={`/orgs/${org.slug}/holds/mode`} class="inline">
          <FormProblem failure={failure} form="mode" />
          <Field id="hold-mode-select" label="Credit holds" error={errorsOf(failure, "mode").mode}>
            <select
              name="mode"
              id="hold-mode-select"
              {...fieldAttrs("hold-mode-select", errorsOf(failure, "mode").mode)}
            >
              {failure?.form === "mode" &&
              !["approve", "automatic"].includes(typed(failure, "mode", "mode", "")) ? (
                <option value={typed(failure, "mode", "mode", "")} selected>
                  {typed(failure, "mode", "mode", "").slice(0, 40)} (not a mode)
                </option>
              ) : null}
              <option value="approve" selected={v.mode === "approve"}>
                are proposed; a person approves (recommended)
              </option>
              <option value="automatic" selected={v.mode === "automatic"}>
                are placed automatically
              </option>
            </select>
          </Field>
          <button type="submit" class="secondary">
            Save
          </button>
        </form>
      ) : null}
      <p>
        <a href={`/orgs/${org.slug}/charges`}>Late-payment charges</a> are proposed and approved on their own
        page.
      </p>
      <h2>Proposed: waiting for approval</h2>
      <HoldTable org={org} rows={v.proposed} kind="proposed" canAct={canAct} />
      <h2>On hold</h2>
      <HoldTable org={org} rows={v.active} kind="active" canAct={canAct} />
      <h2>Needs attention</h2>
      {v.needs_attention.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul data-testid="holds-attention">
          {v.needs_attention.map((a) => (
            <li>
              <a href={`/orgs/${org.slug}/customers/${encodeURIComponent(a.customer_id)}`}>
                {a.customer_name}
              </a>
              : {a.reason}
              {canAct ? (
                <ActionForm
                  org={org}
                  customer={a.customer_id}
                  action="place"
                  label="Place hold by hand"
                  secondary
                />
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <h2>Released</h2>
      <HoldTable org={org} rows={v.released} kind="released" canAct={canAct} />
      {canAct ? (
        <section>
          <h2>Place a hold by hand</h2>
          <form method="post" action={`/orgs/${org.slug}/holds/place`} class="inline">
            <label>
              Customer id <input name="customer" required />
            </label>
            <label>
              Reason <input name="reason" />
            </label>
            <button type="submit">Place hold</button>
          </form>
        </section>
      ) : null}
    </Layout>,
    failure ? 422 : 200,
  );
}

export function holdsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs/:slug/holds", async (c) => {
    const { org } = await orgAccess(c, deps);
    return c.json(await holdsView(deps, org));
  });

  app.get("/orgs/:slug/holds", async (c) => holdsPageView(c, deps, await orgAccess(c, deps)));

  const modeHandler = async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const fields = (await bodyFields(c)) as Record<string, unknown>;
    const parsed = parseForm(modeInput, fields);
    if (!parsed.ok) {
      if (isApi(c)) return apiFormError(c, parsed.errors);
      return holdsPageView(c, deps, access, { form: "mode", values: fields, errors: parsed.errors });
    }
    const { mode } = parsed.data;
    await saveHoldMode(deps, access.org, mode, memberOf(c));
    if (c.req.path.startsWith("/api/")) return c.json({ ok: true, mode });
    return c.redirect(`/orgs/${access.org.slug}/holds?done=mode_${mode}`, 303);
  };
  app.post("/orgs/:slug/holds/mode", modeHandler);
  app.post("/api/orgs/:slug/holds/mode", modeHandler);

  const actionHandler = async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const action = parseInput(actionParam, c.req.param("action"), { code: "not_found", status: 404 });
    const input = parseInput(actionInput, await bodyFields(c));
    const r = await holdAction(deps, access.org, action, input, memberOf(c));
    if (c.req.path.startsWith("/api/")) return c.json(r);
    const wb = r.writeback && action !== "dismiss" ? `&wb=${r.writeback}` : "";
    return c.redirect(`/orgs/${access.org.slug}/holds?done=${action}${wb}`, 303);
  };
  app.post("/orgs/:slug/holds/:action", actionHandler);
  app.post("/api/orgs/:slug/holds/:action", actionHandler);

  return app;
}
