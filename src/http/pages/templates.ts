/**
 * The settings page's template editor: saving a template part (refused with the member's text kept, 422, when it
 * does not render for every sample customer) and previewing one in a sandboxed frame. Previews render
 * member-typed templates: only for members who may edit them. A GET shows the stored (or product) template;
 * typed text comes only by POST, which carries the CSRF token.
 */

import { type Context, Hono } from "hono";
import { html, raw } from "hono/html";
import { z } from "zod";
import { previewTemplate, saveTemplate, TEMPLATE_PARTS } from "../../dashboard/templates";
import type { Deps } from "../../deps";
import { TEMPLATE_NAME_RE } from "../../model/reminders";
import type { TemplatePart } from "../../store/reminder-settings";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { memberOf, parseInput, text } from "../input";
import { settingsView } from "./settings";

/** A template part and, when the member typed one, its text. */
const templateInput = z
  .object({ name: text, part: text, body: z.unknown().optional() })
  .transform((f, ctx) => {
    if (!TEMPLATE_NAME_RE.test(f.name) || !(TEMPLATE_PARTS as readonly string[]).includes(f.part)) {
      ctx.addIssue({ code: "custom", message: "Unknown template." });
      return z.NEVER;
    }
    const body = f.body === undefined ? undefined : typeof f.body === "string" ? f.body : "";
    return { name: f.name, part: f.part as TemplatePart, body };
  });

export function templateRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.post("/orgs/:slug/settings/templates", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const input = parseInput(templateInput, await c.req.parseBody());
    const t = { ...input, body: input.body ?? "" };
    // Refuses a template that does not render for every sample customer; the member's text is kept.
    const problem = await saveTemplate(deps, access.org, t, memberOf(c));
    if (problem)
      return settingsView(c, deps, access, { form: "template", values: t, errors: { body: problem } });
    return c.redirect(
      `/orgs/${access.org.slug}/settings?template=${t.name}&part=${t.part}&done=template_saved`,
      303,
    );
  });

  const preview = async (c: Context<AppEnv>, fields: Record<string, unknown>, typed: boolean) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const t = parseInput(templateInput, fields);
    if (!typed) t.body = undefined;
    const r = await previewTemplate(deps, access.org, t);
    const page =
      "error" in r
        ? html`<!doctype html><meta charset="utf-8"><p style="color:#b42318;font:14px system-ui" role="alert">This template does not render: ${r.error}</p>`
        : html`<!doctype html><meta charset="utf-8"><title>Preview</title><p style="font:13px system-ui;color:#5b6675">Subject: <strong data-testid="subject">${r.subject}</strong></p>${t.part === "text" ? html`<pre style="white-space:pre-wrap">${r.text}</pre>` : raw(r.html)}`;
    c.header(
      "content-security-policy",
      "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
    c.header("x-frame-options", "SAMEORIGIN");
    return c.body(String(await page), 200, { "content-type": "text/html; charset=utf-8" });
  };
  app.get("/orgs/:slug/settings/templates/preview", (c) => preview(c, c.req.query(), false));
  app.post("/orgs/:slug/settings/templates/preview", async (c) => preview(c, await c.req.parseBody(), true));

  return app;
}
