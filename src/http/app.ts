import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { dashboardRoutes } from "./dashboard";
import { quickbooksRoutes } from "./quickbooks";
import { xeroRoutes } from "./xero";

/** The HTTP app. Everything it needs comes in `deps`; routes only start flows. */
export function createApp(deps: Deps) {
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.use(requestId());

  app.get("/healthz", async (c) => {
    await deps.store.db.run(sql`select 1`);
    return c.json({ ok: true });
  });

  app.route("/", dashboardRoutes(deps));
  app.route("/", xeroRoutes(deps));
  app.route("/", quickbooksRoutes(deps));

  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: "no such page", requestId: c.get("requestId") } }, 404),
  );

  app.onError((err, c) => {
    const id = c.get("requestId");
    if (err instanceof UserError)
      return c.json({ error: { code: err.code, message: err.message, requestId: id } }, err.status);
    if (err instanceof HTTPException)
      return c.json({ error: { code: "http_error", message: err.message, requestId: id } }, err.status);
    deps.log.error({ err, requestId: id, path: c.req.path }, "request failed");
    return c.json({ error: { code: "internal", message: "something went wrong", requestId: id } }, 500);
  });

  return app;
}
