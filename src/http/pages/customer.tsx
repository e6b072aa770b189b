/**
 * The customer page (`/orgs/<slug>/customers/<id>`, JSON at `/api/orgs/<slug>/customers/<id>`): credit health,
 * chasing state, open items, lateness, the forms that change the customer (customer-changes.ts), disputes,
 * timeline and invoices.
 */
import { type Context, Hono } from "hono";
import { customerPage, customerView } from "../../dashboard/customer";
import type { Deps } from "../../deps";
import { formatDate } from "../../format";
import { formatMinor } from "../../model";
import type { OrgAccess } from "../../store/accounts";
import { type AppEnv, orgAccess } from "../auth";
import { LatenessChart, monthLabel } from "../charts";
import { Grade, money, Notice, signed, Trend } from "../components";
import { errorsOf, Field, type FormFailure, fieldAttrs, typed } from "../form";
import { Layout } from "../layout";

export function customerRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs/:slug/customers/:id", async (c) => {
    const { org } = await orgAccess(c, deps);
    return c.json(await customerView(deps, org, c.req.param("id") ?? ""));
  });

  app.get("/orgs/:slug/customers/:id", async (c) =>
    customerPageView(c, deps, await orgAccess(c, deps), c.req.param("id") ?? ""),
  );

  return app;
}

/**
 * Renders the customer page; `failure` re-shows one of its forms posted with a problem (422): the message
 * beside the field and what the member typed kept (src/http/form.tsx).
 */
