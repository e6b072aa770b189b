/**
 * Saving an organisation's mail settings (POST form, and JSON under /api/ with the same field names) and sending
 * a test email to the signed-in member through them. Bookkeeper or owner; CSRF checked by authMiddleware.
 */
import { type Context, Hono } from "hono";
import { saveMailSettings, sendTestEmail } from "../../dashboard/settings-mail";
import type { Deps } from "../../deps";
import { UserError } from "../../errors";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { apiFormError, isApi, parseForm } from "../form";
import { bodyFields, memberOf } from "../input";
import { settingsView } from "./settings";
import { mailInput } from "./settings-mail";

export function mailSettingsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  const save = async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const fields = (await bodyFields(c)) as Record<string, unknown>;
    const r = parseForm(mailInput(access.org.baseCurrency), fields);
    if (!r.ok) {
      if (isApi(c)) return apiFormError(c, r.errors);
      return settingsView(c, deps, access, { form: "mail", values: fields, errors: r.errors });
    }
    await saveMailSettings(deps, access.org, r.data, memberOf(c));
    if (isApi(c)) return c.json({ ok: true });
    return c.redirect(`/orgs/${access.org.slug}/settings?done=mail_saved#mail`, 303);
  };
  app.post("/orgs/:slug/settings/mail", save);
  app.post("/api/orgs/:slug/settings/mail", save);

  app.post("/orgs/:slug/settings/mail/test", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    try {
      await sendTestEmail(deps, access.org, memberOf(c));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return settingsView(
        c,
        deps,
        access,
        { form: "mail-test", values: {}, errors: { _form: err.message } },
        409,
      );
    }
    return c.redirect(`/orgs/${access.org.slug}/settings?done=mail_test_sent#mail`, 303);
  });

  return app;
}
