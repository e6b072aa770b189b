/**
 * The customer page's changes (POST forms, and the same under /api/ with JSON): pause or resume chasing, opt
 * out, exclude, the reminder address, the credit limit, the reminder policy, resolving a dispute. Bookkeeper or
 * owner; CSRF checked by authMiddleware. Each route parses its fields and hands one change to
 * src/dashboard/customer-changes.ts, which writes it with its audit row.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type CustomerChange, changeCustomer } from "../../dashboard/customer-changes";
import type { Deps } from "../../deps";
import { isValidAddress } from "../../mail/address";
import { isIsoDate, parseTypedAmount } from "../../model";
import type { Organisation } from "../../store/orgs";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { apiFormError, isApi, parseForm } from "../form";
import { bodyFields, flag, memberOf, text } from "../input";
import { customerPageView } from "./customer";

type ChangeInput = (org: Organisation) => z.ZodType<CustomerChange>;

const fail = (ctx: z.RefinementCtx, message: string, field?: string) => {
  ctx.addIssue({ code: "custom", message, path: field ? [field] : [] });
  return z.NEVER;
};

/** Each change's path under the customer, and how its fields become a change. */
const CHANGES: Record<string, ChangeInput> = {
  chasing: () =>
    z.object({ action: text, until: text }).transform((f, ctx): CustomerChange => {
      if (f.action === "resume") return { kind: "resume" };
      if (!isIsoDate(f.until)) return fail(ctx, "Pick the date chasing should stay paused until.", "until");
      return { kind: "pause", until: f.until };
    }),
  "resolve-dispute": () =>
    z.object({ invoice_id: text, resolution: text }).transform(
      (f): CustomerChange => ({
        kind: "resolve_dispute",
        invoiceId: f.invoice_id,
        resolution: f.resolution.trim().slice(0, 500) || null,
      }),
    ),
  "opt-out": () =>
    z
      .object({ opted_out: flag })
      .transform((f): CustomerChange => ({ kind: "opt_out", optedOut: f.opted_out })),
  "reminder-address": () =>
    z.object({ email: text }).transform((f, ctx): CustomerChange => {
      const email = f.email.trim();
      if (email && !isValidAddress(email))
        return fail(ctx, `“${email.slice(0, 80)}” is not an email address reminders can go to.`, "email");
      return { kind: "reminder_address", email: email || null };
    }),
  exclude: () =>
    z
      .object({ excluded: flag })
      .transform((f): CustomerChange => ({ kind: "exclude", excluded: f.excluded })),
  "credit-limit": (org) =>
    z.object({ limit: text }).transform((f, ctx): CustomerChange => {
      const limit = f.limit.trim();
      // Typed as people type amounts: "10,000" and "10000.50" both work, in the currency's own decimals.
      const minor = limit === "" ? null : parseTypedAmount(limit, org.baseCurrency);
      if (minor === undefined)
        return fail(
          ctx,
          `“${limit.slice(0, 40)}” is not an amount: enter the credit limit in ${org.baseCurrency}, such as 10,000 or 10000.50 (empty for no limit).`,
          "limit",
        );
      return { kind: "credit_limit", minor, text: limit || null };
    }),
  policy: () =>
    z
      .object({ policy_id: text })
      .transform((f): CustomerChange => ({ kind: "policy", policyId: f.policy_id || null })),
};

export function customerChangeRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  for (const [path, input] of Object.entries(CHANGES)) {
    const handler = async (c: Context<AppEnv>) => {
      const access = await orgAccess(c, deps);
      requireRole(access, "bookkeeper");
      const { org } = access;
      const fields = (await bodyFields(c)) as Record<string, unknown>;
      const id = c.req.param("id") ?? "";
      const parsed = parseForm(input(org), fields);
      if (!parsed.ok) {
        if (isApi(c)) return apiFormError(c, parsed.errors);
        return customerPageView(c, deps, access, id, { form: path, values: fields, errors: parsed.errors });
      }
      const change = parsed.data;
      const r = await changeCustomer(deps, org, id, change, memberOf(c));
      if (c.req.path.startsWith("/api/")) return c.json({ ok: true, action: r.action });
      return c.redirect(`/orgs/${org.slug}/customers/${encodeURIComponent(id)}?done=${r.done}`, 303);
    };
    app.post(`/orgs/:slug/customers/:id/${path}`, handler);
    app.post(`/api/orgs/:slug/customers/:id/${path}`, handler);
  }
  return app;
}
