/**
 * A browser id in a signed, httpOnly, SameSite=Lax cookie. OAuth `state` and the sign-in forms' CSRF token are
 * bound to it, so a state minted in one browser is refused in another. It is replaced at sign-in and sign-out
 * (`rotateSessionId`), so a token learnt before sign-in is worthless after it.
 *
 * Cookies are Secure, and then named with the `__Host-` prefix (no Domain, Path=/, only settable over https),
 * whenever the browser reaches us over https (`requestIsSecure`: PUBLIC_URL https, or a trusted proxy says so).
 * Over plain http they keep their plain names (`cp_session`, `cp_sid`), which are read only over plain http.
 */
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";

export const SESSION_COOKIE = "cp_sid";

/** Set by authMiddleware for every request: whether cookies are Secure (and `__Host-` named) here. */
export const SECURE_COOKIES = "secureCookies" as const;

export function cookiesSecure(c: Context): boolean {
  return (c.get(SECURE_COOKIES as never) as boolean | undefined) === true;
}

/** A signed cookie's value, read under the name this request's scheme uses; undefined when missing or forged. */
export async function readSignedCookie(
  c: Context,
  secret: string,
  name: string,
): Promise<string | undefined> {
  const v = cookiesSecure(c)
    ? await getSignedCookie(c, secret, name, "host")
    : await getSignedCookie(c, secret, name);
  return v || undefined;
}

export async function writeSignedCookie(
  c: Context,
  secret: string,
  name: string,
  value: string,
  maxAgeSeconds: number,
) {
  const secure = cookiesSecure(c);
  await setSignedCookie(c, name, value, secret, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure,
    maxAge: maxAgeSeconds,
    ...(secure ? { prefix: "host" as const } : {}),
  });
}

export function removeCookie(c: Context, name: string) {
  if (cookiesSecure(c)) deleteCookie(c, name, { path: "/", secure: true, prefix: "host" });
  else deleteCookie(c, name, { path: "/" });
}

const THIRTY_DAYS = 60 * 60 * 24 * 30;

/** The caller's browser id, creating the cookie when absent. */
export async function sessionId(c: Context, secret: string): Promise<string> {
  const existing = await readSignedCookie(c, secret, SESSION_COOKIE);
  if (existing) return existing;
  return rotateSessionId(c, secret);
}

/** Gives the browser a new id (at sign-in and sign-out), so its old id and CSRF token stop being valid. */
export async function rotateSessionId(c: Context, secret: string): Promise<string> {
  const id = crypto.randomUUID();
  await writeSignedCookie(c, secret, SESSION_COOKIE, id, THIRTY_DAYS);
  return id;
}

/** The caller's browser id, or undefined when the cookie is missing or forged. */
export async function existingSessionId(c: Context, secret: string): Promise<string | undefined> {
  return readSignedCookie(c, secret, SESSION_COOKIE);
}
