/**
 * The settings page (`/orgs/<slug>/settings`, JSON at `/api/orgs/<slug>/settings`): a list of sections, each its
 * own component (the ledger connection, the sending window and timezone, the reminder policies
 * (settings-policies.tsx), mail settings (settings-mail.tsx), the template editor). Changes are POST forms
 * (bookkeeper or owner; CSRF checked by authMiddleware) following src/http/form.tsx: a bad value re-renders this
 * page with 422, the message beside the field and the input kept. They are written with their audit rows by
 * src/dashboard/settings-changes.ts and settings-mail.ts.
 */

import { type Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { settingsEditor, settingsPage } from "../../dashboard/settings";
import { saveSendingWindow } from "../../dashboard/settings-changes";
import { TEMPLATE_NAMES } from "../../dashboard/templates";
import type { Deps } from "../../deps";
import { isTimeZone } from "../../model";
import { isHhMm } from "../../reminders/window";
import type { OrgAccess } from "../../store/accounts";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { Notice, signed } from "../components";
import {
  errorsOf,
  Field,
  FieldError,
  type FormFailure,
  FormProblem,
  fieldAttrs,
  parseForm,
  typed,
} from "../form";
import { memberOf, parseInput, text } from "../input";
import { Layout, OrgNav } from "../layout";
import { ChargesSection } from "./settings-charges";
import { MailSection } from "./settings-mail";
import { PaymentSection } from "./settings-payment";
import { PoliciesSection } from "./settings-policies";
import type { SectionProps, SettingsSection } from "./settings-section";

/** Which template part the editor opens (`?template=&part=`; anything else opens overdue / html). */
const editorInput = z.object({ template: text, part: text });

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export const windowInput = z
  .object({ start: text, end: text, days: z.unknown().optional(), timezone: text })
  .transform((f, ctx) => {
    const issue = (field: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [field], message });
    const days = ([] as unknown[])
      .concat(f.days ?? [])
      .map(Number)
      .filter((d) => d >= 1 && d <= 7);
    const timezone = f.timezone.trim();
    if (!isHhMm(f.start)) issue("start", "Enter the start as a time, such as 09:00.");
    if (!isHhMm(f.end)) issue("end", "Enter the end as a time, such as 17:00.");
    else if (isHhMm(f.start) && f.start >= f.end) issue("end", "The window must end after it starts.");
    if (days.length === 0) issue("days", "Pick at least one day.");
    if (!isTimeZone(timezone))
      issue("timezone", `“${timezone.slice(0, 60)}” is not a timezone: use a name like Europe/London.`);
    return { start: f.start, end: f.end, days, timezone };
  });

