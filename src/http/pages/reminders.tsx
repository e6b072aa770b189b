/**
 * The reminders page of an organisation (`/orgs/<slug>/reminders`, JSON at `/api/orgs/<slug>/reminders`), which
 * tells the truth:
 * - each planned email with the instant it will actually go (the first hourly run inside that customer's window,
 *   in its timezone, weekends and public holidays skipped): src/reminders/outlook.ts;
 * - every overdue customer who cannot be chased, with the reason and where to fix it;
 * - every email's SMTP outcome: accepted (with the server's reply), rejected (with the reply), failed (retried),
 *   or left for review with a "resolve" action (mark as sent, or allow a resend);
 * - Send now shows a confirmation first (what goes now, what waits for the window, which holds it would
 *   propose), then runs, and says what it did.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { MailNotConfigured, remindersView, resolveEmailReview, sendNow } from "../../dashboard/reminders";
import type { Deps } from "../../deps";
import { formatInstant } from "../../format";
import { type Outlook, runOutlook } from "../../reminders/outlook";
import type { Organisation } from "../../store/orgs";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { signed } from "../components";
import { bodyFields, memberOf, parseInput, text } from "../input";
import { Layout, OrgNav } from "../layout";

const confirmInput = z.object({ confirm: text });

const resolveInput = z
  .object({
    email_id: text,
    resolution: z.enum(["sent", "resend"], {
      error: 'Resolve with "sent" (it was delivered) or "resend" (send it again).',
    }),
  })
  .transform((f) => ({ emailId: f.email_id, resolution: f.resolution }));

/** `?done=` carries only one of these codes (and, for Send now, counts), never text. */
const COUNTS = ["sent", "failed", "waits", "proposed", "placed", "released", "withdrawn"] as const;
function doneText(c: Context): string | null {
  const done = c.req.query("done");
  if (done === "review_sent") return "Recorded as sent: it will not be sent again.";
  if (done === "review_resend") return "The next run in the customer's window sends it again.";
  if (done === "reminders_run") {
    const count = (k: string) => (/^\d{1,7}$/.test(c.req.query(k) ?? "") ? c.req.query(k) : "0");
    return `Reminders run: ${count("sent")} sent, ${count("failed")} failed.`;
  }
  if (done !== "send_now") return null;
  const n = Object.fromEntries(
    COUNTS.map((k) => {
      const v = c.req.query(k) ?? "";
      return [k, /^\d{1,7}$/.test(v) ? Number(v) : 0];
    }),
  ) as Record<(typeof COUNTS)[number], number>;
  return (
    `Sent ${n.sent} email${n.sent === 1 ? "" : "s"}${n.failed ? `, ${n.failed} failed` : ""}; ` +
    `${n.waits} wait${n.waits === 1 ? "s" : ""} for the customer's sending window; ` +
    `holds: ${n.proposed} proposed for approval, ${n.placed} placed, ${n.released} released, ${n.withdrawn} withdrawn.`
  );
}

