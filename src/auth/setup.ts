/**
 * First run: while no user exists, a signed, expiring setup link lets the first person create the owner
 * account, who becomes owner of every existing organisation (the demo included). Once anyone exists the link
 * is dead, so it works once.
 */
import type { Deps } from "../deps";
import { signToken, verifyToken } from "../http/signed";
import { listOrgs } from "../store/orgs";
import { countUsers, ensureUser, grant, type User } from "./accounts";

export const SETUP_TTL_MS = 24 * 60 * 60_000;

export function baseUrlOf(config: Deps["config"]): string {
  return (
    config.PUBLIC_URL ?? `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`
  ).replace(/\/+$/, "");
}

/** The setup link when no user exists yet, else null. `base` defaults to PUBLIC_URL or HOST:PORT. */
export async function setupLink(deps: Deps, base?: string): Promise<string | null> {
  if ((await countUsers(deps.store.db)) > 0) return null;
  const now = deps.clock.now();
  const token = await signToken(deps.secret, "setup", { n: crypto.randomUUID() }, now + SETUP_TTL_MS);
  return `${base ?? baseUrlOf(deps.config)}/setup?token=${encodeURIComponent(token)}`;
}

export async function setupTokenValid(deps: Deps, token: string): Promise<boolean> {
  const v = await verifyToken(deps.secret, "setup", token, deps.clock.now());
  return v.ok && (await countUsers(deps.store.db)) === 0;
}

/** Creates the first user as owner of every organisation; null when someone already did. */
export async function completeSetup(
  deps: Deps,
  email: string,
  passwordHash: string,
  timezone: string | null,
): Promise<User | null> {
  const now = deps.clock.now();
  return deps.store.atomically(async () => {
    if ((await countUsers(deps.store.db)) > 0) return null;
    const { user } = await ensureUser(deps.store.db, email, now, { passwordHash, timezone });
    for (const org of await listOrgs(deps.store.db))
      await grant(deps.store.db, user.id, org.id, "owner", now);
    return user;
  });
}
