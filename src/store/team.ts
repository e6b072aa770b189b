/**
 * The team of each organisation: members (memberships), open invitations, and password resets. Every write here
 * is ONE all-or-nothing `store.batch` (a transaction on SQLite, a batch on D1) holding both the change and its
 * audit row, each guarded by the same condition, so a refused or repeated change writes neither. Only hashes of
 * link tokens are kept. The decisions (who may do what) live in src/auth/team.ts; this module reads and writes.
 */
import { and, asc, eq, gt, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { hashToken, INVITE_TTL_MS, newToken, normaliseEmail, type Role, type User } from "./accounts";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { invites, memberships, organisations, passwordResets, users } from "./schema";

export interface TeamMember {
  orgId: string;
  userId: string;
  email: string;
  role: Role;
  since: number;
}

export interface OpenInviteRow {
  orgId: string;
  /** The SHA-256 of the link token: names the invite in forms (the token itself is never kept). */
  id: string;
  email: string;
  role: Role;
  invitedBy: string | null;
  expiresAt: number;
  createdAt: number;
}

/**
 * Who acts, as the audit log names them: `user:<id>` with their email in the detail, or (id null) the
 * install's command line, `cli`.
 */
export interface Actor {
  id: string | null;
  email: string;
}

const actorName = (a: Actor) => (a.id ? `user:${a.id}` : "cli");

export async function membersOf(db: Db, orgIds: string[]): Promise<TeamMember[]> {
  if (!orgIds.length) return [];
  return db
    .select({
      orgId: memberships.orgId,
      userId: users.id,
      email: users.email,
      role: memberships.role,
      since: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(inArray(memberships.orgId, orgIds))
    .orderBy(asc(users.email));
}

export async function openInvitesOf(db: Db, orgIds: string[], now: number): Promise<OpenInviteRow[]> {
  if (!orgIds.length) return [];
  return db
    .select({
      orgId: invites.orgId,
      id: invites.tokenHash,
      email: invites.email,
      role: invites.role,
      invitedBy: invites.invitedBy,
      expiresAt: invites.expiresAt,
      createdAt: invites.createdAt,
    })
    .from(invites)
    .where(and(inArray(invites.orgId, orgIds), isNull(invites.acceptedAt), gt(invites.expiresAt, now)))
    .orderBy(asc(invites.email));
}

/** The names of the organisations with an open invitation to `email` (what accepting one invitation grants). */
export async function invitedOrgNames(db: Db, email: string, now: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ name: organisations.name })
    .from(invites)
    .innerJoin(organisations, eq(organisations.id, invites.orgId))
    .where(
      and(eq(invites.email, normaliseEmail(email)), isNull(invites.acceptedAt), gt(invites.expiresAt, now)),
    )
    .orderBy(asc(organisations.name));
  return rows.map((r) => r.name);
}

/** An audit row inserted only `where` the condition holds (evaluated before the change in the same batch). */
function auditWhere(
  orgId: SQL | string,
  actor: Actor,
  action: string,
  detail: Record<string, unknown>,
  now: number,
  where: SQL,
): SQL {
  const json = JSON.stringify({ ...detail, by: actor.email });
  return sql`insert into audit_log (id, org_id, contact_id, invoice_id, at, actor, action, detail)
    select ${newId("aud")}, ${orgId}, null, null, ${now}, ${actorName(actor)}, ${action}, ${json}
    where ${where}`;
}

/**
 * Invites `email` as `role` to each organisation, with one audit row each. All the invites share ONE link
 * token only in effect: each row has its own, and accepting any of them accepts every open invite to that
 * address (the person has shown they read that mailbox). Returns the token of the first.
 */
export async function inviteToOrgs(
  store: Store,
  actor: Actor,
  invite: { email: string; role: Role; orgIds: string[] },
  now: number,
): Promise<string> {
  const email = normaliseEmail(invite.email);
  const statements: SQL[] = [];
  let first = "";
  for (const orgId of invite.orgIds) {
    const { token, hash } = newToken();
    first ||= token;
    statements.push(
      sql`insert into invites (token_hash, email, org_id, role, invited_by, expires_at, accepted_at, created_at)
          values (${hash}, ${email}, ${orgId}, ${invite.role}, ${actor.id}, ${now + INVITE_TTL_MS}, null, ${now})`,
      auditWhere(orgId, actor, "team.invited", { email, role: invite.role }, now, sql`1`),
    );
  }
  await store.batch(statements);
  return first;
}

const openInvite = (id: string, orgId: string, now: number) =>
  sql`exists (select 1 from invites where token_hash = ${id} and org_id = ${orgId}
      and accepted_at is null and expires_at > ${now})`;

/**
 * Gives an open invite a new link token and a new expiry (the old link stops working). Returns the new token,
 * or null when the invite is no longer open.
 */
export async function renewInvite(
  store: Store,
  actor: Actor,
  id: string,
  orgId: string,
  now: number,
): Promise<{ token: string; email: string; role: Role } | null> {
  const { token, hash } = newToken();
  const [, rows] = await store.batch([
    auditWhere(orgId, actor, "team.invite_resent", {}, now, sql`${openInvite(id, orgId, now)}`),
    sql`update invites set token_hash = ${hash}, expires_at = ${now + INVITE_TTL_MS}
        where token_hash = ${id} and org_id = ${orgId} and accepted_at is null and expires_at > ${now}
        returning email, role`,
  ]);
  const r = rows?.[0];
  return r ? { token, email: String(r.email), role: r.role as Role } : null;
}

/** Deletes an open invite (its link stops working); false when it was no longer open. */
export async function revokeInvite(
  store: Store,
  actor: Actor,
  id: string,
  orgId: string,
  now: number,
): Promise<boolean> {
  const [, rows] = await store.batch([
    auditWhere(orgId, actor, "team.invite_revoked", {}, now, openInvite(id, orgId, now)),
    sql`delete from invites where token_hash = ${id} and org_id = ${orgId} and accepted_at is null
        and expires_at > ${now} returning email`,
  ]);
  return Boolean(rows?.length);
}

/** Another owner stays: true unless `userId` is the organisation's only owner. */
const notLastOwner = (orgId: string, userId: string) =>
  sql`(exists (select 1 from memberships where org_id = ${orgId} and role = 'owner' and user_id <> ${userId}))`;

export type MemberChange = "done" | "gone" | "last_owner" | "unchanged";

/**
 * Changes a member's role. Refused (nothing written) when it would leave the organisation without an owner:
 * the check and the change are one statement each in one batch, so two owners demoting each other at once
 * cannot both succeed.
 */
export async function changeRole(
  store: Store,
  actor: Actor,
  orgId: string,
  userId: string,
  role: Role,
  now: number,
): Promise<MemberChange> {
  const allowed = sql`(${role} = 'owner' or ${notLastOwner(orgId, userId)})`;
  const target = sql`exists (select 1 from memberships where org_id = ${orgId} and user_id = ${userId}
      and role <> ${role} and ${allowed})`;
  const [, rows] = await store.batch([
    sql`insert into audit_log (id, org_id, contact_id, invoice_id, at, actor, action, detail)
        select ${newId("aud")}, ${orgId}, null, null, ${now}, ${actorName(actor)}, 'team.role_changed',
          json_object('email', u.email, 'from', m.role, 'to', ${role}, 'by', ${actor.email})
        from memberships m join users u on u.id = m.user_id
        where m.org_id = ${orgId} and m.user_id = ${userId} and ${target}`,
    sql`update memberships set role = ${role}
        where org_id = ${orgId} and user_id = ${userId} and role <> ${role} and ${allowed}
        returning role`,
  ]);
  if (rows?.length) return "done";
  return memberState(store.db, orgId, userId, role);
}

/** Removes a member from the organisation; refused when they are its last owner. */
export async function removeMember(
  store: Store,
  actor: Actor,
  orgId: string,
  userId: string,
  now: number,
): Promise<MemberChange> {
  const allowed = sql`(role <> 'owner' or ${notLastOwner(orgId, userId)})`;
  const [, rows] = await store.batch([
    sql`insert into audit_log (id, org_id, contact_id, invoice_id, at, actor, action, detail)
        select ${newId("aud")}, ${orgId}, null, null, ${now}, ${actorName(actor)}, 'team.member_removed',
          json_object('email', u.email, 'role', m.role, 'by', ${actor.email})
        from memberships m join users u on u.id = m.user_id
        where m.org_id = ${orgId} and m.user_id = ${userId} and (m.role <> 'owner' or ${notLastOwner(orgId, userId)})`,
    sql`delete from memberships where org_id = ${orgId} and user_id = ${userId} and ${allowed} returning role`,
  ]);
  if (rows?.length) return "done";
  return memberState(store.db, orgId, userId, null);
}

async function memberState(db: Db, orgId: string, userId: string, role: Role | null): Promise<MemberChange> {
  const [m] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .limit(1);
  if (!m) return "gone";
  if (role && m.role === role) return "unchanged";
  return "last_owner";
}

/**
 * Accepts the invite whose link carries `token`, and with it every other open invite to the same address, in
 * one batch: claims them, creates the account when there is none (with `newHash` as its password when it has
 * none), grants each invited role (an existing membership keeps its role: an invite never demotes anyone) and
 * writes a `team.joined` audit row per organisation. Returns the user, or null when the invite was no longer
 * open (someone used it first, or it expired or was revoked).
 */
export async function acceptInvites(
  store: Store,
  token: string,
  newHash: string | null,
  now: number,
): Promise<User | null> {
  const hash = hashToken(token);
  const email = sql`(select email from invites where token_hash = ${hash} and accepted_at = ${now})`;
  const mine = sql`i.email = ${email} and i.accepted_at = ${now}`;
  const [claimed] = await store.batch([
    sql`update invites set accepted_at = ${now}
        where token_hash = ${hash} and accepted_at is null and expires_at > ${now} returning email`,
    sql`update invites set accepted_at = ${now}
        where email = ${email} and accepted_at is null and expires_at > ${now}`,
    sql`insert into users (id, email, password_hash, timezone, created_at, updated_at)
        select ${newId("usr")}, ${email}, ${newHash}, null, ${now}, ${now} where ${email} is not null
        on conflict (email) do update set password_hash = coalesce(users.password_hash, excluded.password_hash)`,
    sql`insert into audit_log (id, org_id, contact_id, invoice_id, at, actor, action, detail)
        select 'aud_' || lower(hex(randomblob(10))), i.org_id, null, null, ${now}, 'user:' || u.id, 'team.joined',
          json_object('email', u.email, 'role', coalesce(m.role, i.role), 'invitedBy', i.invited_by)
        from invites i join users u on u.email = i.email
        left join memberships m on m.user_id = u.id and m.org_id = i.org_id
        where ${mine}`,
    sql`insert into memberships (user_id, org_id, role, created_at)
        select u.id, i.org_id, i.role, ${now} from invites i join users u on u.email = i.email
        where ${mine} and exists (select 1 from organisations o where o.id = i.org_id)
        on conflict (user_id, org_id) do nothing`,
  ]);
  const row = claimed?.[0];
  if (!row) return null;
  const [user] = await store.db
    .select()
    .from(users)
    .where(eq(users.email, String(row.email)))
    .limit(1);
  return user ?? null;
}

/**
 * Gives an existing user `role` in the organisation (the command line's `user add --password-stdin`), with its
 * audit row. Refused ("last_owner", nothing written) when it would demote the organisation's only owner.
 */
export async function addMember(
  store: Store,
  actor: Actor,
  orgId: string,
  userId: string,
  role: Role,
  now: number,
): Promise<MemberChange> {
  const allowed = sql`(${role} = 'owner' or ${notLastOwner(orgId, userId)}
    or not exists (select 1 from memberships where org_id = ${orgId} and user_id = ${userId} and role = 'owner'))`;
  const [, rows] = await store.batch([
    sql`insert into audit_log (id, org_id, contact_id, invoice_id, at, actor, action, detail)
        select ${newId("aud")}, ${orgId}, null, null, ${now}, ${actorName(actor)}, 'team.member_added',
          json_object('email', u.email, 'role', ${role}, 'by', ${actor.email})
        from users u where u.id = ${userId} and ${allowed}`,
    sql`insert into memberships (user_id, org_id, role, created_at)
        select ${userId}, ${orgId}, ${role}, ${now} where ${allowed}
        on conflict (user_id, org_id) do update set role = excluded.role returning role`,
  ]);
  return rows?.length ? "done" : "last_owner";
}

// --- password resets ---

export const RESET_TTL_MS = 60 * 60_000;

/**
 * A reset link token for the user (only its hash is kept); earlier unused links of theirs stop working.
 * Audited in each of the user's organisations.
 */
export async function createPasswordReset(store: Store, userId: string, now: number): Promise<string> {
  const { token, hash } = newToken();
  await store.batch([
    sql`update password_resets set used_at = ${now} where user_id = ${userId} and used_at is null`,
    sql`insert into password_resets (token_hash, user_id, expires_at, used_at, created_at)
        values (${hash}, ${userId}, ${now + RESET_TTL_MS}, null, ${now})`,
    sql`insert into audit_log (id, org_id, contact_id, invoice_id, at, actor, action, detail)
        select 'aud_' || lower(hex(randomblob(10))), m.org_id, null, null, ${now}, ${`user:${userId}`},
          'account.password_reset_requested', json_object('email', u.email)
        from memberships m join users u on u.id = m.user_id where m.user_id = ${userId}`,
  ]);
  return token;
}

/** The user an open (unused, unexpired) reset link is for, or undefined. */
export async function findOpenReset(db: Db, token: string, now: number): Promise<User | undefined> {
  const [r] = await db
    .select({ user: users, reset: passwordResets })
    .from(passwordResets)
    .innerJoin(users, eq(users.id, passwordResets.userId))
    .where(eq(passwordResets.tokenHash, hashToken(token)))
    .limit(1);
  if (!r || r.reset.usedAt !== null || r.reset.expiresAt <= now) return undefined;
  return r.user;
}

/**
 * Uses a reset link in one batch: claims it (single use), sets the new password, ends every session of that
 * user and writes an audit row in each of their organisations. Null when the link was not open any more.
 */
export async function completePasswordReset(
  store: Store,
  token: string,
  newHash: string,
  now: number,
): Promise<string | null> {
  const hash = hashToken(token);
  const user = sql`(select user_id from password_resets where token_hash = ${hash} and used_at = ${now})`;
  const [claimed] = await store.batch([
    sql`update password_resets set used_at = ${now}
        where token_hash = ${hash} and used_at is null and expires_at > ${now} returning user_id`,
    sql`update users set password_hash = ${newHash}, updated_at = ${now} where id = ${user}`,
    sql`delete from sessions where user_id = ${user}`,
    sql`update password_resets set used_at = ${now} where user_id = ${user} and used_at is null`,
    sql`insert into audit_log (id, org_id, contact_id, invoice_id, at, actor, action, detail)
        select 'aud_' || lower(hex(randomblob(10))), m.org_id, null, null, ${now}, 'user:' || u.id,
          'account.password_reset', json_object('email', u.email)
        from memberships m join users u on u.id = m.user_id where m.user_id = ${user}`,
  ]);
  const row = claimed?.[0];
  return row ? String(row.user_id) : null;
}
