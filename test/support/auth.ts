/** Signed-in test sessions: create a user with a role in organisations and get the cookie and CSRF token. */

import { hashPassword } from "../../src/auth/password";
import { sessionPolicy } from "../../src/auth/sessions";
import type { Deps } from "../../src/deps";
import { AUTH_COOKIE, csrfFor } from "../../src/http/auth";
import { createSession, ensureUser, grant, type Role } from "../../src/store/accounts";
import { listOrgs } from "../../src/store/orgs";

export interface TestSession {
  userId: string;
  cookie: string;
  csrf: string;
  /** Request init with the cookie (and for POSTs the CSRF header). */
  headers(extra?: Record<string, string>): Record<string, string>;
}

async function signCookie(value: string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(value));
  return encodeURIComponent(`${value}.${Buffer.from(sig).toString("base64")}`);
}

/** A user (password "correct horse battery") with `role` in the given org slugs (default: every organisation). */
export async function signIn(
  deps: Deps,
  opts: { email?: string; role?: Role; orgs?: string[]; password?: string } = {},
): Promise<TestSession> {
  const now = deps.clock.now();
  const { user } = await ensureUser(deps.store.db, opts.email ?? "owner@example.com", now, {
    passwordHash: await hashPassword(opts.password ?? "correct horse battery"),
  });
  for (const org of await listOrgs(deps.store.db))
    if (!opts.orgs || opts.orgs.includes(org.slug))
      await grant(deps.store.db, user.id, org.id, opts.role ?? "owner", now);
  const { token } = await createSession(deps.store.db, user.id, now, sessionPolicy(deps.config));
  const csrf = csrfFor(deps.secret, "session", token);
  // Over https (PUBLIC_URL https) the cookie is Secure and `__Host-` named (src/http/session.ts).
  const name = deps.config.PUBLIC_URL?.startsWith("https:") ? `__Host-${AUTH_COOKIE}` : AUTH_COOKIE;
  const cookie = `${name}=${await signCookie(token, deps.secret)}`;
  return {
    userId: user.id,
    cookie,
    csrf,
    headers: (extra = {}) => ({ cookie, "x-csrf-token": csrf, ...extra }),
  };
}
