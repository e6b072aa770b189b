/**
 * First run: while no user exists, a signed, expiring setup link lets the first person create the owner
 * account, who becomes owner of every existing organisation (the demo included). Once anyone exists the link
 * is dead, so it works once.
 */

import { baseUrlOf } from "../base-url";
import type { Deps } from "../deps";
import { signToken, verifyToken } from "../signed";
import { countUsers, createFirstOwner, type User } from "../store/accounts";

export const SETUP_TTL_MS = 24 * 60 * 60_000;

/** The setup link when no user exists yet, else null. `base` defaults to PUBLIC_URL or HOST:PORT. */
export async function setupLink(deps: Deps, base?: string): Promise<string | null> {
  if ((await countUsers(deps.store.db)) > 0) return null;
  return signedSetupLink(deps.secret, base ?? baseUrlOf(deps.config), deps.clock.now());
}

/**
 * A setup link signed with the install secret, made without the database: for a deployment whose store this
 * machine cannot open (Workers + D1). The deployment only accepts it while no user exists.
 */
export async function signedSetupLink(secret: string, base: string, now: number): Promise<string> {
  const token = await signToken(secret, "setup", { n: crypto.randomUUID() }, now + SETUP_TTL_MS);
  return `${base.replace(/\/+$/, "")}/setup?token=${encodeURIComponent(token)}`;
}

export async function setupTokenValid(deps: Deps, token: string): Promise<boolean> {
  const v = await verifyToken(deps.secret, "setup", token, deps.clock.now());
  return v.ok && (await countUsers(deps.store.db)) === 0;
}

/**
 * Creates the first user as owner of every organisation; null when someone already did (the store's one
 * all-or-nothing batch: two people racing with the same link cannot both become owner).
 */
export async function completeSetup(
  deps: Deps,
  email: string,
  passwordHash: string,
  timezone: string | null,
): Promise<User | null> {
  return createFirstOwner(deps.store, email, passwordHash, timezone, deps.clock.now());
}
