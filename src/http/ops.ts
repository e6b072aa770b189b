/**
 * Operator calls to a deployment, authorised by a request signed with the install secret (no session, no
 * cookie): `creditpulse demo --url` posts here. On Workers the work goes to the jobs queue (202); on Node it
 * runs before the answer (200, with the summary).
 */
import { Hono } from "hono";
import type { Deps } from "../deps";
import { requestDemoSeed } from "../import/demo-deploy";
import type { AppEnv } from "./auth";

const bearer = (header: string | undefined) => header?.match(/^Bearer\s+(\S+)$/i)?.[1];

export function opsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.post("/ops/demo", async (c) => {
    const r = await requestDemoSeed(deps, bearer(c.req.header("authorization")));
    return c.json(r, r.queued ? 202 : 200);
  });
  return app;
}
