/**
 * "Your account": the signed-in user's own settings. For now the timezone the weekly digest is timed in
 * (`users.timezone`, IANA; empty = the timezone of their first organisation). Session and CSRF checks come from
 * authMiddleware like every other form.
 */
import { type Context, Hono } from "hono";
import { organisationsOf, setDigestTimezone } from "../auth/sessions";
import type { Deps } from "../deps";
import { isTimeZone } from "../model";
import { type AppEnv, currentUser } from "./auth";
import { FieldError, fieldAttrs } from "./form";
import { Layout } from "./layout";

const str = (v: unknown) => (typeof v === "string" ? v : "");

const ACCOUNT_DONE: Record<string, string> = {
  timezone_set: "Digest timezone saved.",
  timezone_cleared: "Digest timezone cleared: your first organisation's is used.",
};

export function accountRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  async function page(c: Context<AppEnv>, opts: { problem?: string; value?: string; status?: 200 | 422 }) {
    const user = currentUser(c);
    const first = (await organisationsOf(deps, user.id))[0]?.org;
    const fallback = first ? `${first.timezone}, the timezone of ${first.name}` : "UTC";
    // `?done=` is a code, never text (a link cannot make the page say anything else).
    const done = ACCOUNT_DONE[c.req.query("done") ?? ""];
    return c.html(
      <Layout title="Your account" signedIn email={user.email}>
        <h1>Your account</h1>
        {done ? (
          <p class="notice" role="status">
            {done}
          </p>
        ) : null}
        <FieldError id="timezone" messageId="timezone-problem" error={opts.problem} above />
        <p>
          Signed in as <strong>{user.email}</strong>.
        </p>
        <form method="post" action="/account/timezone" class="narrow" aria-labelledby="tz-h">
          <h2 id="tz-h">Digest timezone</h2>
          <p class="muted">
            The weekly digest arrives on Monday morning in this timezone. Leave it empty to use {fallback}.
          </p>
          <div class="field">
            <label for="timezone">Timezone (IANA name, e.g. Europe/London)</label>
            <input
              id="timezone"
              name="timezone"
              value={opts.value ?? user.timezone ?? ""}
              placeholder={first?.timezone ?? "UTC"}
              {...fieldAttrs("timezone", opts.problem, "timezone-problem")}
            />
          </div>
          <button type="submit">Save timezone</button>
        </form>
      </Layout>,
      opts.status ?? 200,
    );
  }

  app.get("/account", (c) => page(c, {}));

  app.post("/account/timezone", async (c) => {
    const user = currentUser(c);
    const tz = str((await c.req.parseBody()).timezone).trim();
    if (tz && !isTimeZone(tz))
      return page(c, {
        problem: `"${tz}" is not a timezone we know: use an IANA name such as Europe/London or America/New_York.`,
        value: tz,
        status: 422,
      });
    await setDigestTimezone(deps, user.id, tz || null, deps.clock.now());
    return c.redirect(`/account?done=${tz ? "timezone_set" : "timezone_cleared"}`, 303);
  });

  return app;
}
