/**
 * Signed-in use, as the HTTP app asks for it: sessions (start, resume, end), which organisations a user may
 * see and with what role, and the user's own settings. The rows are kept by src/store/accounts.ts.
 */
import type { Deps } from "../deps";
import {
  createSession,
  endSession,
  grant,
  type OrgAccess,
  orgForUser,
  orgsOf,
  resumeSession,
  type Session,
  type SessionPolicy,
  setUserTimezone,
  type User,
} from "../store/accounts";
import { listOrgs } from "../store/orgs";

type AuthDeps = Pick<Deps, "store" | "config">;

export function sessionPolicy(config: Deps["config"]): SessionPolicy {
  return { idleMs: config.SESSION_IDLE_MINUTES * 60_000, absoluteMs: config.SESSION_MAX_DAYS * 86_400_000 };
}

/** Starts a session for the user: returns the cookie token (the store keeps only its hash). */
export function startSession(
  deps: AuthDeps,
  userId: string,
  now: number,
): Promise<{ token: string; session: Session }> {
  return createSession(deps.store.db, userId, now, sessionPolicy(deps.config));
}

/** The live session for a cookie token (its idle clock refreshed), or undefined when it has ended. */
export function liveSession(
  deps: AuthDeps,
  token: string,
  now: number,
): Promise<{ session: Session; user: User } | undefined> {
  return resumeSession(deps.store.db, token, now, sessionPolicy(deps.config));
}

export function signOut(deps: AuthDeps, token: string): Promise<void> {
  return endSession(deps.store.db, token);
}

/** The organisation with this slug and the user's role there, only when the user belongs to it. */
export function accessTo(deps: AuthDeps, userId: string, slug: string): Promise<OrgAccess | undefined> {
  return orgForUser(deps.store.db, userId, slug);
}

/** The organisations this user belongs to, by name. */
export function organisationsOf(deps: AuthDeps, userId: string): Promise<OrgAccess[]> {
  return orgsOf(deps.store.db, userId);
}

/** The user's own timezone for the digest (IANA, checked by the caller); null = their first organisation's. */
export function setDigestTimezone(deps: AuthDeps, userId: string, timezone: string | null, now: number) {
  return setUserTimezone(deps.store.db, userId, timezone, now);
}

/** The ids of every organisation now: taken before a ledger is connected, for `ownerOfNewOrgs`. */
export async function organisationIds(deps: AuthDeps): Promise<Set<string>> {
  return new Set((await listOrgs(deps.store.db)).map((o) => o.id));
}

/** Whoever connects a ledger becomes owner of the organisations that did not exist `before` it. */
export async function ownerOfNewOrgs(deps: AuthDeps, userId: string, before: Set<string>, now: number) {
  for (const org of await listOrgs(deps.store.db))
    if (!before.has(org.id)) await grant(deps.store.db, userId, org.id, "owner", now);
}
