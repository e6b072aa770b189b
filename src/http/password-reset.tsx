/**
 * "Forgot password?" (`/forgot`) and the emailed link (`/reset/:token`): see src/auth/password-reset.ts. The
 * answer to a request never says whether an account uses the address. Both forms carry the CSRF field that
 * authMiddleware adds to every form (bound to the browser before sign-in).
 */
import { type Context, Hono } from "hono";
import { afterResponse } from "../after-response";
import { hashPassword, MIN_PASSWORD_LENGTH, passwordProblem } from "../auth/password";
import { openReset, requestPasswordReset, resetPassword } from "../auth/password-reset";
import { startSession } from "../auth/sessions";
import type { Deps } from "../deps";
import { mailConfigured } from "../mail/mailer-for";
import { type AppEnv, setSessionCookie } from "./auth";
import { clientAddress } from "./client";
import { FieldError, fieldAttrs } from "./form";
import { Layout } from "./layout";

const str = (v: unknown) => (typeof v === "string" ? v : "");

export function passwordResetRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  const forgotPage = (
    c: Context<AppEnv>,
    opts: { email?: string; problem?: string; status?: 200 | 422 | 429 },
  ) =>
    c.html(
      <Layout title="Forgot password" signedIn={false}>
        <h1>Forgot your password?</h1>
        <p>
          Enter the address you sign in with. If it has an account, we email it a link to choose a new
          password.
        </p>
        {mailConfigured(deps.config) ? null : (
          <p class="muted">
            Mail is not set up on this install, so no email can be sent: ask the owner to set a new password
            for you (<code>creditpulse user add --password-stdin</code>).
          </p>
        )}
        <form method="post" action="/forgot" class="narrow">
          <p class="field">
            <label for="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              autocomplete="username"
              maxlength={254}
              value={opts.email ?? ""}
              required
              {...fieldAttrs("email", opts.problem, "email-problem")}
            />
            <FieldError id="email" messageId="email-problem" error={opts.problem} />
          </p>
          <button type="submit">Email me a link</button>
        </form>
        <p>
          <a href="/login">Back to sign in</a>
        </p>
      </Layout>,
      opts.status ?? 200,
    );

  app.get("/forgot", (c) => forgotPage(c, {}));

  app.post("/forgot", async (c) => {
    const email = str((await c.req.parseBody()).email)
      .trim()
      .slice(0, 1000);
    const r = await requestPasswordReset(deps, email, clientAddress(c, deps.config.TRUST_PROXY), (work) =>
      afterResponse(c, deps, "password reset email", work),
    );
    if (r.outcome === "invalid") return forgotPage(c, { email, problem: r.problem, status: 422 });
    if (r.outcome === "limited")
      return forgotPage(c, {
        email,
        problem: "Too many requests for this address or network. Wait 15 minutes and try again.",
        status: 429,
      });
    return c.html(
      <Layout title="Check your email" signedIn={false}>
        <h1>Check your email</h1>
        <p role="status">
          If an account uses <strong>{email.toLowerCase()}</strong>, we have emailed it a link to choose a new
          password. The link works once, for one hour. Nothing arrived? Check the spam folder, or ask again in
          a few minutes.
        </p>
        <p>
          <a href="/login">Back to sign in</a>
        </p>
      </Layout>,
    );
  });

  const deadLink = (c: Context<AppEnv>) =>
    c.html(
      <Layout title="Link not valid" signedIn={false}>
        <h1>This password reset link is not valid</h1>
        <p>
          It has expired or has already been used. <a href="/forgot">Ask for a new one</a>, or{" "}
          <a href="/login">sign in</a>.
        </p>
      </Layout>,
      404,
    );

  const resetPage = async (c: Context<AppEnv>, token: string, problem?: string) => {
    const user = await openReset(deps, token);
    if (!user) return deadLink(c);
    return c.html(
      <Layout title="Choose a new password" signedIn={false}>
        <h1>Choose a new password</h1>
        <p>
          For <strong>{user.email}</strong>. Saving it signs you out on every other device.
        </p>
        <form method="post" action={`/reset/${encodeURIComponent(token)}`} class="narrow">
          <input type="text" name="username" value={user.email} autocomplete="username" hidden readonly />
          <p class="field">
            <label for="password">New password ({MIN_PASSWORD_LENGTH} characters or more)</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="new-password"
              required
              {...fieldAttrs("password", problem, "password-problem")}
            />
            <FieldError id="password" messageId="password-problem" error={problem} />
          </p>
          <button type="submit">Save password</button>
        </form>
      </Layout>,
      problem ? 422 : 200,
    );
  };

  app.get("/reset/:token", (c) => resetPage(c, c.req.param("token")));

  app.post("/reset/:token", async (c) => {
    const token = c.req.param("token");
    if (!(await openReset(deps, token))) return deadLink(c);
    const password = str((await c.req.parseBody()).password);
    const problem = passwordProblem(password);
    if (problem) return resetPage(c, token, `Password: ${problem}.`);
    const userId = await resetPassword(deps, token, await hashPassword(password));
    if (!userId) return deadLink(c);
    const { token: session } = await startSession(deps, userId, deps.clock.now());
    await setSessionCookie(c, deps, session);
    deps.log.info({ user: userId, event: "password_reset.done" }, "password reset: other sessions ended");
    return c.redirect("/", 303);
  });

  return app;
}
