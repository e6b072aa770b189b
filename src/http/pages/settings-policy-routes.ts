/**
 * Saving a reminder policy from the settings page's table (POST form; the editing buttons re-show the form with
 * the change made and nothing saved), and the same as JSON under /api/ for scripts
 * (`{ name, levels: [{ offsetDays, template, name, placeHold? }] }`). Bookkeeper or owner; CSRF checked by
 * authMiddleware.
 */
import { Hono } from "hono";
import { policyChoices } from "../../dashboard/settings";
import { saveReminderPolicy } from "../../dashboard/settings-changes";
import type { Deps } from "../../deps";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { apiFormError, parseForm } from "../form";
import { memberOf } from "../input";
import { settingsView } from "./settings";
import { editRows, type LevelRow, policyForm, policySchema, rowFields, rowsFrom } from "./settings-policies";

/** Levels as JSON (the API, and scripts that post `levels` as a JSON form field) as table rows. */
function rowsOfJson(levels: unknown): LevelRow[] | null {
  if (!Array.isArray(levels)) return null;
  return levels.slice(0, 20).map((l) => {
    const o = (l && typeof l === "object" ? l : {}) as Record<string, unknown>;
    return {
      offset:
        typeof o.offsetDays === "number"
          ? String(o.offsetDays)
          : typeof o.offsetDays === "string"
            ? o.offsetDays
            : "",
      template: typeof o.template === "string" ? o.template : "",
      name: typeof o.name === "string" ? o.name : "",
      hold: o.placeHold === true,
      sms: o.sms === true,
    };
  });
}

export function policyRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.post("/orgs/:slug/settings/policies", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const fields = await c.req.parseBody({ all: true });
    const isNew = fields.new === "1";
    const name = typeof fields.name === "string" ? fields.name : "";
    let rows = rowsFrom(fields);
    if (typeof fields.levels === "string") {
      try {
        rows = rowsOfJson(JSON.parse(fields.levels)) ?? rows;
      } catch {
        // Not JSON: validated as the (empty) table below, which names the problem.
      }
    }
    const action = typeof fields.action === "string" ? fields.action : "save";
    const { templates, names } = await policyChoices(deps, access.org);
    const key = policyForm(isNew ? "" : name);
    const edited = editRows(rows, action, templates);
    if (edited)
      return settingsView(
        c,
        deps,
        access,
        { form: key, values: { name, ...rowFields(edited) }, errors: {} },
        200,
      );
    const parsed = parseForm(policySchema(templates, isNew ? names : null), { name, rows });
    if (!parsed.ok)
      return settingsView(c, deps, access, {
        form: key,
        values: { name, ...rowFields(rows) },
        errors: parsed.errors,
      });
    await saveReminderPolicy(deps, access.org, parsed.data, memberOf(c));
    return c.redirect(`/orgs/${access.org.slug}/settings?done=policy_saved#policies`, 303);
  });

  app.post("/api/orgs/:slug/settings/policies", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
    const name = typeof body?.name === "string" ? body.name : "";
    const rows = rowsOfJson(body?.levels) ?? [];
    const { templates, names } = await policyChoices(deps, access.org);
    const parsed = parseForm(policySchema(templates, names.includes(name) ? null : names), { name, rows });
    if (!parsed.ok) return apiFormError(c, parsed.errors);
    await saveReminderPolicy(deps, access.org, parsed.data, memberOf(c));
    return c.json({ ok: true, policy: parsed.data });
  });

  return app;
}
