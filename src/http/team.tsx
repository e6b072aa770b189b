/**
 * The team page (`/team`): every organisation the user belongs to, its members and open invitations. Owners
 * invite by email with a role (to one or more organisations they own), change roles, remove members, and
 * resend or revoke invitations; everyone else sees the lists without buttons. Decisions live in
 * src/auth/team.ts; each write and its audit row are one batch in the store.
 */
import { type Context, Hono } from "hono";
import type { MailOutcome } from "../auth/account-mail";
import {
  cancelInvite,
  type InviteField,
  invite,
  MAX_EMAIL_LENGTH,
  removeFromTeam,
  resendInvite,
  setMemberRole,
  type TeamOrg,
  teamOf,
} from "../auth/team";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { mailConfigured } from "../mail/mailer-for";
import { ROLES } from "../store/accounts";
import { type AppEnv, currentUser } from "./auth";
import { PostButton } from "./components";
import { FieldError, fieldAttrs } from "./form";
import { Layout } from "./layout";

const str = (v: unknown) => (typeof v === "string" ? v : "");
const strs = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === "string") : v ? [str(v)] : [];

/** Selects the link when its field gets focus and copies it with the button (CSP: a script file, not inline). */
const COPY_JS = `document.addEventListener("click", (e) => {
  const b = e.target.closest("[data-copy]");
  if (!b) return;
  const input = document.getElementById(b.dataset.copy);
  input.select();
  navigator.clipboard?.writeText(input.value).then(() => { b.textContent = "Copied"; });
});
document.addEventListener("focusin", (e) => { if (e.target.matches("input[data-link]")) e.target.select(); });
`;

const TEAM_CSS = `
.copy { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; }
.copy label { flex-basis:100%; }
.copy input { flex:1 1 12rem; min-width:0; width:100%; font-family: ui-monospace, monospace; font-size:13px; }
fieldset { border:1px solid var(--line); border-radius:6px; margin:.5rem 0; }
label.check { display:flex; gap:.4rem; align-items:center; margin:.2rem 0; }
section { margin-top:1.5rem; }
td form.inline { margin:0 .25rem .25rem 0; }
table.team caption { text-align:left; font-weight:600; padding:.5rem 0 .25rem; }
@media (max-width: 700px) {
  table.team thead { display:none; }
  table.team tr { display:block; padding:.5rem 0; border-bottom:1px solid var(--line); }
  table.team td { display:block; border:0; padding:.15rem 0; }
  table.team td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
.visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
`;

const DONE: Record<string, string> = {
  role: "Role changed.",
  removed: "Member removed.",
  revoked: "Invitation revoked: its link no longer works.",
};

interface Shown {
  /** The invite form's values and problems (a bad value comes back with the input kept). */
  form?: { email: string; role: string; orgs: string[]; problems: Partial<Record<InviteField, string>> };
  /** A link just made (invitation or resend) and what happened to its email. */
  sent?: { email: string; link: string; mail: MailOutcome; orgs: string };
  /** A refused change, shown in that organisation's section. */
  problem?: { slug: string; text: string };
  status?: 200 | 409 | 422;
}

function mailText(m: MailOutcome, email: string): string {
  if (m.status === "sent") return `We emailed the invitation to ${email}. You can also send them this link:`;
  if (m.status === "not_configured")
    return `Mail is not set up on this install, so nothing was emailed: send ${email} this link yourself.`;
  return `The email to ${email} could not be sent (${m.reason}): send them this link yourself.`;
}

