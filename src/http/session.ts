/**
 * A browser session id in a signed, httpOnly, SameSite=Lax cookie. OAuth `state` is bound to it, so a state
 * minted in one browser is refused in another. (Accounts and logins build on this in the bookkeepers issue.)
 */
import type { Context } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";

export const SESSION_COOKIE = "cp_sid";

/** The caller's session id, creating the cookie when absent. */
export async function sessionId(c: Context, secret: string): Promise<string> {
  const existing = await getSignedCookie(c, secret, SESSION_COOKIE);
  if (existing) return existing;
  const id = crypto.randomUUID();
  await setSignedCookie(c, SESSION_COOKIE, id, secret, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: 60 * 60 * 24 * 30,
  });
  return id;
}

/** The caller's session id, or undefined when the cookie is missing or forged. */
export async function existingSessionId(c: Context, secret: string): Promise<string | undefined> {
  return (await getSignedCookie(c, secret, SESSION_COOKIE)) || undefined;
}