function OutlookLists(props: { org: Organisation; o: Outlook }) {
  const { org, o } = props;
  const when = (t: number | null) =>
    t === null ? "not within two weeks" : formatInstant(t, org.timezone, org.locale);
  return (
    <>
      <h2>Sends now: {o.now.length}</h2>
      <ul data-testid="confirm-now">
        {o.now.map((e) => (
          <li>
            {e.customer_name}: level {e.level} to {e.to.join(", ")} for {e.invoice_numbers.join(", ")}
          </li>
        ))}
      </ul>
      <h2>Waits for the customer's sending window: {o.waiting.length}</h2>
      <ul data-testid="confirm-waiting">
        {o.waiting.map((e) => (
          <li>
            {e.customer_name}: level {e.level}, goes {when(e.until)} ({e.reason})
          </li>
        ))}
      </ul>
      <h2>Credit holds: {o.holds.length}</h2>
      <ul data-testid="confirm-holds">
        {o.holds.map((h) => (
          <li>
            {h.customer_name}:{" "}
            {h.action === "propose"
              ? "hold proposed (waits for your approval, nothing written to the ledger)"
              : h.action === "place"
                ? "hold placed (automatic mode) and written to the ledger"
                : h.action === "release"
                  ? "hold released"
                  : "proposal withdrawn"}{" "}
            <span class="muted">({h.reason})</span>
          </li>
        ))}
      </ul>
      {o.blocked.length ? (
        <>
          <h2>Not sent: {o.blocked.length}</h2>
          <ul>
            {o.blocked.map((e) => (
              <li>
                {e.customer_name}: {e.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

/** Send now when the organisation cannot send mail yet: what to set, and where. */
function MailNeeded(props: { c: Context<AppEnv>; org: Organisation; missing: string[] }) {
  const { org } = props;
  return (
    <Layout title={`Mail is not set up · ${org.name}`} {...signed(props.c)}>
      <h1>Reminders cannot be sent yet</h1>
      <OrgNav slug={org.slug} current="reminders" />
      <p class="problem" role="alert">
        Nothing was sent and nothing changed. Before reminders can go out, Creditpulse needs:
      </p>
      <ul data-testid="mail-missing">
        {props.missing.map((m) => (
          <li>{m}</li>
        ))}
      </ul>
      <p>
        <a href={`/orgs/${org.slug}/settings#mail`}>Open the mail settings</a> ·{" "}
        <a href={`/orgs/${org.slug}/reminders`}>Back to reminders</a>
      </p>
    </Layout>
  );
}

export function remindersRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs/:slug/reminders", async (c) => {
    const { org } = await orgAccess(c, deps);
    return c.json(await remindersView(deps, org));
  });

  app.get("/orgs/:slug/reminders", async (c) => {
    const access = await orgAccess(c, deps);
    const { org } = access;
    const v = await remindersView(deps, org);
    const canSend = access.role !== "viewer";
    const done = doneText(c);
    const customerLink = (id: string, hash = "") =>
      `/orgs/${org.slug}/customers/${encodeURIComponent(id)}${hash}`;
    return c.html(
      <Layout title={`Reminders · ${org.name}`} {...signed(c)}>
        <h1>{org.name}: reminders</h1>
        <OrgNav slug={org.slug} current="reminders" />
        {done ? (
          <p class="notice" role="status" data-testid="done">
            {done}
          </p>
        ) : null}
        {canSend ? (
          <form method="get" action={`/orgs/${org.slug}/reminders/send-now`} class="inline">
            <button type="submit">Send now</button>
            <span class="muted">
              Shows what it would send and which holds it would propose before it runs.
            </span>
          </form>
        ) : null}
        <h2>Planned for the next 7 days</h2>
        <p class="muted">
          When each email will actually go: the first hourly run inside the customer's sending window, in the
          customer's timezone (weekends and public holidays skipped). Payments arriving cancel them.
        </p>
        {v.planned.length === 0 ? (
          <p>Nothing planned.</p>
        ) : (
          <ul class="timeline" data-testid="planned">
            {v.planned.map((p) => (
              <li data-customer={p.customer_id} data-at={p.at}>
                <time datetime={p.at}>{formatInstant(Date.parse(p.at), p.timeZone, org.locale)}</time>{" "}
                <a href={customerLink(p.customer_id)}>{p.customer_name}</a> level {p.level} ({p.template}) to{" "}
                {p.to.join(", ")} for {p.invoice_numbers.join(", ")}
                <details>
                  <summary>{p.subject}</summary>
                  <pre style="white-space:pre-wrap">{p.text}</pre>
                </details>
              </li>
            ))}
          </ul>
        )}
        <h2>Overdue but not chased: {v.cannot_chase.length}</h2>
        {v.cannot_chase.length === 0 ? (
          <p class="muted">Every overdue customer can be chased.</p>
        ) : (
          <ul data-testid="cannot-chase">
            {v.cannot_chase.map((n) => (
              <li data-customer={n.customer_id} data-reason={n.reason}>
                <a href={customerLink(n.customer_id)}>{n.name}</a>: {n.text}.{" "}
                <a
                  href={
                    n.fix_at === "settings"
                      ? `/orgs/${org.slug}/settings`
                      : customerLink(
                          n.customer_id,
                          n.reason === "no_address" ? "#reminder-address" : "#act-h",
                        )
                  }
                >
                  {n.fix}
                </a>
              </li>
            ))}
          </ul>
        )}
        <h2>Sent emails and their outcome</h2>
        {v.emails.length === 0 ? (
          <p class="muted">None yet.</p>
        ) : (
          <div class="table-wrap">
            <table data-testid="outcomes" class="stack">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Level</th>
                  <th scope="col">Invoices</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {v.emails.map((r) => (
                  <tr data-outcome={r.outcome}>
                    <td data-label="When">{formatInstant(Date.parse(r.at), org.timezone, org.locale)}</td>
                    <td class="name">
                      <a href={customerLink(r.customer_id)}>{r.customer_name}</a>
                    </td>
                    <td data-label="Level">
                      {r.level} ({r.template})
                    </td>
                    <td data-label="Invoices">{r.invoice_numbers}</td>
                    <td class="full">
                      <span class={r.outcome === "accepted" ? "ok" : r.outcome === "review" ? "" : "bad"}>
                        {r.outcome_text}
                      </span>
                      {r.message_id ? <div class="muted">Message-ID {r.message_id}</div> : null}
                      {r.resolution ? (
                        <div class="muted">
                          {r.resolution === "marked_sent" ? "marked as sent by a person" : "resend allowed"}
                        </div>
                      ) : null}
                      {r.outcome === "review" && canSend ? (
                        <form method="post" action={`/orgs/${org.slug}/reminders/resolve`} class="inline">
                          <input type="hidden" name="email_id" value={r.email_id} />
                          <button type="submit" name="resolution" value="sent" class="secondary">
                            Resolve: it was sent
                          </button>
                          <button type="submit" name="resolution" value="resend" class="secondary">
                            Resolve: allow a resend
                          </button>
                        </form>
                      ) : null}
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

  // Send now, step 1: what it would do.
  app.get("/orgs/:slug/reminders/send-now", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const { org } = access;
    const o = await runOutlook(deps, org, deps.clock.now());
    return c.html(
      <Layout title={`Send now · ${org.name}`} {...signed(c)}>
        <h1>{org.name}: send reminders now?</h1>
        <OrgNav slug={org.slug} current="reminders" />
        <OutlookLists org={org} o={o} />
        <form method="post" action={`/orgs/${org.slug}/reminders/send-now`} class="inline">
          <input type="hidden" name="confirm" value="1" />
          <button type="submit">
            Confirm: send {o.now.length} email{o.now.length === 1 ? "" : "s"} now
          </button>
          <a href={`/orgs/${org.slug}/reminders`}>Cancel</a>
        </form>
      </Layout>,
    );
  });

  app.get("/api/orgs/:slug/reminders/send-now", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    return c.json(await runOutlook(deps, access.org, deps.clock.now()));
  });

  // Send now, step 2: run.
  const sendNowHandler = async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const api = c.req.path.startsWith("/api/");
    if (!api) {
      const { confirm } = parseInput(confirmInput, await c.req.parseBody());
      if (confirm !== "1") return c.redirect(`/orgs/${access.org.slug}/reminders/send-now`, 303);
    }
    let report: Awaited<ReturnType<typeof sendNow>>;
    try {
      report = await sendNow(deps, access.org, memberOf(c));
    } catch (err) {
      if (api || !(err instanceof MailNotConfigured)) throw err;
      return c.html(<MailNeeded c={c} org={access.org} missing={err.missing} />, 409);
    }
    if (api) return c.json(report);
    const sent = report.emails.filter((e) => e.status === "sent").length;
    const failed = report.emails.filter((e) => e.status === "failed").length;
    const waits = report.emails.filter(
      (e) =>
        e.status === "skipped" &&
        /^(not a sending day|public holiday|outside the sending window)/.test(e.reason ?? ""),
    ).length;
    const holds = (a: string) => report.holds.filter((h) => h.action === a).length;
    const q = new URLSearchParams({
      done: "send_now",
      sent: String(sent),
      failed: String(failed),
      waits: String(waits),
      proposed: String(holds("proposed")),
      placed: String(holds("placed")),
      released: String(holds("released")),
      withdrawn: String(holds("withdrawn")),
    });
    return c.redirect(`/orgs/${access.org.slug}/reminders?${q}`, 303);
  };
  app.post("/orgs/:slug/reminders/send-now", sendNowHandler);
  app.post("/api/orgs/:slug/reminders/send-now", sendNowHandler);

  const resolve = async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const input = parseInput(resolveInput, await bodyFields(c));
    await resolveEmailReview(deps, access.org, input, memberOf(c));
    if (c.req.path.startsWith("/api/")) return c.json({ ok: true, resolution: input.resolution });
    return c.redirect(`/orgs/${access.org.slug}/reminders?done=review_${input.resolution}`, 303);
  };
  app.post("/orgs/:slug/reminders/resolve", resolve);
  app.post("/api/orgs/:slug/reminders/resolve", resolve);

  return app;
}
