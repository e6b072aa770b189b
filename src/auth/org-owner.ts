/**
 * Organisations made on the command line (`import`, `demo`) are not orphans: they belong to the install's owner
 * (the owner setup created), or to the user `--owner <email>` names. Before setup has run there is nobody to own
 * them, and setup makes its owner owner of every organisation anyway.
 */
import { UserError } from "../errors";
import { findUserByEmail, grant, installOwner, type User } from "../store/accounts";
import type { Store } from "../store/db";
import { findOrgBySlug } from "../store/orgs";

/** Who will own what a command creates: `--owner`'s user (a usage error when there is none), else the install's owner. */
export async function ownerForCommand(store: Store, email: string | undefined): Promise<User | undefined> {
  if (email === undefined) return installOwner(store.db);
  const user = await findUserByEmail(store.db, email);
  if (!user)
    throw new UserError(
      "unknown_owner",
      `--owner ${email}: no user has this email address (add them with npx creditpulse user add, or leave --owner out to give the organisation to the install's owner)`,
    );
  return user;
}

/** Makes `user` owner of the organisation (an owner already there stays one). */
export async function giveOwnership(store: Store, slug: string, userId: string, now: number): Promise<void> {
  const org = await findOrgBySlug(store.db, slug);
  if (org) await grant(store.db, userId, org.id, "owner", now);
}
