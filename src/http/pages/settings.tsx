/**
 * The settings page (`/orgs/<slug>/settings`, JSON at `/api/orgs/<slug>/settings`): the ledger connection, the
 * sending window and timezone, the reminder policies and the template editor (templates.ts saves and previews).
 * Changes are POST forms (bookkeeper or owner; CSRF checked by authMiddleware), written with their audit rows
 * by src/dashboard/settings-changes.ts.
 */

import { type Context, Hono } from "hono";
import { z } from "zod";
import { settingsEditor, settingsPage } from "../../dashboard/settings";
import { saveReminderPolicy, saveSendingWindow } from "../../dashboard/settings-changes";
import { TEMPLATE_NAMES } from "../../dashboard/templates";
import type { Deps } from "../../deps";
import { isTimeZone } from "../../model";
import { policyLevelsSchema } from "../../model/reminders";
import { isHhMm } from "../../reminders/window";
import type { OrgAccess } from "../../store/accounts";
import type { TemplatePart } from "../../store/reminder-settings";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { Notice, signed } from "../components";
import { memberOf, parseInput, text } from "../input";
import { Layout, OrgNav } from "../layout";
import { ChargesSection } from "./settings-charges";
import { PaymentSection } from "./settings-payment";

/** Which template part the editor opens (`?template=&part=`; anything else opens overdue / html). */
const editorInput = z.object({ template: text, part: text });

const windowInput = z
  .object({ start: text, end: text, days: z.unknown().optional(), timezone: text })
  .transform((f, ctx) => {
    const days = ([] as unknown[])
      .concat(f.days ?? [])
      .map(Number)
      .filter((d) => d >= 1 && d <= 7);
    const timezone = f.timezone.trim();
    const problem =
      !isHhMm(f.start) || !isHhMm(f.end) || f.start >= f.end
        ? "The window needs a start before its end (HH:MM)."
        : days.length === 0
          ? "Pick at least one day."
          : !isTimeZone(timezone)
            ? "Unknown timezone: use a name like Europe/London."
            : null;
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    return { start: f.start, end: f.end, days, timezone };
  });

const policyInput = z.object({
  name: text,
  levels: text.transform((s, ctx) => {
    try {
      return policyLevelsSchema.parse(JSON.parse(s));
    } catch (e) {
      ctx.addIssue({
        code: "custom",
        message: `Those levels are not valid: ${e instanceof Error ? e.message.slice(0, 300) : "bad JSON"}`,
      });
      return z.NEVER;
    }
  }),
});

/**
 * Renders the settings page; `edit` re-shows a template the member typed that could not be saved (422).
 */
export async function settingsView(
  c: Context<AppEnv>,
  deps: Deps,
  access: OrgAccess,
  edit?: { name: string; part: TemplatePart; body: string; error: string },
) {
  const { org } = access;
  const asked = edit
    ? { template: edit.name, part: edit.part, typed: edit.body }
    : parseInput(editorInput, c.req.query());
  const { view: v, name, part, body } = await settingsEditor(deps, org, asked);
  const ro = access.role === "viewer";
  const owner = access.role === "owner";
  const base = `/orgs/${org.slug}/settings`;
  return c.html(
    <Layout title={`Settings · ${org.name}`} {...signed(c)} head={<script src="/assets/preview.js" defer />}>
      <h1>{org.name}: settings</h1>
      <OrgNav slug={org.slug} current="settings" />
      <Notice c={c} />
      <section aria-labelledby="conn-h">
        <h2 id="conn-h">Ledger connection</h2>
        {v.connections.length === 0 ? (
          <p>
            No ledger connected ({org.provider}).{" "}
            {owner ? (
              <>
                {deps.config.xeroConfigured ? <a href="/connect/xero">Connect Xero</a> : null}{" "}
                {deps.config.quickbooksConfigured ? (
                  <a href="/connect/quickbooks">Connect QuickBooks</a>
                ) : null}
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
      <section aria-labelledby="win-h">
        <h2 id="win-h">Sending window and timezone</h2>
        <form method="post" action={`${base}/window`} class="inline">
          <p class="field">
            <label for="start">From</label>
            <input id="start" name="start" type="time" value={v.window.start} disabled={ro} />
          </p>
          <p class="field">
            <label for="end">Until</label>
            <input id="end" name="end" type="time" value={v.window.end} disabled={ro} />
          </p>
          <fieldset>
            <legend>Days</legend>
            {["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map((d, i) => (
              <label>
                <input
                  type="checkbox"
                  name="days"
                  value={String(i + 1)}
                  checked={v.window.days.includes(i + 1)}
                  disabled={ro}
                />{" "}
                {d}{" "}
              </label>
            ))}
          </fieldset>
          <p class="field">
            <label for="timezone">Organisation timezone</label>
            <input id="timezone" name="timezone" value={org.timezone} disabled={ro} />
          </p>
          {ro ? null : <button type="submit">Save</button>}
        </form>
      </section>
      <section aria-labelledby="pol-h">
        <h2 id="pol-h">Reminder policies</h2>
        {v.policies.map((p) => (
          <form method="post" action={`${base}/policies`}>
            <h3>{p.name}</h3>
            <input type="hidden" name="name" value={p.name} />
            <table>
              <thead>
                <tr>
                  <th scope="col">Level</th>
                  <th scope="col">Days from due date</th>
                  <th scope="col">Template</th>
                  <th scope="col">Credit hold</th>
                </tr>
              </thead>
              <tbody>
                {p.levels.map((l) => (
                  <tr>
                    <td>{l.level}</td>
                    <td>{l.offset_days}</td>
                    <td>{l.template}</td>
                    <td>
                      {[l.place_hold ? "places a hold" : "", l.sms ? "sends an SMS" : ""]
                        .filter(Boolean)
                        .join("; ")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {ro ? null : (
              <details>
                <summary>Edit levels (JSON)</summary>
                <label for={`levels-${p.name}`}>Levels of policy {p.name}</label>
                <textarea id={`levels-${p.name}`} name="levels" style="min-height:8rem">
                  {JSON.stringify(
                    p.levels.map((l) => ({
                      offsetDays: l.offset_days,
                      template: l.template,
                      name: l.name,
                      ...(l.place_hold ? { placeHold: true } : {}),
                      ...(l.sms ? { sms: true } : {}),
                    })),
                    null,
                    1,
                  )}
                </textarea>
                <button type="submit">Save policy</button>
              </details>
            )}
          </form>
        ))}
      </section>
      <PaymentSection deps={deps} access={access} />
      <ChargesSection deps={deps} org={org} role={access.role} />
      <section aria-labelledby="tpl-h">
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
          {edit ? (
            <p class="problem" role="alert" id="body-error">
              Not saved: this template does not render. {edit.error}
            </p>
          ) : null}
          <textarea
            id="body"
            name="body"
            readonly={ro}
            aria-invalid={edit ? "true" : undefined}
            aria-describedby={edit ? "body-error" : undefined}
          >
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
    </Layout>,
    edit ? 422 : 200,
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
    const input = parseInput(windowInput, await c.req.parseBody({ all: true }));
    await saveSendingWindow(deps, access.org, input, memberOf(c));
    return c.redirect(`/orgs/${access.org.slug}/settings?done=window_saved`, 303);
  });

  app.post("/orgs/:slug/settings/policies", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const input = parseInput(policyInput, await c.req.parseBody());
    await saveReminderPolicy(deps, access.org, input, memberOf(c));
    return c.redirect(`/orgs/${access.org.slug}/settings?done=policy_saved`, 303);
  });

  return app;
}
