/** Sign in, sign out, first-run setup and invitations. The CSRF field is added to each form by authMiddleware. */
import { type Context, Hono } from "hono";
import { hashPassword, passwordProblem } from "../auth/password";
import { signOut, startSession } from "../auth/sessions";
import { completeSetup, setupTokenValid } from "../auth/setup";
import { acceptInvite, checkPassword, openInvite } from "../auth/sign-in";
import type { Deps } from "../deps";
import { isTimeZone } from "../model";
import { signToken, verifyToken } from "../signed";
import { normaliseEmail, type User } from "../store/accounts";
import { type AppEnv, clearSessionCookie, safeNext, setSessionCookie } from "./auth";
import { clientAddress } from "./client";
import { Layout } from "./layout";
import { readSignedCookie, rotateSessionId, writeSignedCookie } from "./session";

/**
 * A browser where someone has signed in before carries a signed "known browser" cookie naming the account.
 * Its attempts for that account are limited under their own key, not under the address's and the IP's, so
 * a stranger's wrong guesses (which lock the address for unknown browsers) never lock the real user out of a
 * browser they already use.
 */
const DEVICE_COOKIE = "cp_device";
const DEVICE_DAYS = 180;

async function knownBrowserKey(c: Context, deps: Deps, user: User | undefined): Promise<string | null> {
  if (!user) return null;
  const raw = await readSignedCookie(c, deps.secret, DEVICE_COOKIE);
  if (!raw) return null;
  const v = await verifyToken<{ u: string; n: string }>(deps.secret, "device", raw, deps.clock.now());
  return v.ok && v.payload.u === user.id ? `device:${user.id}:${v.payload.n}` : null;
}

/** Marks this browser as one `user` signs in from (after the session cookie is set). */
async function rememberBrowser(c: Context, deps: Deps, user: User) {
  const expires = deps.clock.now() + DEVICE_DAYS * 86_400_000;
  const value = await signToken(deps.secret, "device", { u: user.id, n: crypto.randomUUID() }, expires);
  await writeSignedCookie(c, deps.secret, DEVICE_COOKIE, value, DEVICE_DAYS * 86_400);
}

/** One password check, limited per address and IP address, or per known browser (src/auth/sign-in.ts). */
const attempt = (c: Context, deps: Deps, email: string, password: string) =>
  checkPassword(deps, email, password, {
    ip: clientAddress(c, deps.config.TRUST_PROXY),
    knownBrowser: (user) => knownBrowserKey(c, deps, user),
  });

const TOO_MANY = "Too many failed attempts. Wait 15 minutes and try again.";

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
        <p>
          <a href="/forgot">Forgot password?</a>
        </p>
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
    const tried = await attempt(c, deps, email, password);
    if (tried.outcome === "limited") return loginPage(c, 429, { email, next, problem: TOO_MANY });
    if (tried.outcome === "wrong")
      return loginPage(c, 401, { email, next, problem: "That email and password do not match." });
    const { user } = tried;
    const { token } = await startSession(deps, user.id, now);
    await setSessionCookie(c, deps, token);
    await rememberBrowser(c, deps, user);
    deps.log.info({ user: user.id, event: "login" }, "signed in");
    return c.redirect(next, 303);
  });

  app.post("/logout", async (c) => {
    const auth = c.get("auth");
    if (auth) await signOut(deps, auth.token);
    clearSessionCookie(c);
    await rotateSessionId(c, deps.secret);
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
    const { token: session } = await startSession(deps, user.id, deps.clock.now());
    await setSessionCookie(c, deps, session);
    deps.log.info({ user: user.id, event: "setup" }, "owner account created");
    return c.redirect("/", 303);
  });

  const invitePage = async (c: Context<AppEnv>, token: string, problem?: string, status?: 429) => {
    const open = await openInvite(deps, token, deps.clock.now());
    if (!open) return deadLink(c, "invitation");
    const { invite, org, existing, orgNames } = open;
    const hasPassword = Boolean(existing?.passwordHash);
    return c.html(
      <Layout title="Accept invitation" signedIn={false}>
        <h1>Join {orgNames.length ? orgNames.join(", ") : (org?.name ?? "an organisation")}</h1>
        <p>
          You are invited as <strong>{invite.role}</strong> with the address <strong>{invite.email}</strong>.
        </p>
        {orgNames.length > 1 ? (
          <p class="muted">Accepting accepts your invitations to all of these organisations.</p>
        ) : null}
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
      status ?? (problem ? 422 : 200),
    );
  };

  app.get("/invite/:token", (c) => invitePage(c, c.req.param("token")));

  app.post("/invite/:token", async (c) => {
    const token = c.req.param("token");
    const now = deps.clock.now();
    const open = await openInvite(deps, token, now);
    if (!open) return invitePage(c, token);
    const { invite, org, existing } = open;
    const password = str((await c.req.parseBody()).password);
    if (existing?.passwordHash) {
      // The same limits as signing in: an invite link must not become a way to guess the account's password.
      const tried = await attempt(c, deps, invite.email, password);
      if (tried.outcome === "limited") return invitePage(c, token, TOO_MANY, 429);
      if (tried.outcome === "wrong") return invitePage(c, token, "That password is not right.");
    } else {
      const problem = passwordProblem(password);
      if (problem) return invitePage(c, token, `Password: ${problem}.`);
    }
    // Hashed before the unit of work, so the store is not held while scrypt runs.
    const newHash = existing?.passwordHash ? null : await hashPassword(password);
    const ok = await acceptInvite(deps, token, newHash, now);
    if (!ok) return invitePage(c, token);
    const { token: session } = await startSession(deps, ok.id, now);
    await setSessionCookie(c, deps, session);
    await rememberBrowser(c, deps, ok);
    return c.redirect(org ? `/orgs/${org.slug}` : "/", 303);
  });

  return app;
}
