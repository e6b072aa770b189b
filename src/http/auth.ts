/**
 * Sign-in sessions, CSRF and access control for the HTTP app.
 *
 * - The session cookie (`cp_session`; `__Host-cp_session` and Secure when the browser uses https, see
 *   src/http/session.ts) is signed, httpOnly, SameSite=Lax, and carries a random token whose SHA-256 is the
 *   session id in the store. Sessions end when idle too long or at an absolute age.
 * - Every POST/PUT/PATCH/DELETE outside the public prefixes must carry the CSRF token (form field `_csrf` or
 *   header `x-csrf-token`): an HMAC of the session token (signed in) or of the browser id (sign-in forms).
 *   Signed in, only the session's token counts; the browser id is replaced at sign-in, so a token learnt
 *   before sign-in is worthless after it.
 *   HTML responses get the hidden field added to every POST form, so no form can forget it.
 * - Every page and JSON route needs a session except the public ones below. An organisation the user does not
 *   belong to answers 404, exactly like one that does not exist.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { accessTo, liveSession, organisationIds, ownerOfNewOrgs, sessionPolicy } from "../auth/sessions";
import type { Deps } from "../deps";
import { NotFoundError, UserError } from "../errors";
import type { OrgAccess, Role, User } from "../store/accounts";
import { requestIsSecure } from "./client";
import {
  existingSessionId,
  readSignedCookie,
  removeCookie,
  rotateSessionId,
  SECURE_COOKIES,
  sessionId,
  writeSignedCookie,
} from "./session";

export const AUTH_COOKIE = "cp_session";

/** Paths anyone may reach. `/c/` and `/unsubscribe/` belong to the customers' page (reminder recipients). */
export const PUBLIC_PREFIXES = [
  "/login",
  "/setup",
  "/invite/",
  "/forgot",
  "/reset/",
  "/webhooks/",
  "/c/",
  "/unsubscribe/",
  "/assets/",
  "/ops/",
];
export const PUBLIC_PATHS = ["/healthz", "/connect/xero/callback", "/connect/quickbooks/callback"];
/**
 * No CSRF check: signed webhooks, the customers' side (one-click unsubscribe is a POST by mail clients), and
 * operator calls carrying a request signed with the install secret (`/ops/`, no cookie involved).
 */
const CSRF_EXEMPT = ["/webhooks/", "/c/", "/unsubscribe/", "/ops/"];

export interface Auth {
  user: User;
  token: string;
  csrf: string;
}

export type AppEnv = {
  Variables: { requestId: string; auth: Auth | null; anonCsrf: string | null; secureCookies: boolean };
};

export function csrfFor(secret: string, kind: "session" | "anon", id: string): string {
  return createHmac("sha256", secret).update(`csrf|${kind}|${id}`).digest("base64url");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const isPublic = (path: string) =>
  PUBLIC_PATHS.includes(path) ||
  PUBLIC_PREFIXES.some((p) => path === p.replace(/\/$/, "") || path.startsWith(p));

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function wantsHtml(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/html") && !c.req.path.startsWith("/api/");
}

/** Starts a session cookie for `token`, and gives the browser a new id (and so a new anonymous CSRF token). */
export async function setSessionCookie(c: Context, deps: Deps, token: string) {
  await writeSignedCookie(
    c,
    deps.secret,
    AUTH_COOKIE,
    token,
    Math.floor(sessionPolicy(deps.config).absoluteMs / 1000),
  );
  await rotateSessionId(c, deps.secret);
}

export function clearSessionCookie(c: Context) {
  removeCookie(c, AUTH_COOKIE);
}

/** The dashboard pages' content security policy (the customers' page and previews set stricter ones). */
export const DASHBOARD_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; form-action 'self' https:";

/** `html` with the CSRF field added to every POST form (a streamed page calls this itself). */
export const withCsrfFields = (html: string, csrf: string) =>
  html.includes("<form")
    ? html.replace(
        /<form\b[^>]*\bmethod="post"[^>]*>/gi,
        (m) => `${m}<input type="hidden" name="_csrf" value="${csrf}"/>`,
      )
    : html;

/** Session, CSRF and sign-in checks, and the CSRF field added to every POST form of an HTML answer. */
export function authMiddleware(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = c.req.path;
    const now = deps.clock.now();
    c.set(SECURE_COOKIES, requestIsSecure(c, deps.config));
    let auth: Auth | null = null;
    const token = await readSignedCookie(c, deps.secret, AUTH_COOKIE);
    if (token) {
      const live = await liveSession(deps, token, now);
      if (live) auth = { user: live.user, token, csrf: csrfFor(deps.secret, "session", token) };
      else clearSessionCookie(c);
    }
    c.set("auth", auth);
    // Sign-in forms are posted before there is a session: their token is bound to the browser id cookie.
    const anonId =
      c.req.method === "GET" && !auth && isPublic(path) && !CSRF_EXEMPT.some((p) => path.startsWith(p))
        ? await sessionId(c, deps.secret)
        : await existingSessionId(c, deps.secret);
    c.set("anonCsrf", anonId ? csrfFor(deps.secret, "anon", anonId) : null);

    if (UNSAFE.has(c.req.method) && !CSRF_EXEMPT.some((p) => path.startsWith(p))) {
      let given = c.req.header("x-csrf-token") ?? "";
      if (!given) {
        const type = c.req.header("content-type") ?? "";
        if (type.includes("form")) {
          const body = await c.req.parseBody();
          given = typeof body._csrf === "string" ? body._csrf : "";
        }
      }
      // Signed in, only the session's token counts (an anonymous token planted before sign-in is refused).
      const expected = [auth ? auth.csrf : c.get("anonCsrf")].filter((x): x is string => Boolean(x));
      if (!given || !expected.some((e) => same(e, given))) {
        throw new UserError(
          "csrf",
          "This form has expired or did not come from Creditpulse: reload the page and try again.",
          403,
        );
      }
    }

    if (!auth && !isPublic(path)) {
      if (c.req.method === "GET" && wantsHtml(c)) {
        return c.redirect(`/login?next=${encodeURIComponent(path + (new URL(c.req.url).search || ""))}`, 303);
      }
      throw new UserError("unauthorized", "sign in first", 401);
    }

    await next();

    const csrf = auth?.csrf ?? c.get("anonCsrf");
    const type = c.res.headers.get("content-type") ?? "";
    if (csrf && type.startsWith("text/html") && !c.res.headers.has("content-security-policy")) {
      const out = withCsrfFields(await c.res.text(), csrf);
      const headers = new Headers(c.res.headers);
      headers.delete("content-length");
      c.res = new Response(out, { status: c.res.status, headers });
    }
    if (type.startsWith("text/html")) {
      const h = c.res.headers;
      if (!h.has("x-frame-options")) h.set("x-frame-options", "SAMEORIGIN");
      h.set("referrer-policy", "same-origin");
      h.set("x-content-type-options", "nosniff");
      if (!h.has("content-security-policy")) h.set("content-security-policy", DASHBOARD_CSP);
    }
  };
}

