/** Twilio's inbound-message webhook: signed form posts; the work is src/sms/inbound-webhook.ts. */
import { Hono } from "hono";
import type { Deps } from "../deps";
import { handleInboundSms } from "../sms/inbound-webhook";
import type { AppEnv } from "./auth";

export function smsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.post("/webhooks/twilio", async (c) => {
    const form = await c.req.parseBody();
    const params = Object.fromEntries(
      Object.entries(form).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
    const url = new URL(c.req.url);
    const out = await handleInboundSms(deps, {
      pathAndQuery: `${url.pathname}${url.search}`,
      params,
      signature: c.req.header("x-twilio-signature"),
    });
    if (out.status === 403) return c.text(out.reason, 403);
    return c.body('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', 200, {
      "content-type": "text/xml; charset=utf-8",
    });
  });
  return app;
}
