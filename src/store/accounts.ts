/**
 * Accounts in the store: users, memberships (role per organisation), sessions (only a hash of the cookie
 * token is kept), invites (only a hash of the link token is kept) and failed sign-ins for rate limiting.
 * The decisions (who may sign in, what an invite grants) live in src/auth; this module only reads and writes.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, asc, count, eq, gt, inArray, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import type { Organisation } from "./orgs";
import { invites, loginFailures, memberships, organisations, sessions, users } from "./schema";

export const ROLES = ["owner", "bookkeeper", "viewer"] as const;
export type Role = (typeof ROLES)[number];
export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;

/** A random URL-safe token (32 bytes) and the SHA-256 hex under which the store keeps it. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export async function countUsers(db: Db): Promise<number> {
  const [r] = await db.select({ n: count() }).from(users);
  return r?.n ?? 0;
}

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  const [u] = await db
    .select()
    .from(users)
    .where(eq(users.email, normaliseEmail(email)))
    .limit(1);
  return u;
}

export async function findUser(db: Db, id: string): Promise<User | undefined> {
  const [u] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return u;
}

/** Creates the user, or returns the existing one with that email. */
export async function ensureUser(
  db: Db,
  email: string,
  now: number,
  fields: { passwordHash?: string | null; timezone?: string | null } = {},
): Promise<{ user: User; created: boolean }> {
  const inserted = await db
    .insert(users)
    .values({
      id: newId("usr"),
      email: normaliseEmail(email),
      passwordHash: fields.passwordHash ?? null,
      timezone: fields.timezone ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing({ target: users.email })
    .returning();
  if (inserted[0]) return { user: inserted[0], created: true };
  const existing = await findUserByEmail(db, email);
  if (!existing) throw new Error("user vanished while being created");
  return { user: existing, created: false };
}

export async function setPassword(db: Db, userId: string, passwordHash: string, now: number) {
  await db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, userId));
}

/** The user's own timezone for the digest (IANA, checked by the caller); null = their first organisation's. */
export async function setUserTimezone(db: Db, userId: string, timezone: string | null, now: number) {
  await db.update(users).set({ timezone, updatedAt: now }).where(eq(users.id, userId));
}

// --- memberships ---

/** Grants `role` (replacing any other role the user had there). */
export async function grant(db: Db, userId: string, orgId: string, role: Role, now: number) {
  await db
    .insert(memberships)
    .values({ userId, orgId, role, createdAt: now })
    .onConflictDoUpdate({ target: [memberships.userId, memberships.orgId], set: { role } });
}

export interface OrgAccess {
  org: Organisation;
  role: Role;
}

/** The organisations this user belongs to, by name. */
export async function orgsOf(db: Db, userId: string): Promise<OrgAccess[]> {
  const rows = await db
    .select({ org: organisations, role: memberships.role })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(organisations.name));
  return rows;
}

/**
 * The install's owner, who owns the organisations made on the command line: the first user (the owner setup
 * created), unless that user only has other roles (someone added before setup ran), then the earliest owner.
 */
export async function installOwner(db: Db): Promise<User | undefined> {
  const [first] = await db.select().from(users).orderBy(asc(users.createdAt), asc(users.id)).limit(1);
  if (!first) return undefined;
  const roles = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(eq(memberships.userId, first.id));
  if (roles.length === 0 || roles.some((r) => r.role === "owner")) return first;
  const [owner] = await db
    .select({ user: users })
    .from(users)
    .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.role, "owner")))
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(1);
  return owner?.user;
}

/** The organisation with this slug, only when the user belongs to it (otherwise undefined: a 404). */
export async function orgForUser(db: Db, userId: string, slug: string): Promise<OrgAccess | undefined> {
  const [r] = await db
    .select({ org: organisations, role: memberships.role })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.orgId))
    .where(and(eq(memberships.userId, userId), eq(organisations.slug, slug)))
    .limit(1);
  return r;
}

/** Members of an organisation who get the digest (owners and bookkeepers). */
export async function digestRecipients(db: Db): Promise<{ user: User; orgIds: string[] }[]> {
  const rows = await db
    .select({ user: users, orgId: memberships.orgId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(inArray(memberships.role, ["owner", "bookkeeper"]))
    .orderBy(asc(users.email));
  const by = new Map<string, { user: User; orgIds: string[] }>();
  for (const r of rows) {
    const e = by.get(r.user.id) ?? { user: r.user, orgIds: [] };
    e.orgIds.push(r.orgId);
    by.set(r.user.id, e);
  }
  return [...by.values()];
}

// --- sessions ---

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

/** Starts a session: returns the cookie token (the store keeps only its hash). */
export async function createSession(
  db: Db,
  userId: string,
  now: number,
  policy: SessionPolicy,
): Promise<{ token: string; session: Session }> {
  const { token, hash } = newToken();
  const session = { id: hash, userId, expiresAt: now + policy.absoluteMs, lastSeenAt: now, createdAt: now };
  await db.insert(sessions).values(session);
  return { token, session };
}

/**
 * The live session for a cookie token, refreshing its idle clock; undefined (and deleted) when it has passed
 * its absolute expiry or been idle too long.
 */
export async function resumeSession(
  db: Db,
  token: string,
  now: number,
  policy: SessionPolicy,
): Promise<{ session: Session; user: User } | undefined> {
  const id = hashToken(token);
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, id))
    .limit(1);
  if (!row) return undefined;
  if (row.session.expiresAt <= now || row.session.lastSeenAt + policy.idleMs <= now) {
    await db.delete(sessions).where(eq(sessions.id, id));
    return undefined;
  }
  if (now - row.session.lastSeenAt > 60_000) {
    await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
  }
  return row;
}

