/**
 * The "Credit holds" view of an organisation (`/orgs/<slug>/holds`, JSON at `/api/orgs/<slug>/holds`): holds
 * proposed by a run and waiting for a person, customers on hold, recent releases, each with its reason and what
 * the customer has overdue; customers due a hold that no run can propose (needs attention); and the
 * organisation's hold mode. Approve, dismiss, place by hand and release by hand are POST forms (bookkeeper or
 * owner; CSRF checked by authMiddleware), audited with who did it and written back to the ledger.
 */
import { type Context, Hono } from "hono";
import type { Deps } from "../../deps";
import { UserError } from "../../errors";
import { formatDate, formatMoneyList } from "../../format";
import { dateInZone } from "../../model";
import {
  actOnHold,
  HOLD_ACTIONS,
  holdActionDeps,
  holdEntryJson,
  type ManualHoldAction,
} from "../../reminders/hold-actions";
import { runOutlook } from "../../reminders/outlook";
import { audit } from "../../store/audit";
import { contactForHold, listHolds } from "../../store/holds";
import type { Organisation } from "../../store/orgs";
import { loadReminderSettings, saveReminderSettings } from "../../store/reminders";
import { type AppEnv, currentUser, orgAccess, requireRole } from "../auth";
import { Layout, OrgNav } from "../layout";

const str = (v: unknown) => (typeof v === "string" ? v : "");

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

export async function holdsView(deps: Deps, org: Organisation) {
  const now = deps.clock.now();
  const [lists, settings, outlook] = await Promise.all([
    listHolds(deps.store.db, org.id, dateInZone(now, org.timezone)),
    loadReminderSettings(deps.store.db, org),
    runOutlook(deps, org, now),
  ]);
  return {
    org: { slug: org.slug, name: org.name },
    mode: settings.holdMode ?? "approve",
    notice_days: deps.config.HOLD_NOTICE_DAYS,
    proposed: lists.proposed.map(holdEntryJson),
    active: lists.active.map(holdEntryJson),
    released: lists.released.map(holdEntryJson),
    needs_attention: outlook.attention,
  };
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
      <table data-testid={`holds-${props.kind}`}>
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
              <td>
                <a href={`/orgs/${org.slug}/customers/${encodeURIComponent(r.customer_id)}`}>{r.name}</a>
              </td>
              <td>
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
              <td>{r.reason}</td>
              <td class="num">{money(r)}</td>
              <td>
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
  return (
    <form method="post" action={`/orgs/${props.org.slug}/holds/${props.action}`} class="inline">
      <input type="hidden" name="customer" value={props.customer} />
      <button type="submit" class={props.secondary ? "secondary" : undefined}>
        {props.label}
      </button>
    </form>
  );
}

export function holdsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs/:slug/holds", async (c) => {
    const { org } = await orgAccess(c, deps);
    return c.json(await holdsView(deps, org));
  });

  app.get("/orgs/:slug/holds", async (c) => {
    const access = await orgAccess(c, deps);
    const { org } = access;
    const v = await holdsView(deps, org);
    const canAct = access.role !== "viewer";
    const done = doneText(c, org);
    return c.html(
      <Layout title={`Credit holds · ${org.name}`} signedIn email={currentUser(c).email}>
        <h1>{org.name}: credit holds</h1>
        <OrgNav slug={org.slug} current="holds" />
        {done ? (
          <p class="notice" role="status">
            {done}
          </p>
        ) : null}
        <p class="muted">
          Mode:{" "}
          <strong data-testid="hold-mode">{v.mode === "approve" ? "approve each hold" : "automatic"}</strong>.
          A hold is only proposed (or, in automatic mode, placed) {v.notice_days} days after the customer was
          sent the final notice; a customer who cannot be emailed is only held by hand.
        </p>
        {canAct ? (
          <form method="post" action={`/orgs/${org.slug}/holds/mode`} class="inline">
            <label>
              Credit holds{" "}
              <select name="mode">
                <option value="approve" selected={v.mode === "approve"}>
                  are proposed; a person approves (recommended)
                </option>
                <option value="automatic" selected={v.mode === "automatic"}>
                  are placed automatically
                </option>
              </select>
            </label>
            <button type="submit" class="secondary">
              Save
            </button>
          </form>
        ) : null}
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
    );
  });

  const modeHandler = async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const form = (c.req.header("content-type") ?? "").includes("json")
      ? await c.req.json()
      : await c.req.parseBody();
    const mode = str(form.mode);
    if (mode !== "approve" && mode !== "automatic")
      throw new UserError("invalid", 'Credit hold mode must be "approve" or "automatic".', 422);
    const now = deps.clock.now();
    await saveReminderSettings(deps.store.db, access.org, { holdMode: mode }, now);
    await audit(
      deps.store.db,
      {
        orgId: access.org.id,
        actor: `user:${currentUser(c).id}`,
        action: "settings.hold_mode",
        detail: { mode, by: currentUser(c).email },
      },
      now,
    );
    if (c.req.path.startsWith("/api/")) return c.json({ ok: true, mode });
    return c.redirect(`/orgs/${access.org.slug}/holds?done=mode_${mode}`, 303);
  };
  app.post("/orgs/:slug/holds/mode", modeHandler);
  app.post("/api/orgs/:slug/holds/mode", modeHandler);

  const actionHandler = async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const action = c.req.param("action") ?? "";
    if (!(HOLD_ACTIONS as readonly string[]).includes(action))
      throw new UserError("not_found", "Not found", 404);
    const form = (c.req.header("content-type") ?? "").includes("json")
      ? await c.req.json()
      : await c.req.parseBody();
    const customer = str(form.customer).trim();
    if (!customer) throw new UserError("invalid", "Name the customer (its customer id).", 422);
    const contact = await contactForHold(deps.store.db, access.org.id, customer);
    if (!contact) throw new UserError("not_found", `No customer ${customer} in ${access.org.name}.`, 404);
    const { config } = deps;
    // Loaded on use, as Send now does: the mail transport is not part of every deployment's bundle.
    const mailer = (await (await import("../../mail/mailer-for")).mailerFor(config)) ?? undefined;
    try {
      const user = currentUser(c);
      const r = await actOnHold(
        holdActionDeps(deps, access.org, mailer),
        access.org,
        contact,
        action as ManualHoldAction,
        { actor: `user:${user.id}`, who: user.email, reason: str(form.reason) || null },
        deps.clock.now(),
      );
      if (c.req.path.startsWith("/api/")) return c.json(r);
      const wb = r.writeback && action !== "dismiss" ? `&wb=${r.writeback}` : "";
      return c.redirect(`/orgs/${access.org.slug}/holds?done=${action}${wb}`, 303);
    } finally {
      await mailer?.close();
    }
  };
  app.post("/orgs/:slug/holds/:action", actionHandler);
  app.post("/api/orgs/:slug/holds/:action", actionHandler);

  return app;
}
