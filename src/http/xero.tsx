/**
 * Xero on the web: connect (OAuth code flow with signed, session-bound state), choose tenants, disconnect,
 * and the webhook endpoint. Routes only start flows: the work is in connectors/xero and src/sync.
 */
import { type Context, Hono } from "hono";
import { ConnectorError } from "../../connectors/connector";
import { buildConsentUrl, type XeroOAuthConfig } from "../../connectors/xero/oauth";
import { parseXeroWebhook, verifyXeroSignature, xeroChangeEvents } from "../../connectors/xero/webhook";
import { afterResponse } from "../after-response";
import type { Deps } from "../deps";
import { disconnectLedger } from "../sync/connect";
import { beginXeroConsent, finishXeroConsent } from "../sync/consent";
import { recordChangeEvents } from "../sync/webhook-events";
import { xeroOAuthConfig } from "../sync/xero";
import { Layout } from "./layout";
import { checkOAuthState, createOAuthState } from "./oauth-state";
import { publicBase, XeroSetupHelp } from "./pages/connect-help";
import { existingSessionId } from "./session";

function oauthConfig(deps: Deps, c: Context): XeroOAuthConfig {
  return xeroOAuthConfig(deps.config, new URL(c.req.url).origin);
}

function Problem(props: { title: string; message: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      <p>
        <a href="/">Back to the organisations</a>
      </p>
    </Layout>
  );
}

function xeroFailure(c: Context, err: unknown) {
  if (!(err instanceof ConnectorError)) throw err;
  return c.html(
    <Problem
      title="Xero did not answer as expected"
      message={`Nothing was connected. ${err.kind === "auth_revoked" ? "Xero refused the sign-in; please try again." : "Please try again in a minute."}`}
    />,
    502,
  );
}

export function xeroRoutes(deps: Deps) {
  const app = new Hono();

  app.get("/connect/xero", async (c) => {
    if (!deps.config.xeroConfigured)
      return c.html(
        <XeroSetupHelp base={publicBase(deps.config, c)} publicUrlSet={!!deps.config.PUBLIC_URL} />,
      );
    const cfg = oauthConfig(deps, c);
    const state = await createOAuthState(c, deps.secret, "xero", deps.clock.now());
    try {
      return c.redirect(await buildConsentUrl(cfg, state, deps.clock.now()), 302);
    } catch (err) {
      return xeroFailure(c, err);
    }
  });

  app.get("/connect/xero/callback", async (c) => {
    const cfg = oauthConfig(deps, c);
    const state = c.req.query("state");
    const checked = await checkOAuthState(c, deps.secret, "xero", state, deps.clock.now());
    if (!checked.ok)
      return c.json(
        {
          error: { code: "bad_state", message: `Refused: ${checked.reason}. Start again from Connect Xero.` },
        },
        400,
      );
    if (c.req.query("error"))
      return c.html(
        <Problem title="Xero was not connected" message="The connection was cancelled in Xero." />,
        400,
      );
    if (!c.req.query("code"))
      return c.json({ error: { code: "missing_code", message: "Xero sent no code" } }, 400);
    let consent: Awaited<ReturnType<typeof beginXeroConsent>>;
    try {
      const sid = (await existingSessionId(c, deps.secret))!;
      consent = await beginXeroConsent(deps, cfg, c.req.url, state!, sid);
    } catch (err) {
      return xeroFailure(c, err);
    }
    if (consent.tenants.length === 0)
      return c.html(
        <Problem title="No Xero organisation" message="The sign-in gave access to no Xero organisation." />,
        400,
      );
    return c.html(
      <Layout title="Choose Xero organisations">
        <h1>Choose the Xero organisations to connect</h1>
        <form method="post" action="/connect/xero/tenants">
          <input type="hidden" name="pending" value={consent.pending} />
          <fieldset>
            <legend>Organisations this sign-in can reach</legend>
            {consent.tenants.map((t) => (
              <p>
                <label>
                  <input type="checkbox" name="tenant" value={t.tenantId} checked /> {t.tenantName}
                </label>
              </p>
            ))}
          </fieldset>
          <p>
            <button type="submit">Connect</button>
          </p>
        </form>
      </Layout>,
    );
  });

  app.post("/connect/xero/tenants", async (c) => {
    oauthConfig(deps, c);
    const form = await c.req.parseBody({ all: true });
    const chosen = ([] as unknown[]).concat(form.tenant ?? []).map(String);
    const sid = await existingSessionId(c, deps.secret);
    let connected: Awaited<ReturnType<typeof finishXeroConsent>>;
    try {
      connected = await finishXeroConsent(deps, String(form.pending ?? ""), sid, chosen);
    } catch (err) {
      return xeroFailure(c, err);
    }
    // First connect = backfill; it runs after this page is sent.
    for (const { connection } of connected)
      await afterResponse(c, deps, "Xero backfill", {
        job: "sync",
        orgId: connection.orgId,
        at: deps.clock.now(),
      });
    return c.html(
      <Layout title="Xero connected">
        <h1>Xero connected</h1>
        <p>Creditpulse is reading the ledger now; the first sync of a large ledger can take a while.</p>
        <ul>
          {connected.map(({ org }) => (
            <li>
              <a href={`/orgs/${org.slug}`}>{org.name}</a> ({org.baseCurrency}, {org.timezone})
            </li>
          ))}
        </ul>
      </Layout>,
    );
  });

  app.post("/orgs/:slug/disconnect", async (c) => {
    await disconnectLedger(deps, "xero", c.req.param("slug"), new URL(c.req.url).origin);
    return c.redirect("/", 303);
  });

  app.post("/webhooks/xero", async (c) => {
    const raw = await c.req.text();
    const key = deps.config.XERO_WEBHOOK_KEY;
    if (!key || !(await verifyXeroSignature(key, raw, c.req.header("x-xero-signature"))))
      return c.body(null, 401);
    const body = parseXeroWebhook(raw);
    if (!body) return c.body(null, 400);
    // Intent to receive: a signed delivery with no events.
    if (body.events.length === 0) return c.body(null, 200);
    const fresh = await recordChangeEvents(deps, await xeroChangeEvents(body));
    if (fresh.length > 0)
      await afterResponse(c, deps, "Xero webhook re-pull", {
        job: "repull",
        events: fresh,
        at: deps.clock.now(),
      });
    return c.body(null, 200);
  });

  return app;
}