export async function endSession(db: Db, token: string) {
  await db.delete(sessions).where(eq(sessions.id, hashToken(token)));
}

// --- invites ---

export const INVITE_TTL_MS = 7 * 24 * 60 * 60_000;

export async function createInvite(
  db: Db,
  invite: { email: string; orgId: string; role: Role; invitedBy?: string | null },
  now: number,
): Promise<string> {
  const { token, hash } = newToken();
  await db.insert(invites).values({
    tokenHash: hash,
    email: normaliseEmail(invite.email),
    orgId: invite.orgId,
    role: invite.role,
    invitedBy: invite.invitedBy ?? null,
    expiresAt: now + INVITE_TTL_MS,
    createdAt: now,
  });
  return token;
}

export type Invite = typeof invites.$inferSelect;

/**
 * The open invite for a link token with the organisation it is for (null if that has gone), or undefined
 * (unknown, used or expired).
 */
export async function findOpenInvite(
  db: Db,
  token: string,
  now: number,
): Promise<{ invite: Invite; org: Organisation | null } | undefined> {
  const [r] = await db
    .select({ invite: invites, org: organisations })
    .from(invites)
    .leftJoin(organisations, eq(organisations.id, invites.orgId))
    .where(eq(invites.tokenHash, hashToken(token)))
    .limit(1);
  if (!r || r.invite.acceptedAt !== null || r.invite.expiresAt <= now) return undefined;
  return r;
}

/** Marks the invite used; false when someone else used it first. */
export async function claimInvite(db: Db, token: string, now: number): Promise<boolean> {
  const done = await db
    .update(invites)
    .set({ acceptedAt: now })
    .where(
      and(eq(invites.tokenHash, hashToken(token)), gt(invites.expiresAt, now), isNull(invites.acceptedAt)),
    )
    .returning({ t: invites.tokenHash });
  return done.length === 1;
}

// --- sign-in rate limiting ---

export async function clearFailures(db: Db, key: string) {
  await db.delete(loginFailures).where(eq(loginFailures.key, key));
}

/**
 * Reserves one sign-in attempt under every key at once, in ONE conditional statement (atomic on SQLite and D1
 * alike): a row per key is inserted only when each key has fewer than its `max` rows in the window. The rows
 * count as failures until released, so concurrent guesses cannot all pass a check made before any is recorded.
 * Returns the reserved row ids, or null when a limit is reached (nothing is written then).
 */
export async function reserveAttempt(
  db: Db,
  limits: { key: string; max: number }[],
  now: number,
  windowMs: number,
): Promise<number[] | null> {
  if (!limits.length) return [];
  const since = now - windowMs;
  const keys = sql.join(
    limits.map((l, i) => (i === 0 ? sql`select ${l.key} as k` : sql`select ${l.key}`)),
    sql` union all `,
  );
  const under: SQL[] = limits.map(
    (l) => sql`(select count(*) from login_failures where key = ${l.key} and at > ${since}) < ${l.max}`,
  );
  const rows = await db.all<{ id: number }>(
    sql`insert into login_failures (key, at) select k, ${now} from (${keys}) where ${sql.join(under, sql` and `)} returning id`,
  );
  const ids = rows.map((r) => Number(r.id));
  if (ids.length === limits.length) return ids;
  if (ids.length) await releaseAttempt(db, ids);
  return null;
}

/** Forgets failures older than `before` (they no longer count towards any limit). */
export async function pruneFailures(db: Db, before: number) {
  await db.delete(loginFailures).where(lt(loginFailures.at, before));
}

/** Gives back reserved attempts (the sign-in succeeded). */
export async function releaseAttempt(db: Db, ids: number[]) {
  if (ids.length) await db.delete(loginFailures).where(inArray(loginFailures.id, ids));
}

// --- first run ---

/**
 * Creates the first user as owner of every organisation; null when someone already did. One all-or-nothing
 * batch (a transaction on SQLite, a D1 batch on Workers) whose insert only happens while no user exists, so
 * two people racing cannot both become owner, and a failure leaves no half-made owner.
 */
export async function createFirstOwner(
  store: Store,
  email: string,
  passwordHash: string,
  timezone: string | null,
  now: number,
): Promise<User | null> {
  const id = newId("usr");
  const [created] = await store.batch([
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
  return (await findUser(store.db, id)) ?? null;
}
