/**
 * First run: while no user exists, a signed, expiring setup link lets the first person create the owner
 * account, who becomes owner of every existing organisation (the demo included). Once anyone exists the link
 * is dead, so it works once.
 */

import { sql } from "drizzle-orm";
import type { Deps } from "../deps";
import { signToken, verifyToken } from "../http/signed";
import { newId } from "../store/ids";
import { countUsers, findUser, normaliseEmail, type User } from "./accounts";

export const SETUP_TTL_MS = 24 * 60 * 60_000;

export function baseUrlOf(config: Deps["config"]): string {
  return (
    config.PUBLIC_URL ?? `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`
  ).replace(/\/+$/, "");
}

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
 * Creates the first user as owner of every organisation; null when someone already did. One all-or-nothing
 * batch (a transaction on SQLite, a D1 batch on Workers) whose insert only happens while no user exists, so
 * two people racing with the same link cannot both become owner, and a failure leaves no half-made owner.
 */
export async function completeSetup(
  deps: Deps,
  email: string,
  passwordHash: string,
  timezone: string | null,
): Promise<User | null> {
  const now = deps.clock.now();
  const id = newId("usr");
  const [created] = await deps.store.batch([
    sql`insert into users (id, email, password_hash, timezone, created_at, updated_at)
        select ${id}, ${normaliseEmail(email)}, ${passwordHash}, ${timezone}, ${now}, ${now}
        where not exists (select 1 from users)
        returning id`,
    sql`insert into memberships (user_id, org_id, role, created_at)
        select ${id}, o.id, 'owner', ${now} from organisations o
        where exists (select 1 from users u where u.id = ${id})
        on conflict (user_id, org_id) do update set role = 'owner'`,
  ]);
  if (!created?.length) return null;
  return (await findUser(deps.store.db, id)) ?? null;
}
