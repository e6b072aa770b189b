/**
 * QuickBooks Online routes: connect (OAuth2 with our signed, session-bound state), callback, disconnect, and
 * the webhook. Routes only translate HTTP: the flows are src/sync's (connect.ts, webhook-events.ts, wired by
 * quickbooks.ts); the webhook answers first and re-pulls after (src/after-response.ts).
 */
import { Hono } from "hono";
import { verifyHmacSha256Base64 } from "../../connectors/hmac";
import { acceptsContentType, parseWebhook, type QboWebhookEvent } from "../../connectors/quickbooks/webhook";
import { afterResponse } from "../after-response";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { disconnectLedger } from "../sync/connect";
import { finishQuickbooksConsent } from "../sync/consent";
import { quickbooksFor } from "../sync/quickbooks";
import { recordQuickbooksEvents, repullQuickbooks } from "../sync/webhook-events";
import { checkOAuthState, createOAuthState } from "./oauth-state";
import { quickbooksSetupPage } from "./pages/connect-help";

export function quickbooksRoutes(deps: Deps) {
  const app = new Hono();
  const service = () => {
    const s = quickbooksFor(deps);
    if (!s)
      throw new UserError("quickbooks_not_configured", "QuickBooks is not configured on this install", 404);
    return s;
  };
  // Register the connector with the registry as soon as the app exists, when QuickBooks is configured.
  quickbooksFor(deps);

  app.get("/connect/quickbooks", async (c) => {
    if (!deps.config.quickbooksConfigured) return c.html(quickbooksSetupPage(deps.config, c));
    const s = service();
    const state = await createOAuthState(c, deps.secret, "quickbooks", deps.clock.now());
    return c.redirect(await s.oauth.authorizeUrl(state), 302);
  });

  app.get("/connect/quickbooks/callback", async (c) => {
    service();
    const denied = c.req.query("error");
    if (denied) throw new UserError("quickbooks_denied", `QuickBooks did not connect: ${denied}`, 400);
    const check = await checkOAuthState(c, deps.secret, "quickbooks", c.req.query("state"), deps.clock.now());
    if (!check.ok) {
      deps.log.warn({ reason: check.reason }, "QuickBooks callback refused");
      throw new UserError(
        "invalid_state",
        `This connection attempt cannot be trusted (${check.reason}). Start again.`,
      );
    }
    if (!c.req.query("code") || !c.req.query("realmId"))
      throw new UserError("invalid_callback", "QuickBooks sent no authorisation code or company id", 400);
    const { org } = await finishQuickbooksConsent(deps, new URL(c.req.url).search);
    return c.redirect(`/orgs/${org.slug}`, 303);
  });

  app.post("/orgs/:slug/quickbooks/disconnect", async (c) => {
    service();
    const org = await disconnectLedger(deps, "quickbooks", c.req.param("slug"), new URL(c.req.url).origin);
    return c.redirect(`/orgs/${org.slug}`, 303);
  });

  app.post("/webhooks/quickbooks", async (c) => {
    const verifier = deps.config.QBO_WEBHOOK_VERIFIER;
    if (!verifier)
      throw new UserError("quickbooks_not_configured", "QuickBooks webhooks are not configured", 404);
    const raw = await c.req.text();
    if (!(await verifyHmacSha256Base64(verifier, raw, c.req.header("intuit-signature"))))
      return c.json({ error: { code: "bad_signature", message: "signature does not match" } }, 401);
    if (!acceptsContentType(c.req.header("content-type")))
      return c.json({ error: { code: "unsupported_media_type", message: "expected CloudEvents JSON" } }, 415);
    let events: QboWebhookEvent[];
    try {
      events = parseWebhook(raw);
    } catch {
      throw new UserError("invalid_webhook", "not a QuickBooks webhook body", 400);
    }
    const work = await recordQuickbooksEvents(deps, events);
    if (work.length > 0)
      await afterResponse(c, deps, "QuickBooks webhook re-pull", () => repullQuickbooks(deps, work));
    return c.json({ ok: true, received: events.length });
  });

  return app;
}