function InviteForm(props: { owned: TeamOrg[]; form?: Shown["form"] }) {
  const f = props.form;
  const p = f?.problems ?? {};
  const chosen = f ? new Set(f.orgs) : new Set(props.owned.length === 1 ? [props.owned[0]!.org.slug] : []);
  return (
    <form method="post" action="/team/invite" class="narrow" aria-labelledby="invite-h">
      <h2 id="invite-h">Invite someone</h2>
      <p class="field">
        <label for="email">Their email address</label>
        <input
          id="email"
          name="email"
          type="email"
          maxlength={MAX_EMAIL_LENGTH}
          value={f?.email ?? ""}
          required
          {...fieldAttrs("email", p.email, "email-problem")}
        />
        <FieldError id="email" messageId="email-problem" error={p.email} />
      </p>
      <p class="field">
        <label for="role">Role</label>
        <select
          id="role"
          name="role"
          aria-describedby="role-help"
          {...fieldAttrs("role", p.role, "role-problem")}
        >
          {ROLES.map((r) => (
            <option value={r} selected={(f?.role ?? "bookkeeper") === r}>
              {r}
            </option>
          ))}
        </select>
        <span class="muted" id="role-help">
          Viewers look; bookkeepers also send reminders and handle holds; owners also manage settings and the
          team.
        </span>
        <FieldError id="role" messageId="role-problem" error={p.role} />
      </p>
      <fieldset {...fieldAttrs("orgs", p.orgs, "orgs-problem")}>
        <legend>Organisations</legend>
        {props.owned.map((o) => (
          <label class="check">
            <input type="checkbox" name="orgs" value={o.org.slug} checked={chosen.has(o.org.slug)} />{" "}
            {o.org.name}
          </label>
        ))}
        <FieldError id="orgs" messageId="orgs-problem" error={p.orgs} />
      </fieldset>
      <button type="submit">Send invitation</button>
    </form>
  );
}

