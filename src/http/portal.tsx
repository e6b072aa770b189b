/**
 * The customers' page: `/c/<token>`, the link every reminder carries (public: no sign-in). The token is a
 * signed, expiring, revocable link to one customer (src/portal/token.ts); anything wrong with it gets the same
 * 404 page, which names nobody. Forms POST with a CSRF token bound to the page token, are rate-limited per
 * customer and per IP address (in the store), validated with zod, and every output is escaped by hono/jsx.
 * Routes only start flows: src/portal/actions.ts does the work.
 */
import { type Context, Hono } from "hono";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { Deps } from "../deps";
import { formatDate, formatMoney } from "../format";
import type { Mailer } from "../mail/mailer";
import { addDays, dateInZone, type IsoDate } from "../model";
import {
  ACTION_KINDS,
  type ActionKind,
  DISPUTE_REASONS,
  MAX_PROMISE_DAYS,
  optOut,
  takeAction,
} from "../portal/actions";
import { actionAllowed, customerFor, openItemsFor } from "../portal/page";
import { renderStatement } from "../portal/statement";
import { statementTotals } from "../portal/statement-model";
import { checkCsrf, issueCsrf } from "../portal/token";
import type { PayView } from "../reminders/pay-links";
import type { PortalContact, PortalInvoice } from "../store/portal";
import { clientAddress } from "./client";

const CSS = `
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1c2430; margin: 0; background: #f6f7f9; }
main { max-width: 860px; margin: 0 auto; padding: 1.25rem; }
.card { background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 1rem 1.25rem; margin: 0 0 1rem; }
h1 { font-size: 1.5rem; margin: .25rem 0; } h2 { font-size: 1.15rem; margin: .25rem 0 .5rem; }
.muted { color: #5b6675; } .ok { background: #ecfdf3; border-color: #abefc6; } .err { background: #fef3f2; border-color: #fecdca; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #eef1f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: .25rem 0; } summary { cursor: pointer; color: #0b6bcb; }
form { margin: .5rem 0; } label { display: block; margin: .35rem 0; }
input, select, textarea { font: inherit; padding: .3rem .4rem; max-width: 100%; }
button { font: inherit; padding: .35rem .8rem; border-radius: 6px; border: 1px solid #0b6bcb; background: #0b6bcb; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #0b6bcb; }
.bank { white-space: pre-line; }
.tag { font-size: .85rem; padding: .1rem .45rem; border-radius: 4px; background: #eef4ff; }
`;

