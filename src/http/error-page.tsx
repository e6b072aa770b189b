/**
 * The page every HTML request gets when it fails: the status, what was wrong in words, and a way back. JSON
 * errors are for /api/ only (src/http/app.ts).
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./auth";
import { Layout } from "./layout";

const TITLES: Record<number, string> = {
  400: "That request could not be used",
  401: "Sign in first",
  403: "You cannot do that here",
  404: "Page not found",
  409: "That cannot be done right now",
  413: "That is too large",
  422: "Something in the form needs correcting",
  429: "Too many attempts",
  500: "Something went wrong",
};

/** Where "back" goes: the organisation's page for anything under /orgs/<slug>, else the start page. */
function backOf(path: string): { href: string; text: string } {
  const m = /^\/orgs\/([^/]+)/.exec(path);
  if (m) return { href: `/orgs/${m[1]}`, text: "Back to the organisation" };
  return { href: "/", text: "Back to your organisations" };
}

export function errorPage(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  message: string,
  opts: { back?: { href: string; text: string }; requestId?: string } = {},
) {
  const back = opts.back ?? backOf(c.req.path);
  const auth = c.get("auth");
  const title = TITLES[status] ?? (status >= 500 ? TITLES[500]! : TITLES[400]!);
  return c.html(
    <Layout title={title} signedIn={Boolean(auth)} email={auth?.user.email}>
      <h1>{title}</h1>
      <p class={status >= 500 ? "problem" : undefined} data-testid="error-message">
        {message}
      </p>
      <p>
        <a href={back.href}>{back.text}</a>
        {status === 401 ? (
          <>
            {" · "}
            <a href={`/login?next=${encodeURIComponent(c.req.path)}`}>Sign in</a>
          </>
        ) : null}
      </p>
      {opts.requestId ? <p class="muted">Reference: {opts.requestId}</p> : null}
    </Layout>,
    status,
  );
}
