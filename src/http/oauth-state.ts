/** OAuth `state`: signed, expiring (10 minutes), bound to the browser session and the provider. */
import type { Context } from "hono";
import { signToken, verifyToken } from "../signed";
import { existingSessionId, sessionId } from "./session";

const TEN_MINUTES = 10 * 60_000;

interface StatePayload {
  sid: string;
  provider: string;
  nonce: string;
}

export async function createOAuthState(
  c: Context,
  secret: string,
  provider: string,
  now: number,
): Promise<string> {
  const sid = await sessionId(c, secret);
  return signToken(secret, "oauth-state", { sid, provider, nonce: crypto.randomUUID() }, now + TEN_MINUTES);
}

/** Why a callback's state was refused, or ok. */
export async function checkOAuthState(
  c: Context,
  secret: string,
  provider: string,
  state: string | undefined,
  now: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!state) return { ok: false, reason: "missing state" };
  const v = await verifyToken<StatePayload>(secret, "oauth-state", state, now);
  if (!v.ok) return { ok: false, reason: `state ${v.reason.replace("_", " ")}` };
  const sid = await existingSessionId(c, secret);
  if (!sid || sid !== v.payload.sid) return { ok: false, reason: "state belongs to another browser session" };
  if (v.payload.provider !== provider) return { ok: false, reason: "state was issued for another provider" };
  return { ok: true };
}