function OrgTeam(props: { t: TeamOrg; userId: string; problem?: string }) {
  const { t } = props;
  const owner = t.role === "owner";
  const base = `/team/${encodeURIComponent(t.org.slug)}`;
  const owners = t.members.filter((m) => m.role === "owner").length;
  const lastOwner = (m: TeamOrg["members"][number]) => m.role === "owner" && owners === 1;
  return (
    <section aria-labelledby={`org-${t.org.slug}`}>
      <h2 id={`org-${t.org.slug}`}>
        {t.org.name} <span class="muted">(you: {t.role})</span>
      </h2>
      {props.problem ? (
        <p class="problem" role="alert">
          {props.problem}
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="team">
          <caption>Members</caption>
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              {owner ? <th>Change</th> : null}
            </tr>
          </thead>
          <tbody>
            {t.members.map((m) => (
              <tr>
                <td>
                  {m.email}
                  {m.userId === props.userId ? <span class="muted"> (you)</span> : null}
                </td>
                <td data-label="Role">{m.role}</td>
                {owner && lastOwner(m) ? (
                  <td class="muted">The only owner: make someone else owner before changing this.</td>
                ) : owner ? (
                  <td>
                    <form method="post" action={`${base}/members/${m.userId}/role`} class="inline">
                      <label class="visually-hidden" for={`role-${t.org.slug}-${m.userId}`}>
                        Role of {m.email}
                      </label>
                      <select id={`role-${t.org.slug}-${m.userId}`} name="role">
                        {ROLES.map((r) => (
                          <option value={r} selected={m.role === r}>
                            {r}
                          </option>
                        ))}
                      </select>
                      <button type="submit" class="secondary">
                        Change role
                      </button>
                    </form>
                    <PostButton
                      action={`${base}/members/${m.userId}/remove`}
                      label="Remove"
                      ariaLabel={`Remove ${m.email} from ${t.org.name}`}
                      secondary
                    />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {t.invites.length ? (
        <div class="table-wrap">
          <table class="team">
            <caption>Open invitations</caption>
            <thead>
              <tr>
                <th>Email</th>
                <th>Role</th>
                <th>Expires</th>
                {owner ? <th>Change</th> : null}
              </tr>
            </thead>
            <tbody>
              {t.invites.map((i) => (
                <tr>
                  <td>{i.email}</td>
                  <td data-label="Role">{i.role}</td>
                  <td data-label="Expires">{new Date(i.expiresAt).toISOString().slice(0, 10)}</td>
                  {owner ? (
                    <td>
                      <PostButton
                        action={`${base}/invites/${i.id}/resend`}
                        label="Resend"
                        ariaLabel={`Resend the invitation to ${i.email}`}
                        secondary
                      />
                      <PostButton
                        action={`${base}/invites/${i.id}/revoke`}
                        label="Revoke"
                        ariaLabel={`Revoke the invitation to ${i.email}`}
                        secondary
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

export function teamRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/assets/copy.js", (c) =>
    c.body(COPY_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "max-age=300",
    }),
  );

  async function page(c: Context<AppEnv>, shown: Shown = {}) {
    const user = currentUser(c);
    const team = await teamOf(deps, user.id);
    const owned = team.filter((t) => t.role === "owner");
    const done = DONE[c.req.query("done") ?? ""];
    return c.html(
      <Layout
        title="Team"
        email={user.email}
        head={
          <>
            <script src="/assets/copy.js" defer />
            <style dangerouslySetInnerHTML={{ __html: TEAM_CSS }} />
          </>
        }
      >
        <h1>Team</h1>
        {done ? (
          <p class="notice" role="status">
            {done}
          </p>
        ) : null}
        {shown.sent ? (
          <div class="notice" role="status">
            <p>
              Invitation to {shown.sent.orgs}: {mailText(shown.sent.mail, shown.sent.email)}
            </p>
            <p class="copy">
              <label for="invite-link">Invitation link (works once, for 7 days)</label>
              <input id="invite-link" data-link readonly value={shown.sent.link} />
              <button type="button" class="secondary" data-copy="invite-link">
                Copy link
              </button>
            </p>
          </div>
        ) : null}
        {owned.length ? (
          <>
            {mailConfigured(deps.config) ? null : (
              <p class="muted">
                Mail is not set up on this install: invitations are not emailed, but you get a link to pass
                on.
              </p>
            )}
            <InviteForm owned={owned} form={shown.form} />
          </>
        ) : (
          <p class="muted">Only owners invite people and change roles. Ask an owner of your organisation.</p>
        )}
        {team.map((t) => (
          <OrgTeam
            t={t}
            userId={user.id}
            problem={shown.problem?.slug === t.org.slug ? shown.problem.text : undefined}
          />
        ))}
      </Layout>,
      shown.status ?? 200,
    );
  }

  app.get("/team", (c) => page(c));

  app.post("/team/invite", async (c) => {
    const user = currentUser(c);
    const body = await c.req.parseBody({ all: true });
    const input = { email: str(body.email), role: str(body.role), orgs: strs(body.orgs) };
    const r = await invite(deps, user, input);
    if (!r.ok) return page(c, { form: { ...input, problems: r.problems }, status: 422 });
    return page(c, {
      sent: { email: r.email, link: r.link, mail: r.mail, orgs: r.orgs.map((o) => o.name).join(", ") },
    });
  });

  /** A refused change (last owner, already gone) comes back on the page beside that organisation. */
  async function change(c: Context<AppEnv>, work: () => Promise<void>, done: string) {
    try {
      await work();
    } catch (e) {
      if (e instanceof UserError && (e.status === 409 || e.status === 422))
        return page(c, { problem: { slug: c.req.param("slug") ?? "", text: e.message }, status: e.status });
      throw e;
    }
    return c.redirect(`/team?done=${done}`, 303);
  }

  app.post("/team/:slug/members/:userId/role", async (c) => {
    const role = str((await c.req.parseBody()).role);
    return change(
      c,
      () => setMemberRole(deps, currentUser(c), c.req.param("slug"), c.req.param("userId"), role),
      "role",
    );
  });

  app.post("/team/:slug/members/:userId/remove", (c) =>
    change(
      c,
      () => removeFromTeam(deps, currentUser(c), c.req.param("slug"), c.req.param("userId")),
      "removed",
    ),
  );

  app.post("/team/:slug/invites/:id/revoke", (c) =>
    change(c, () => cancelInvite(deps, currentUser(c), c.req.param("slug"), c.req.param("id")), "revoked"),
  );

  app.post("/team/:slug/invites/:id/resend", async (c) => {
    const slug = c.req.param("slug");
    try {
      const r = await resendInvite(deps, currentUser(c), slug, c.req.param("id"));
      const team = await teamOf(deps, currentUser(c).id);
      const name = team.find((t) => t.org.slug === slug)?.org.name ?? slug;
      return page(c, { sent: { email: r.email, link: r.link, mail: r.mail, orgs: name } });
    } catch (e) {
      if (e instanceof UserError && e.status === 409)
        return page(c, { problem: { slug, text: e.message }, status: 409 });
      throw e;
    }
  });

  return app;
}