/** The signed-in user (routes behind authMiddleware always have one). */
export function currentUser(c: Context<AppEnv>): User {
  const auth = c.get("auth");
  if (!auth) throw new UserError("unauthorized", "sign in first", 401);
  return auth.user;
}

/** The organisation named by `:slug`, when the user belongs to it; otherwise a 404 that reveals nothing. */
export async function orgAccess(
  c: Context<AppEnv>,
  deps: Deps,
  slug = c.req.param("slug") ?? "",
): Promise<OrgAccess> {
  const user = currentUser(c);
  const access = await accessTo(deps, user.id, slug);
  if (!access) throw new NotFoundError("organisation");
  return access;
}

const RANK: Record<Role, number> = { viewer: 0, bookkeeper: 1, owner: 2 };

/** Refuses a change by someone whose role is below `least`. */
export function requireRole(access: OrgAccess, least: Role) {
  if (RANK[access.role] < RANK[least]) {
    throw new UserError("forbidden", `Your role here (${access.role}) cannot change this.`, 403);
  }
}

/** Guards the ledger connectors' own routes under /orgs/:slug (disconnect): owners of that organisation only. */
export function ownerOfSlug(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    requireRole(await orgAccess(c, deps), "owner");
    await next();
  };
}

/** Whoever connects a ledger becomes owner of the organisations the connection created. */
export function ownNewOrgs(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const auth = c.get("auth");
    const before = auth ? await organisationIds(deps) : null;
    await next();
    if (!auth || !before) return;
    await ownerOfNewOrgs(deps, auth.user.id, before, deps.clock.now());
  };
}

const NEXT_BASE = new URL("http://creditpulse.invalid/");

/**
 * Where to go after signing in: only a path on this site. The value is parsed by the WHATWG URL parser (as a
 * browser would: tabs and newlines dropped, backslashes read as slashes, escapes kept) against a placeholder
 * origin; anything that lands on another origin, or whose normalised form could be read as one (`//host`), or
 * that carries control characters, gives "/". What comes back is the parser's own serialisation of the path.
 */
export function safeNext(next: string | undefined): string {
  if (!next || next.length > 2000 || !next.startsWith("/")) return "/";
  // Control characters (tab, newline, NUL...) and backslashes have no place in a path we link to ourselves.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  let url: URL;
  try {
    url = new URL(next, NEXT_BASE);
  } catch {
    return "/";
  }
  if (url.origin !== NEXT_BASE.origin) return "/";
  const out = `${url.pathname}${url.search}${url.hash}`;
  if (!out.startsWith("/") || out.startsWith("//") || out.startsWith("/\\")) return "/";
  // An escaped slash or backslash right after the first one reads as `//` to anything that decodes once more.
  if (/^\/(%2f|%5c)/i.test(out)) return "/";
  return out;
}
