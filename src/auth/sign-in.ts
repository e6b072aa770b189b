/**
 * Password sign-in, limited before the password is looked at: each attempt is reserved in the store (per
 * address and per client IP, or per known browser) in one conditional statement, and only a reserved attempt
 * is evaluated. Also accepting an invitation, which checks an existing account's password under the same limits.
 */
import type { Deps } from "../deps";
import {
  clearFailures,
  findOpenInvite,
  findUserByEmail,
  type Invite,
  pruneFailures,
  releaseAttempt,
  reserveAttempt,
  type User,
} from "../store/accounts";
import type { Organisation } from "../store/orgs";
import { acceptInvites, invitedOrgNames } from "../store/team";
import { verifyPassword } from "./password";

const SIGN_IN_WINDOW_MS = 15 * 60_000;

type SignInDeps = Pick<Deps, "store" | "config" | "log" | "clock">;

/** When this process last forgot failures older than the window (the table stays small). */
const lastPrune = { at: 0 };

type Attempt = { outcome: "limited" } | { outcome: "wrong" } | { outcome: "ok"; user: User };

interface AttemptSource {
  /** The client's address (one limit key, with a looser limit than the account's). */
  ip: string;
  /**
   * The key of a browser `user` has signed in from before, or null. Its attempts are limited under that key
   * alone, so a stranger's wrong guesses never lock the real user out of a browser they already use.
   */
  knownBrowser: (user: User | undefined) => Promise<string | null>;
}

/**
 * One password check for `email`. A wrong password leaves the reservation as a failure; a right one gives it
 * back and clears the address's (or browser's) failures.
 */
export async function checkPassword(
  deps: SignInDeps,
  email: string,
  password: string,
  from: AttemptSource,
): Promise<Attempt> {
  const { db } = deps.store;
  const now = deps.clock.now();
  const max = deps.config.LOGIN_MAX_FAILURES;
  const user = email ? await findUserByEmail(db, email) : undefined;
  const device = await from.knownBrowser(user);
  const limits = device
    ? [{ key: device, max }]
    : [
        { key: `email:${email}`, max },
        { key: `ip:${from.ip}`, max: max * 4 },
      ];
  const reserved = await deps.store.atomically(() => reserveAttempt(db, limits, now, SIGN_IN_WINDOW_MS));
  if (now - lastPrune.at > SIGN_IN_WINDOW_MS) {
    lastPrune.at = now;
    await pruneFailures(db, now - SIGN_IN_WINDOW_MS);
  }
  if (!reserved) {
    deps.log.warn({ email, event: "login.rate_limited" }, "sign-in refused: too many failures");
    return { outcome: "limited" };
  }
  const ok = await verifyPassword(password, user?.passwordHash ?? null);
  if (!user || !ok) {
    deps.log.info({ email, event: "login.failed" }, "sign-in failed");
    return { outcome: "wrong" };
  }
  await deps.store.atomically(async () => {
    await releaseAttempt(db, reserved);
    await clearFailures(db, limits[0]?.key ?? `email:${email}`);
  });
  return { outcome: "ok", user };
}

interface OpenInvite {
  invite: Invite;
  /** The organisation it is for (null when that has gone since). */
  org: Organisation | null;
  /** The account with the invited address, when one exists already. */
  existing: User | undefined;
  /** Every organisation accepting grants (all open invitations to the address), by name. */
  orgNames: string[];
}

/** The open invite for a link token, or undefined (unknown, used or expired). */
export async function openInvite(
  deps: SignInDeps,
  token: string,
  now: number,
): Promise<OpenInvite | undefined> {
  const found = await findOpenInvite(deps.store.db, token, now);
  if (!found) return undefined;
  return {
    ...found,
    existing: await findUserByEmail(deps.store.db, found.invite.email),
    orgNames: await invitedOrgNames(deps.store.db, found.invite.email, now),
  };
}

/**
 * Uses the invite, and every other open invite to the same address, in one all-or-nothing batch (claim,
 * account, password when it has none, memberships, audit rows): src/store/team.ts acceptInvites. `newHash` is
 * hashed by the caller before, so the store is not held while scrypt runs. Null when someone used it first.
 */
export function acceptInvite(
  deps: SignInDeps,
  token: string,
  newHash: string | null,
  now: number,
): Promise<User | null> {
  return acceptInvites(deps.store, token, newHash, now);
}
