/** Sign in, sign out, first-run setup and invitations. The CSRF field is added to each form by authMiddleware. */
import { type Context, Hono } from "hono";
import {
  claimInvite,
  clearFailures,
  createSession,
  endSession,
  ensureUser,
  findOpenInvite,
  findUserByEmail,
  grant,
  normaliseEmail,
  recentFailures,
  recordFailure,
  setPassword,
} from "../auth/accounts";
import { hashPassword, passwordProblem, verifyPassword } from "../auth/password";
import { completeSetup, setupTokenValid } from "../auth/setup";
import type { Deps } from "../deps";
import { isTimeZone } from "../model";
import { type AppEnv, clearSessionCookie, safeNext, sessionPolicy, setSessionCookie } from "./auth";
import { Layout } from "./layout";
import { findOrgById } from "./queries";

const WINDOW_MS = 15 * 60_000;

function clientIp(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return (
    env?.incoming?.socket?.remoteAddress ??
    c.req.header("x-forwarded-for")?.split(",")[0]?.trim() ??
    "unknown"
  );
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

function Field(props: {
  id: string;
  label: string;
  type?: string;
  value?: string;
  autocomplete?: string;
  required?: boolean;
}) {
  return (
    <p class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type={props.type ?? "text"}
        value={props.value}
        autocomplete={props.autocomplete}
        required={props.required ?? true}
      />
    </p>
  );
}

function Problem(props: { text?: string }) {
  return props.text ? (
    <p class="problem" role="alert">
      {props.text}
    </p>
  ) : null;
}

export function loginRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const { db } = deps.store;

  const loginPage = (
    c: Context<AppEnv>,
    status: 200 | 401 | 429,
    opts: { email?: string; problem?: string; next?: string },
  ) =>
    c.html(
      <Layout title="Sign in" signedIn={false}>
        <h1>Sign in</h1>
        <Problem text={opts.problem} />
        <form method="post" action="/login" class="narrow">
          <input type="hidden" name="next" value={opts.next ?? "/"} />
          <Field id="email" label="Email" type="email" value={opts.email} autocomplete="username" />
          <Field id="password" label="Password" type="password" autocomplete="current-password" />
          <button type="submit">Sign in</button>
        </form>
      </Layout>,
      status,
    );

  app.get("/login", (c) =>
    c.get("auth")
      ? c.redirect(safeNext(c.req.query("next")), 303)
      : loginPage(c, 200, { next: safeNext(c.req.query("next")) }),
  );

  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const email = normaliseEmail(str(form.email));
    const password = str(form.password);
    const next = safeNext(str(form.next));
    const now = deps.clock.now();
    const keys = [`email:${email}`, `ip:${clientIp(c)}`] as const;
    const max = deps.config.LOGIN_MAX_FAILURES;
    const [byEmail, byIp] = await Promise.all(keys.map((k) => recentFailures(db, k, now, WINDOW_MS)));
    if ((byEmail ?? 0) >= max || (byIp ?? 0) >= max * 4) {
      deps.log.warn({ email, event: "login.rate_limited" }, "sign-in refused: too many failures");
      return loginPage(c, 429, {
        email,
        next,
        problem: "Too many failed attempts. Wait 15 minutes and try again.",
      });
    }
    const user = email ? await findUserByEmail(db, email) : undefined;
    const ok = await verifyPassword(password, user?.passwordHash ?? null);
    if (!user || !ok) {
      for (const k of keys) await recordFailure(db, k, now);
      deps.log.info({ email, event: "login.failed" }, "sign-in failed");
      return loginPage(c, 401, { email, next, problem: "That email and password do not match." });
    }
    await clearFailures(db, keys[0]);
    const { token } = await createSession(db, user.id, now, sessionPolicy(deps.config));
    await setSessionCookie(c, deps, token);
    deps.log.info({ user: user.id, event: "login" }, "signed in");
    return c.redirect(next, 303);
  });

  app.post("/logout", async (c) => {
    const auth = c.get("auth");
    if (auth) await endSession(db, auth.token);
    clearSessionCookie(c);
    return c.redirect("/login", 303);
  });

  const deadLink = (c: Context<AppEnv>, what: string) =>
    c.html(
      <Layout title="Link not valid" signedIn={false}>
        <h1>This {what} link is not valid</h1>
        <p>
          It has expired or has already been used. Ask for a new one, or <a href="/login">sign in</a>.
        </p>
      </Layout>,
      404,
    );

  const setupPage = (c: Context<AppEnv>, token: string, problem?: string, email?: string) =>
    c.html(
      <Layout title="Set up Creditpulse" signedIn={false}>
        <h1>Create the owner account</h1>
        <p>
          You will own every organisation in this install, including the demo. You can invite others later.
        </p>
        <Problem text={problem} />
        <form method="post" action="/setup" class="narrow">
          <input type="hidden" name="token" value={token} />
          <Field id="email" label="Email" type="email" value={email} autocomplete="username" />
          <Field
            id="password"
            label="Password (10 characters or more)"
            type="password"
            autocomplete="new-password"
          />
          <Field
            id="timezone"
            label="Your timezone (for the Monday digest)"
            value="Europe/London"
            required={false}
          />
          <button type="submit">Create account</button>
        </form>
      </Layout>,
      problem ? 422 : 200,
    );

  app.get("/setup", async (c) => {
    const token = c.req.query("token") ?? "";
    if (!(await setupTokenValid(deps, token))) return deadLink(c, "setup");
    return setupPage(c, token);
  });

  app.post("/setup", async (c) => {
    const form = await c.req.parseBody();
    const token = str(form.token);
    if (!(await setupTokenValid(deps, token))) return deadLink(c, "setup");
    const email = normaliseEmail(str(form.email));
    const password = str(form.password);
    const tz = str(form.timezone).trim();
    const problem =
      (!/^[^@\s]+@[^@\s]+$/.test(email) ? "Enter a valid email address." : null) ??
      passwordProblem(password) ??
      (tz && !isTimeZone(tz) ? "Unknown timezone: use a name like Europe/London." : null);
    if (problem) return setupPage(c, token, problem, email);
    const user = await completeSetup(deps, email, await hashPassword(password), tz || null);
    if (!user) return deadLink(c, "setup");
    const { token: session } = await createSession(db, user.id, deps.clock.now(), sessionPolicy(deps.config));
    await setSessionCookie(c, deps, session);
    deps.log.info({ user: user.id, event: "setup" }, "owner account created");
    return c.redirect("/", 303);
  });

  const invitePage = async (c: Context<AppEnv>, token: string, problem?: string) => {
    const invite = await findOpenInvite(db, token, deps.clock.now());
    if (!invite) return deadLink(c, "invitation");
    const org = await findOrgById(db, invite.orgId);
    const existing = await findUserByEmail(db, invite.email);
    const hasPassword = Boolean(existing?.passwordHash);
    return c.html(
      <Layout title="Accept invitation" signedIn={false}>
        <h1>Join {org?.name ?? "an organisation"}</h1>
        <p>
          You are invited as <strong>{invite.role}</strong> with the address <strong>{invite.email}</strong>.
        </p>
        <Problem text={problem} />
        <form method="post" action={`/invite/${encodeURIComponent(token)}`} class="narrow">
          <Field
            id="password"
            label={hasPassword ? "Your current password" : "Choose a password (10 characters or more)"}
            type="password"
            autocomplete={hasPassword ? "current-password" : "new-password"}
          />
          <button type="submit">Accept</button>
        </form>
      </Layout>,
      problem ? 422 : 200,
    );
  };

  app.get("/invite/:token", (c) => invitePage(c, c.req.param("token")));

  app.post("/invite/:token", async (c) => {
    const token = c.req.param("token");
    const now = deps.clock.now();
    const invite = await findOpenInvite(db, token, now);
    if (!invite) return invitePage(c, token);
    const password = str((await c.req.parseBody()).password);
    const existing = await findUserByEmail(db, invite.email);
    if (existing?.passwordHash) {
      if (!(await verifyPassword(password, existing.passwordHash)))
        return invitePage(c, token, "That password is not right.");
    } else {
      const problem = passwordProblem(password);
      if (problem) return invitePage(c, token, `Password: ${problem}.`);
    }
    const ok = await deps.store.atomically(async () => {
      if (!(await claimInvite(db, token, now))) return null;
      const { user } = await ensureUser(db, invite.email, now);
      if (!user.passwordHash) await setPassword(db, user.id, await hashPassword(password), now);
      await grant(db, user.id, invite.orgId, invite.role, now);
      return user;
    });
    if (!ok) return invitePage(c, token);
    const { token: session } = await createSession(db, ok.id, now, sessionPolicy(deps.config));
    await setSessionCookie(c, deps, session);
    const org = await findOrgById(db, invite.orgId);
    return c.redirect(org ? `/orgs/${org.slug}` : "/", 303);
  });

  return app;
}