export async function customerPageView(
  c: Context<AppEnv>,
  deps: Deps,
  access: OrgAccess,
  id: string,
  failure?: FormFailure,
) {
  const { org } = access;
  const { contact, view: v, disputes, reminderEmail, sendsTo, openItems } = await customerPage(deps, org, id);
  const err = (form: string, field: string) => errorsOf(failure, form)[field];
  const kept = (form: string, field: string, fallback: string) => typed(failure, form, field, fallback);
  const base = `/orgs/${org.slug}/customers/${encodeURIComponent(contact.externalId)}`;
  const m = (minor: number, cur: string) => money(minor, cur, org.locale);
  const readOnly = access.role === "viewer";
  const cu = v.customer;
  return c.html(
    <Layout title={`${contact.name} · ${org.name}`} {...signed(c)}>
      <p class="muted">
        <a href={`/orgs/${org.slug}`}>{org.name}</a> ›
      </p>
      <h1>
        {contact.name} {cu.on_hold ? <span class="tag">on hold</span> : null}
      </h1>
      <Notice c={c} />
      <section class="cards" aria-label="Credit health">
        <div class="card">
          <div class="muted">Grade</div>
          <div class="v">
            <Grade grade={v.score?.grade ?? null} />{" "}
            {v.score ? <span class="muted">score {v.score.score}</span> : null}
          </div>
          <div>
            <Trend trend={v.score?.trend ?? null} changeDays={v.score?.trend_change_days ?? null} />
          </div>
        </div>
        <div class="card">
          <div class="muted">Chasing</div>
          <div class="v" data-testid="chasing-state">
            {cu.excluded
              ? "Not chased: excluded"
              : cu.opted_out
                ? "Not chased: opted out"
                : cu.chasing_paused_until && cu.chasing_paused_until >= v.as_of
                  ? `Paused until ${formatDate(cu.chasing_paused_until, org.locale)}`
                  : sendsTo.length === 0
                    ? "Not chased: no valid email address"
                    : "Active"}
          </div>
        </div>
        <div class="card">
          <div class="muted">Open items (as on the statement)</div>
          <div class="v" data-testid="open-total">
            {openItems.totals.map((t) => m(t.minor, t.currency)).join(" + ") || m(0, org.baseCurrency)}
          </div>
          {openItems.disputed.length ? (
            <div class="muted">
              disputed, not included: {openItems.disputed.map((t) => m(t.minor, t.currency)).join(" + ")}
            </div>
          ) : null}
        </div>
        <div class="card">
          <div class="muted">Credit limit</div>
          <div class="v">{cu.credit_limit === null ? "None" : m(cu.credit_limit, org.baseCurrency)}</div>
        </div>
      </section>
      {v.score?.reasons.length ? (
        <section aria-labelledby="why-h">
          <h2 id="why-h">Why</h2>
          <ul>
            {v.score.reasons.map((r) => (
              <li>{r}</li>
            ))}
          </ul>
        </section>
      ) : null}
      <section aria-labelledby="late-h">
        <h2 id="late-h">Days beyond terms per invoice</h2>
        <LatenessChart
          title={`Days beyond terms for each of ${contact.name}'s invoices by due date, with the trend`}
          points={v.lateness}
          xLabel={(x) => monthLabel(new Date(Date.UTC(2000, 0, 1) + x * 86_400_000).toISOString())}
        />
      </section>
      {readOnly ? (
        <p class="muted">You can view this customer; your role does not allow changes.</p>
      ) : (
        <section aria-labelledby="act-h">
          <h2 id="act-h">Chasing and credit</h2>
          <form method="post" action={`${base}/reminder-address`} class="inline" id="reminder-address">
            <Field
              id="reminder_email"
              error={err("reminder-address", "email")}
              label={
                <>
                  Reminder address (reminders go here instead of the ledger's{" "}
                  {contact.emails.length ? contact.emails.join(", ") : "none"}; empty = the ledger's)
                </>
              }
            >
              <input
                id="reminder_email"
                name="email"
                type="email"
                value={kept("reminder-address", "email", reminderEmail ?? "")}
                {...fieldAttrs("reminder_email", err("reminder-address", "email"))}
              />
            </Field>
            <button type="submit" class="secondary">
              Save address
            </button>
          </form>
          <form method="post" action={`${base}/exclude`} class="inline">
            <input type="hidden" name="excluded" value={cu.excluded ? "0" : "1"} />
            <button type="submit" class="secondary">
              {cu.excluded ? "Include in reminders again" : "Exclude from reminders and holds"}
            </button>
          </form>
          <form method="post" action={`${base}/chasing`} class="inline">
            {cu.chasing_paused_until ? (
              <>
                <input type="hidden" name="action" value="resume" />
                <button type="submit">Resume chasing</button>
              </>
            ) : (
              <>
                <input type="hidden" name="action" value="pause" />
                <Field id="until" label="Pause chasing until" error={err("chasing", "until")}>
                  <input
                    id="until"
                    name="until"
                    type="date"
                    required
                    value={kept("chasing", "until", v.as_of)}
                    min={v.as_of}
                    {...fieldAttrs("until", err("chasing", "until"))}
                  />
                </Field>
                <button type="submit">Pause chasing</button>
              </>
            )}
          </form>
          <form method="post" action={`${base}/opt-out`} class="inline">
            <input type="hidden" name="opted_out" value={cu.opted_out ? "0" : "1"} />
            <button type="submit" class="secondary">
              {cu.opted_out ? "Send reminders again" : "Opt out of reminders"}
            </button>
          </form>
          <form method="post" action={`${base}/credit-limit`} class="inline">
            <Field
              id="limit"
              label={`Credit limit (${org.baseCurrency}, empty for none)`}
              error={err("credit-limit", "limit")}
            >
              <input
                id="limit"
                name="limit"
                inputmode="decimal"
                value={kept(
                  "credit-limit",
                  "limit",
                  cu.credit_limit === null ? "" : formatMinor(cu.credit_limit, org.baseCurrency),
                )}
                {...fieldAttrs("limit", err("credit-limit", "limit"))}
              />
            </Field>
            <button type="submit" class="secondary">
              Save limit
            </button>
          </form>
          <form method="post" action={`${base}/policy`} class="inline">
            <p class="field">
              <label for="policy">Reminder policy</label>
              <select id="policy" name="policy_id">
                <option value="">automatic (by grade, else the default)</option>
                {v.policies.map((p) => (
                  <option value={p.id} selected={cu.policy_id === p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </p>
            <button type="submit" class="secondary">
              Save policy
            </button>
          </form>
        </section>
      )}
      {disputes.length ? (
        <section aria-labelledby="dsp-h">
          <h2 id="dsp-h">Disputed invoices</h2>
          <p class="muted">Not chased and left out of the credit exposure until resolved.</p>
          <ul>
            {disputes.map((d) => (
              <li data-dispute={d.number}>
                <strong>{d.number}</strong>: {d.reason}
                {d.comment ? ` (“${d.comment}”)` : ""}{" "}
                {readOnly ? null : (
                  <form method="post" action={`${base}/resolve-dispute`} class="inline">
                    <input type="hidden" name="invoice_id" value={d.invoiceId} />
                    <label for={`res-${d.invoiceId}`}>Resolution</label>
                    <input id={`res-${d.invoiceId}`} name="resolution" maxlength={500} />
                    <button type="submit" class="secondary">
                      Resolve dispute
                    </button>
                  </form>
                )}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section aria-labelledby="tl-h">
        <h2 id="tl-h">Timeline</h2>
        <ol class="timeline">
          {v.timeline.slice(0, 300).map((t) => (
            <li data-kind={t.kind}>
              <time datetime={t.date}>{formatDate(t.date, org.locale)}</time> {t.text}
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="inv-h">
        <h2 id="inv-h">Invoices</h2>
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Issued</th>
                <th scope="col">Due</th>
                <th scope="col" class="num">
                  Total
                </th>
                <th scope="col" class="num">
                  Due now
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {[...v.invoices].reverse().map((i) => (
                <tr>
                  <td class="name">{i.number}</td>
                  <td data-label="Issued">{formatDate(i.issue_date, org.locale)}</td>
                  <td data-label="Due">{formatDate(i.due_date, org.locale)}</td>
                  <td class="num" data-label="Total">
                    {m(i.total, i.currency)}
                  </td>
                  <td class="num" data-label="Due now">
                    {m(i.amount_due, i.currency)}
                  </td>
                  <td data-label="Status">
                    {i.disputed
                      ? "disputed"
                      : i.paid_on
                        ? `paid ${formatDate(i.paid_on, org.locale)}`
                        : i.status}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>,
    failure ? 422 : 200,
  );
}
