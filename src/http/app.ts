import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { redactPath } from "../log";
import { isBusyError } from "../store/busy";
import { storeAnswers } from "../store/health";
import { accountRoutes } from "./account";
import { type AppEnv, authMiddleware, ownerOfSlug, ownNewOrgs } from "./auth";
import { dashboardRoutes } from "./dashboard";
import { errorPage } from "./error-page";
import { importRoutes } from "./imports";
import { FAVICON_SVG } from "./layout";
import { bodyLimits, securityHeaders } from "./limits";
import { loginRoutes } from "./login";
import { opsRoutes } from "./ops";
import { holdsRoutes } from "./pages/holds";
import { remindersRoutes } from "./pages/reminders";
import { passwordResetRoutes } from "./password-reset";
import { portalRoutes } from "./portal";
import { quickbooksRoutes } from "./quickbooks";
import { smsRoutes } from "./sms";
import { teamRoutes } from "./team";
import { xeroRoutes } from "./xero";

/** Progressive enhancement for the template editor: preview as you type (the Preview button works without it). */
const PREVIEW_JS = `document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("template-form");
  const body = document.getElementById("body");
  if (!form || !body) return;
  const button = form.querySelector("button[formtarget=preview]");
  let timer;
  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => form.requestSubmit(button), 300);
  });
});
`;

const BUSY_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Busy: try again shortly</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d2733}</style>
</head><body><h1>Creditpulse is busy</h1>
<p>Another task is writing to the database right now (an import, for example). Nothing you sent was lost or
half-saved. Wait a few seconds and try again.</p></body></html>`;

/** A message as a sentence: capital first letter, final full stop. */
const sentence = (m: string) => {
  const s = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
};

/** The HTTP app. Everything it needs comes in `deps`; routes only start flows. */
export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(securityHeaders());
  // Before anything reads a body (CSRF check, webhook signatures, forms): oversized bodies get 413.
  app.use(bodyLimits());

  app.get("/healthz", async (c) => {
    await storeAnswers(deps.store);
    return c.json({ ok: true });
  });
  app.get("/assets/preview.js", (c) =>
    c.body(PREVIEW_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "max-age=300",
    }),
  );

  // The icon browsers ask for on every page (no 404 in the log, no sign-in needed).
  const icon = (c: Context) =>
    c.body(FAVICON_SVG, 200, { "content-type": "image/svg+xml", "cache-control": "max-age=86400" });
  app.get("/favicon.svg", icon);
  app.get("/favicon.ico", icon);

  app.use(authMiddleware(deps));
  // The ledger connectors' routes: owners only for disconnecting; connecting makes you owner of what it creates.
  app.use("/orgs/:slug/disconnect", ownerOfSlug(deps));
  app.use("/orgs/:slug/quickbooks/disconnect", ownerOfSlug(deps));
  app.use("/connect/xero/tenants", ownNewOrgs(deps));
  app.use("/connect/quickbooks/callback", ownNewOrgs(deps));

  app.route("/", loginRoutes(deps));
  app.route("/", passwordResetRoutes(deps));
  app.route("/", teamRoutes(deps));
  app.route("/", holdsRoutes(deps));
  app.route("/", remindersRoutes(deps));
  app.route("/", dashboardRoutes(deps));
  app.route("/", accountRoutes(deps));
  app.route("/", xeroRoutes(deps));
  app.route("/", quickbooksRoutes(deps));
  app.route("/", portalRoutes(deps));
  app.route("/", opsRoutes(deps));
  app.route("/", importRoutes(deps));
  app.route("/", smsRoutes(deps));

  app.notFound((c) =>
    c.req.path.startsWith("/api/")
      ? c.json({ error: { code: "not_found", message: "no such page", requestId: c.get("requestId") } }, 404)
      : errorPage(
          c,
          404,
          "There is no page at this address. It may have moved, or the link may be mistyped.",
        ),
  );

  app.onError((err, c) => {
    const id = c.get("requestId");
    if (isBusyError(err)) {
      // The database stayed locked past busy_timeout (a long writer elsewhere): a clear "try again", never a 500.
      deps.log.warn({ requestId: id, path: redactPath(c.req.path) }, "database busy: answered 503");
      const headers = { "retry-after": "5", "cache-control": "no-store" };
      if (c.req.path.startsWith("/api/"))
        return c.json(
          {
            error: {
              code: "busy",
              message: "the database is busy; try again in a few seconds",
              requestId: id,
            },
          },
          503,
          headers,
        );
      return c.html(BUSY_PAGE, 503, headers);
    }
    // JSON under /api/ (and for webhooks and /ops/, which machines call); an HTML page with a way back elsewhere.
    const json = ["/api/", "/webhooks/", "/ops/"].some((p) => c.req.path.startsWith(p));
    if (err instanceof UserError)
      return json
        ? c.json({ error: { code: err.code, message: err.message, requestId: id } }, err.status)
        : errorPage(c, err.status, sentence(err.message));
    if (err instanceof HTTPException) {
      // Hono's own (a body that is not valid JSON or form, for example): its message is safe to show.
      const status = err.status as ContentfulStatusCode;
      return json
        ? c.json({ error: { code: "http_error", message: err.message, requestId: id } }, status)
        : errorPage(c, status, sentence(err.message || "The request could not be read."));
    }
    deps.log.error({ err, requestId: id, path: redactPath(c.req.path) }, "request failed");
    return json
      ? c.json({ error: { code: "internal", message: "something went wrong", requestId: id } }, 500)
      : errorPage(c, 500, "Something went wrong on our side; nothing you sent was half-saved. Try again.", {
          requestId: id,
        });
  });

  return app;
}
