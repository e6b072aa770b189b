/**
 * QuickBooks Online routes: connect (OAuth2 with our signed, session-bound state), callback, disconnect, and
 * the webhook. Routes only start flows (connectors/quickbooks/service.ts); the webhook answers first and
 * re-pulls after.
 */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { ENTITIES, type Entity } from "../../connectors/connector";
import { verifyHmacSha256Base64 } from "../../connectors/hmac";
import { quickbooksFor } from "../../connectors/quickbooks/service";
import { acceptsContentType, parseWebhook, type QboWebhookEvent } from "../../connectors/quickbooks/webhook";
import { afterResponse, afterResponseIdle } from "../after-response";
import type { Deps } from "../deps";
import { NotFoundError, UserError } from "../errors";
import { markWebhookProcessed, recordWebhookEvent } from "../store/connections";
import { findOrgBySlug } from "../store/orgs";
import { organisations } from "../store/schema";
import { repullWithBackoff } from "../sync/webhook-events";
import { checkOAuthState, createOAuthState } from "./oauth-state";

/** Resolves when the QuickBooks work started after responses (webhook re-pulls) has finished. */
export const quickbooksIdle = afterResponseIdle;

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
    const s = service();
    const state = await createOAuthState(c, deps.secret, "quickbooks", deps.clock.now());
    return c.redirect(await s.oauth.authorizeUrl(state), 302);
  });

  app.get("/connect/quickbooks/callback", async (c) => {
    const s = service();
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
    const url = new URL(c.req.url);
    // Exchange with our registered redirect URI, whatever host the request came in on.
    const callbackUrl = `${s.redirectUri}${url.search}`;
    const { org } = await s.completeConnection(callbackUrl);
    return c.redirect(`/orgs/${org.slug}`, 303);
  });

  app.post("/orgs/:slug/quickbooks/disconnect", async (c) => {
    const s = service();
    const org = await findOrgBySlug(deps.store.db, c.req.param("slug"));
    if (!org) throw new NotFoundError("organisation");
    await s.disconnect(org.id);
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
    const s = quickbooksFor(deps);
    const now = deps.clock.now();
    const work = new Map<string, { realmId: string; entities: Set<Entity>; eventIds: string[] }>();
    for (const e of events) {
      const conn = s ? await s.connectionForRealm(e.realmId) : undefined;
      const fresh = await recordWebhookEvent(
        deps.store.db,
        { provider: "quickbooks", eventId: e.id, orgId: conn?.orgId ?? null, payload: JSON.stringify(e) },
        now,
      );
      if (!fresh || !conn || conn.status !== "active" || !e.entity) continue;
      const w = work.get(conn.id) ?? { realmId: e.realmId, entities: new Set<Entity>(), eventIds: [] };
      w.entities.add(e.entity);
      w.eventIds.push(e.id);
      work.set(conn.id, w);
    }
    if (s && work.size)
      await afterResponse(c, deps, "QuickBooks webhook re-pull", async () => {
        for (const w of work.values()) {
          const conn = await s.connectionForRealm(w.realmId);
          if (conn?.status !== "active") continue;
          const org = (
            await deps.store.db.select().from(organisations).where(eq(organisations.id, conn.orgId)).limit(1)
          )[0];
          // Retried with backoff until it succeeds; one that never does stays unprocessed (see repullWithBackoff).
          await repullWithBackoff(
            deps,
            "quickbooks",
            w.eventIds,
            async () => {
              const report = await s.sync(conn, { entities: ENTITIES.filter((e) => w.entities.has(e)) });
              deps.log.info({ org: org?.slug, status: report.status }, "QuickBooks webhook re-pull done");
              if (report.status !== "ok") throw new Error(report.error ?? `sync ${report.status}`);
              for (const id of w.eventIds)
                await markWebhookProcessed(deps.store.db, "quickbooks", id, deps.clock.now());
              return true;
            },
            { sleep: s.sleep },
          );
        }
      });
    return c.json({ ok: true, received: events.length });
  });

  return app;
}