function ConnectionSection({ view: v, access, deps }: SectionProps) {
  const { org } = access;
  const owner = access.role === "owner";
  return (
    <section aria-labelledby="conn-h" id="connection">
      <h2 id="conn-h">Ledger connection</h2>
      {v.connections.length === 0 ? (
        <p>
          No ledger connected ({org.provider}).{" "}
          {owner ? (
            <>
              {deps.config.xeroConfigured ? <a href="/connect/xero">Connect Xero</a> : null}{" "}
              {deps.config.quickbooksConfigured ? <a href="/connect/quickbooks">Connect QuickBooks</a> : null}
              {!deps.config.xeroConfigured && !deps.config.quickbooksConfigured ? (
                <span class="muted">Set XERO_* or QBO_* to connect a ledger.</span>
              ) : null}
            </>
          ) : null}
        </p>
      ) : (
        <ul>
          {v.connections.map((cn) => (
            <li>
              {cn.provider} ({cn.tenant}):{" "}
              <strong class={cn.status === "active" ? "ok" : "bad"}>{cn.status.replace("_", " ")}</strong>,
              last sync{" "}
              {cn.last_sync_at
                ? new Date(cn.last_sync_at).toISOString().slice(0, 16).replace("T", " ")
                : "never"}
              {cn.last_error ? <span class="muted"> ({cn.last_error})</span> : null}
              {owner && cn.status !== "disconnected" ? (
                <form
                  method="post"
                  action={
                    cn.provider === "xero"
                      ? `/orgs/${org.slug}/disconnect`
                      : `/orgs/${org.slug}/quickbooks/disconnect`
                  }
                  class="inline"
                >
                  <button type="submit" class="secondary">
                    Disconnect
                  </button>
                </form>
              ) : null}
              {owner && cn.status !== "active" ? <a href={`/connect/${cn.provider}`}> Reconnect</a> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function WindowSection({ view: v, access, base, readOnly: ro, failure }: SectionProps) {
  const errors = errorsOf(failure, "window");
  const value = (name: string, fallback: string) => typed(failure, "window", name, fallback);
  const days =
    failure?.form === "window"
      ? ([] as unknown[]).concat(failure.values.days ?? []).map(String)
      : v.window.days.map(String);
  return (
    <section aria-labelledby="win-h" id="window">
      <h2 id="win-h">Sending window and timezone</h2>
      <FormProblem failure={failure} form="window" />
      <form method="post" action={`${base}/window`} class="inline">
        <Field id="start" label="From" error={errors.start}>
          <input
            id="start"
            name="start"
            type="time"
            value={value("start", v.window.start)}
            disabled={ro}
            {...fieldAttrs("start", errors.start)}
          />
        </Field>
        <Field id="end" label="Until" error={errors.end}>
          <input
            id="end"
            name="end"
            type="time"
            value={value("end", v.window.end)}
            disabled={ro}
            {...fieldAttrs("end", errors.end)}
          />
        </Field>
        <fieldset {...fieldAttrs("days", errors.days)}>
          <legend>Days</legend>
          {WEEKDAYS.map((d, i) => (
            <label>
              <input
                type="checkbox"
                name="days"
                value={String(i + 1)}
                checked={days.includes(String(i + 1))}
                disabled={ro}
              />{" "}
              {d}{" "}
            </label>
          ))}
          <FieldError id="days" error={errors.days} />
        </fieldset>
        <Field id="timezone" label="Organisation timezone" error={errors.timezone}>
          <input
            id="timezone"
            name="timezone"
            value={value("timezone", access.org.timezone)}
            disabled={ro}
            {...fieldAttrs("timezone", errors.timezone)}
          />
        </Field>
        {ro ? null : <button type="submit">Save</button>}
      </form>
    </section>
  );
}

async function TemplatesSection({ c, deps, access, base, readOnly: ro, failure }: SectionProps) {
  const edit = failure?.form === "template" ? failure : undefined;
  const asked = edit
    ? {
        template: String(edit.values.name ?? ""),
        part: String(edit.values.part ?? ""),
        typed: String(edit.values.body ?? ""),
      }
    : parseInput(editorInput, c.req.query());
  const { name, part, body } = await settingsEditor(deps, access.org, asked);
  const error = edit?.errors.body;
  return (
    <section aria-labelledby="tpl-h" id="templates">
      <h2 id="tpl-h">Templates</h2>
      <form method="get" class="filters" aria-label="Choose a template">
        <p class="field">
          <label for="template">Template</label>
          <select id="template" name="template">
            {TEMPLATE_NAMES.map((n) => (
              <option value={n} selected={n === name}>
                {n}
              </option>
            ))}
          </select>
        </p>
        <p class="field">
          <label for="part">Part</label>
          <select id="part" name="part">
            {["subject", "html", "text"].map((n) => (
              <option value={n} selected={n === part}>
                {n}
              </option>
            ))}
          </select>
        </p>
        <button type="submit" class="secondary">
          Open
        </button>
      </form>
      <form
        method="post"
        action={`${base}/templates`}
        id="template-form"
        data-preview={`${base}/templates/preview`}
      >
        <input type="hidden" name="name" value={name} />
        <input type="hidden" name="part" value={part} />
        <label for="body">
          {name} · {part} (Liquid; see README: Reminder templates)
        </label>
        {error ? (
          <p class="problem" role="alert" id="body-error">
            Not saved: this template does not render. {error}
          </p>
        ) : null}
        <textarea id="body" name="body" readonly={ro} {...fieldAttrs("body", error)}>
          {body}
        </textarea>
        {ro ? null : (
          <p>
            <button
              type="submit"
              formaction={`${base}/templates/preview`}
              formtarget="preview"
              class="secondary"
            >
              Preview
            </button>{" "}
            <button type="submit">Save template</button>
          </p>
        )}
      </form>
      {ro ? null : (
        <iframe
          name="preview"
          id="preview"
          title="Template preview"
          class="preview"
          sandbox=""
          src={`${base}/templates/preview?name=${name}&part=${part}`}
        />
      )}
    </section>
  );
}

/** The page's sections, in order. Add a section: its own component file, and one line here. */
const SECTIONS: SettingsSection[] = [
  ConnectionSection,
  WindowSection,
  PoliciesSection,
  MailSection,
  PaymentSection,
  ({ deps, access }) => ChargesSection({ deps, org: access.org, role: access.role }),
  TemplatesSection,
];

/**
 * Renders the settings page. `failure` re-shows a form that was posted with a problem (422 by default), or a
 * policy being edited (200): its section shows the user's input and the messages beside the fields.
 */
export async function settingsView(
  c: Context<AppEnv>,
  deps: Deps,
  access: OrgAccess,
  failure?: FormFailure,
  status?: ContentfulStatusCode,
) {
  const { org } = access;
  const view = await settingsPage(deps, org);
  const props: SectionProps = {
    c,
    deps,
    access,
    view,
    base: `/orgs/${org.slug}/settings`,
    readOnly: access.role === "viewer",
    failure,
  };
  const sections: Child[] = await Promise.all(SECTIONS.map((s) => s(props)));
  return c.html(
    <Layout title={`Settings · ${org.name}`} {...signed(c)} head={<script src="/assets/preview.js" defer />}>
      <h1>{org.name}: settings</h1>
      <OrgNav slug={org.slug} current="settings" />
      <Notice c={c} />
      {sections}
    </Layout>,
    status ?? (failure ? 422 : 200),
  );
}

export function settingsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs/:slug/settings", async (c) => {
    const { org } = await orgAccess(c, deps);
    return c.json(await settingsPage(deps, org));
  });

  app.get("/orgs/:slug/settings", async (c) => settingsView(c, deps, await orgAccess(c, deps)));

  app.post("/orgs/:slug/settings/window", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const fields = await c.req.parseBody({ all: true });
    const r = parseForm(windowInput, fields);
    if (!r.ok) return settingsView(c, deps, access, { form: "window", values: fields, errors: r.errors });
    await saveSendingWindow(deps, access.org, r.data, memberOf(c));
    return c.redirect(`/orgs/${access.org.slug}/settings?done=window_saved#window`, 303);
  });

  return app;
}