const HEADERS = {
  "cache-control": "no-store",
  // The token is in the URL: never send it on to pay providers or anyone else.
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex, nofollow",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function Page(props: { title: string; children: Child }) {
  // The doctype keeps browsers in standards mode (without it tables lay out in quirks mode).
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex, nofollow" />
          <title>{props.title}</title>
          <style dangerouslySetInnerHTML={{ __html: CSS }} />
        </head>
        <body>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

/** The one answer to every bad link: it names no business and no customer. */
function notFound(c: Context) {
  return c.html(
    <Page title="Link not valid">
      <div class="card">
        <h1>This link is not valid</h1>
        <p>It may have expired or been replaced. The latest reminder email you received has a fresh link.</p>
      </div>
    </Page>,
    404,
    HEADERS,
  );
}

const DONE: Record<string, string> = {
  paid: "Thank you. We have told the team you have paid; reminders for that invoice are paused while the payment reaches our books.",
  promise: "Thank you. Reminders for that invoice are paused until the date you gave.",
  dispute: "Thank you. We have paused reminders for that invoice and the team will be in touch.",
  address: "Done. Future reminders will go to the new address.",
  stop: "Done. You will receive no more reminder emails from us.",
};

interface PageModel {
  who: PortalContact;
  token: string;
  csrf: string;
  today: IsoDate;
  invoices: PortalInvoice[];
  pay: PayView;
  done?: string;
  errors?: string[];
}

function InvoiceActions(props: { m: PageModel; inv: PortalInvoice }) {
  const { m, inv } = props;
  const hidden = (
    <>
      <input type="hidden" name="csrf" value={m.csrf} />
      <input type="hidden" name="invoice" value={inv.id} />
    </>
  );
  if (inv.disputedAt !== null) return <span class="tag">Under dispute: we will be in touch</span>;
  return (
    <div>
      {inv.pause ? (
        <p class="tag">
          {inv.pause.kind === "paid"
            ? `You told us this is paid: reminders wait until ${formatDate(inv.pause.until, m.who.org.locale)}`
            : `You will pay by ${formatDate(inv.pause.until, m.who.org.locale)}`}
        </p>
      ) : null}
      <details>
        <summary>I've already paid {inv.number}</summary>
        <form method="post" action={`/c/${m.token}/paid`} data-action="paid" data-invoice={inv.number}>
          {hidden}
          <label>
            Date paid <input type="date" name="paid_on" required value={m.today} max={m.today} />
          </label>
          <label>
            Payment reference (optional) <input type="text" name="reference" maxlength={100} />
          </label>
          <button type="submit">Tell them I've paid</button>
        </form>
      </details>
      <details>
        <summary>I'll pay {inv.number} by a date</summary>
        <form method="post" action={`/c/${m.token}/promise`} data-action="promise" data-invoice={inv.number}>
          {hidden}
          <label>
            I will pay by{" "}
            <input
              type="date"
              name="pay_by"
              required
              min={m.today}
              max={addDays(m.today, MAX_PROMISE_DAYS)}
            />
          </label>
          <button type="submit">Promise to pay</button>
        </form>
      </details>
      <details>
        <summary>I dispute {inv.number}</summary>
        <form method="post" action={`/c/${m.token}/dispute`} data-action="dispute" data-invoice={inv.number}>
          {hidden}
          <label>
            Reason{" "}
            <select name="reason" required>
              {Object.entries(DISPUTE_REASONS).map(([value, label]) => (
                <option value={value}>{label}</option>
              ))}
            </select>
          </label>
          <label>
            What is wrong? (optional)
            <br />
            <textarea name="comment" rows={3} cols={50} maxlength={2000} />
          </label>
          <button type="submit">Dispute this invoice</button>
        </form>
      </details>
    </div>
  );
}

function CustomerPage(props: { m: PageModel }) {
  const { m } = props;
  const { org, contact } = m.who;
  const money = (minor: number, currency: string) => formatMoney({ minor, currency }, org.locale);
  const { totals, disputed } = statementTotals(m.invoices);
  const address = contact.reminderEmail ?? contact.emails[0] ?? null;
  return (
    <Page title={`${org.name}: your account`}>
      <div class="card">
        <p class="muted">Your account with</p>
        <h1>{org.name}</h1>
        <p>
          For <strong>{contact.name}</strong> · {formatDate(m.today, org.locale)}
        </p>
      </div>
      {m.done && DONE[m.done] ? (
        <div class="card ok" role="status">
          {DONE[m.done]}
        </div>
      ) : null}
      {m.errors?.length ? (
        <div class="card err" role="alert">
          <p>Please check the form:</p>
          <ul>
            {m.errors.map((e) => (
              <li>{e}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="card">
        <h2>Open invoices</h2>
        {m.invoices.length === 0 ? (
          <p>Nothing is due. Thank you!</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Invoice</th>
                <th>Due date</th>
                <th class="num">Amount due</th>
                <th>Pay</th>
              </tr>
            </thead>
            <tbody>
              {m.invoices.map((inv) => {
                const pay = m.pay.links.get(inv.id);
                return (
                  <>
                    <tr>
                      <td>{inv.number}</td>
                      <td>{formatDate(inv.dueDate, org.locale)}</td>
                      <td class="num">{money(inv.amountDueMinor, inv.currency)}</td>
                      <td>
                        {pay ? (
                          <a href={pay} rel="noopener noreferrer" target="_blank">
                            Pay online
                          </a>
                        ) : m.pay.bankDetails ? (
                          <a href="#bank-details">By bank transfer</a>
                        ) : null}
                      </td>
                    </tr>
                    <tr>
                      <td colspan={4}>
                        <InvoiceActions m={m} inv={inv} />
                      </td>
                    </tr>
                  </>
                );
              })}
            </tbody>
            <tfoot>
              {totals.map(({ currency, minor }) => (
                <tr>
                  <th colspan={2}>Total due{totals.length > 1 ? ` (${currency})` : ""}</th>
                  <th class="num" data-testid={`total-${currency}`}>
                    {money(minor, currency)}
                  </th>
                  <th />
                </tr>
              ))}
              {disputed.map(({ currency, minor }) => (
                <tr>
                  <td colspan={2}>Disputed, not included ({currency})</td>
                  <td class="num">{money(minor, currency)}</td>
                  <td />
                </tr>
              ))}
            </tfoot>
          </table>
        )}
        {m.invoices.length > 0 && m.pay.bankDetails ? (
          <section id="bank-details" aria-labelledby="bank-h">
            <h3 id="bank-h">Paying by bank transfer</h3>
            <p class="bank">{m.pay.bankDetails}</p>
          </section>
        ) : null}
        <p>
          <a href={`/c/${m.token}/statement.pdf`}>Download a statement (PDF)</a>
        </p>
      </div>
      <div class="card">
        <h2>Reminder emails</h2>
        {contact.optedOut ? (
          <p>You have asked us not to email reminders.</p>
        ) : (
          <>
            <p class="muted">
              {address ? `Reminders currently go to ${address}.` : "We have no address for reminders."}
            </p>
            <details>
              <summary>Send reminders to someone else</summary>
              <form method="post" action={`/c/${m.token}/address`} data-action="address">
                <input type="hidden" name="csrf" value={m.csrf} />
                <label>
                  Email address <input type="email" name="email" required maxlength={254} />
                </label>
                <button type="submit">Use this address</button>
              </form>
            </details>
            <form method="post" action={`/c/${m.token}/stop`} data-action="stop">
              <input type="hidden" name="csrf" value={m.csrf} />
              <button type="submit" class="secondary">
                Stop emailing me
              </button>
            </form>
          </>
        )}
      </div>
    </Page>
  );
}

function UnsubscribePage(props: { who: PortalContact; token: string; done: boolean }) {
  const { org } = props.who;
  return (
    <Page title={`${org.name}: reminder emails`}>
      <div class="card">
        <h1>{org.name}</h1>
        {props.done ? (
          <p role="status">Done. You will receive no more reminder emails from {org.name}.</p>
        ) : (
          <form method="post" action={`/c/${props.token}/unsubscribe`}>
            <input type="hidden" name="List-Unsubscribe" value="One-Click" />
            <p>Stop receiving reminder emails from {org.name}?</p>
            <button type="submit">Stop these reminders</button>
          </form>
        )}
        <p>
          <a href={`/c/${props.token}`}>View your account</a>
        </p>
      </div>
    </Page>
  );
}

export interface PortalOptions {
  /** Mailer for owner notices (tests); otherwise one is made from SMTP_URL per notice. */
  mailer?: Mailer;
}

export function portalRoutes(deps: Deps, opts: PortalOptions = {}) {
  const app = new Hono();
  const actionDeps = { store: deps.store, config: deps.config, log: deps.log, mailer: opts.mailer };

  async function pageModel(who: PortalContact, token: string, now: number, extra: Partial<PageModel> = {}) {
    const today = dateInZone(now, who.org.timezone);
    return {
      who,
      token,
      csrf: await issueCsrf(deps.secret, token, now),
      today,
      ...(await openItemsFor(deps.store, who, today)),
      ...extra,
    } satisfies PageModel;
  }

  /** Per customer and per IP address, in the store (so limits hold across restarts and processes). */
  async function allowed(c: Context, who: PortalContact, now: number): Promise<boolean> {
    const ip = clientAddress(c, deps.config.TRUST_PROXY);
    return actionAllowed(deps.store, who, ip, deps.config.CUSTOMER_ACTIONS_PER_HOUR, now);
  }

  function tooMany(c: Context) {
    return c.html(
      <Page title="Too many requests">
        <div class="card err">
          <h1>Too many requests</h1>
          <p>Please wait a while and try again.</p>
        </div>
      </Page>,
      429,
      { ...HEADERS, "retry-after": "3600" },
    );
  }

  app.get("/c/:token", async (c) => {
    const now = deps.clock.now();
    const token = c.req.param("token");
    const who = await customerFor(deps.store, deps.secret, token, now);
    if (!who) return notFound(c);
    const done = c.req.query("done");
    const m = await pageModel(who, token, now, { done: done && DONE[done] ? done : undefined });
    return c.html(<CustomerPage m={m} />, 200, HEADERS);
  });

  app.get("/c/:token/statement.pdf", async (c) => {
    const now = deps.clock.now();
    const who = await customerFor(deps.store, deps.secret, c.req.param("token"), now);
    if (!who) return notFound(c);
    const today = dateInZone(now, who.org.timezone);
    const pdf = await renderStatement({
      orgName: who.org.name,
      locale: who.org.locale,
      customerName: who.contact.name,
      customerId: who.contact.externalId,
      today,
      ...(await openItemsFor(deps.store, who, today)),
    });
    return c.body(new Uint8Array(pdf), 200, {
      ...HEADERS,
      "content-type": "application/pdf",
      "content-disposition": `attachment; filename="statement-${today}.pdf"`,
    });
  });

  app.get("/c/:token/unsubscribe", async (c) => {
    const now = deps.clock.now();
    const token = c.req.param("token");
    const who = await customerFor(deps.store, deps.secret, token, now);
    if (!who) return notFound(c);
    return c.html(<UnsubscribePage who={who} token={token} done={who.contact.optedOut} />, 200, HEADERS);
  });

  // RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click"; the signed token is the authority.
  app.post("/c/:token/unsubscribe", async (c) => {
    const now = deps.clock.now();
    const token = c.req.param("token");
    const who = await customerFor(deps.store, deps.secret, token, now);
    if (!who) return notFound(c);
    if (!who.contact.optedOut) {
      if (!(await allowed(c, who, now))) return tooMany(c);
      await optOut(actionDeps, who, now, "one_click");
    }
    return c.html(<UnsubscribePage who={who} token={token} done={true} />, 200, HEADERS);
  });

  app.post("/c/:token/:action", async (c) => {
    const now = deps.clock.now();
    const token = c.req.param("token");
    const who = await customerFor(deps.store, deps.secret, token, now);
    const action = c.req.param("action") as ActionKind;
    if (!who || !ACTION_KINDS.includes(action)) return notFound(c);
    if (!(await allowed(c, who, now))) return tooMany(c);
    let form: Record<string, unknown>;
    try {
      form = (await c.req.parseBody()) as Record<string, unknown>;
    } catch {
      form = {};
    }
    if (!(await checkCsrf(deps.secret, token, form.csrf, now)))
      return c.html(
        <Page title="Form expired">
          <div class="card err">
            <h1>This form has expired</h1>
            <p>
              Nothing was changed. <a href={`/c/${token}`}>Reload the page</a> and try again.
            </p>
          </div>
        </Page>,
        403,
        HEADERS,
      );
    const { csrf: _csrf, ...fields } = form;
    const result = await takeAction({ ...actionDeps, config: deps.config }, who, action, fields, now);
    if (!result.ok) {
      const fresh = (await customerFor(deps.store, deps.secret, token, now)) ?? who;
      const m = await pageModel(fresh, token, now, { errors: result.errors });
      return c.html(<CustomerPage m={m} />, 400, HEADERS);
    }
    return c.redirect(`/c/${token}?done=${action}`, 303);
  });

  app.all("/c/*", (c) => notFound(c));
  return app;
}
