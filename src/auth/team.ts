/**
 * The team page's decisions: who sees which organisation's members and invitations (any member), who may
 * change them (its owners only), and what an invitation says. Every write and its audit row are one batch in
 * src/store/team.ts; an organisation always keeps at least one owner.
 */
import { linkBase } from "../base-url";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { isValidAddress } from "../mail/address";
import {
  ensureUser,
  normaliseEmail,
  type OrgAccess,
  orgForUser,
  orgsOf,
  ROLES,
  type Role,
  setPassword,
  type User,
} from "../store/accounts";
import type { Organisation } from "../store/orgs";
import {
  type Actor,
  addMember,
  changeRole,
  inviteToOrgs,
  type MemberChange,
  membersOf,
  type OpenInviteRow,
  openInvitesOf,
  removeMember,
  renewInvite,
  revokeInvite,
  type TeamMember,
} from "../store/team";
import { type MailOutcome, sendAccountMail } from "./account-mail";

type TeamDeps = Pick<Deps, "store" | "config" | "clock" | "log" | "listening">;

export interface TeamOrg extends OrgAccess {
  members: TeamMember[];
  invites: OpenInviteRow[];
}

/** Every organisation the user belongs to, with its members and open invitations. */
export async function teamOf(deps: TeamDeps, userId: string): Promise<TeamOrg[]> {
  const orgs = await orgsOf(deps.store.db, userId);
  const ids = orgs.map((o) => o.org.id);
  const [members, invites] = await Promise.all([
    membersOf(deps.store.db, ids),
    openInvitesOf(deps.store.db, ids, deps.clock.now()),
  ]);
  return orgs.map((o) => ({
    ...o,
    members: members.filter((m) => m.orgId === o.org.id),
    invites: invites.filter((i) => i.orgId === o.org.id),
  }));
}

/**
 * The organisation named by `slug` when `user` is its owner. Not a member: 404 (as if it did not exist);
 * a member without the owner role: 403.
 */
export async function ownedOrg(deps: TeamDeps, user: User, slug: string): Promise<Organisation> {
  const access = await orgForUser(deps.store.db, user.id, slug);
  if (!access) throw new UserError("not_found", "organisation not found", 404);
  if (access.role !== "owner")
    throw new UserError("forbidden", `Only owners manage the team of ${access.org.name}.`, 403);
  return access.org;
}

export const MAX_EMAIL_LENGTH = 254;

export const isRole = (v: string): v is Role => (ROLES as readonly string[]).includes(v);

export interface InviteInput {
  email: string;
  role: string;
  orgs: string[];
}

export type InviteField = "email" | "role" | "orgs";

export type InviteResult =
  | { ok: true; link: string; email: string; role: Role; orgs: Organisation[]; mail: MailOutcome }
  | { ok: false; problems: Partial<Record<InviteField, string>> };

const inviteLink = (deps: TeamDeps, token: string) => `${linkBase(deps)}/invite/${encodeURIComponent(token)}`;

async function mailInvite(
  deps: TeamDeps,
  inviter: { email: string } | null,
  to: string,
  role: Role,
  orgs: string[],
  link: string,
): Promise<MailOutcome> {
  const names = orgs.join(", ");
  return sendAccountMail(deps, {
    kind: "invite",
    to,
    subject: `You are invited to ${names} on Creditpulse`,
    lines: [
      `${inviter ? inviter.email : "The owner of this install"} has given you the ${role} role for ${names} on Creditpulse, the credit-control dashboard.`,
      "The link works once and for 7 days. If you did not expect this, ignore this email.",
    ],
    link,
    linkText: "Accept the invitation",
  });
}

/**
 * Invites `email` as `role` to the chosen organisations (slugs), which the inviter must own. Bad input comes
 * back as problems per field (nothing written); the invitation is emailed when mail is configured, and its
 * link is returned either way so the owner can pass it on.
 */
export async function invite(deps: TeamDeps, inviter: User, input: InviteInput): Promise<InviteResult> {
  const problems: Partial<Record<InviteField, string>> = {};
  const email = normaliseEmail(input.email);
  if (!email) problems.email = "Enter the email address of the person to invite.";
  else if (email.length > MAX_EMAIL_LENGTH || !isValidAddress(email))
    problems.email = `"${input.email.trim().slice(0, 80)}" is not an email address: use one like name@example.com.`;
  if (!isRole(input.role)) problems.role = "Choose owner, bookkeeper or viewer.";
  const slugs = [...new Set(input.orgs)];
  if (!slugs.length) problems.orgs = "Choose at least one organisation.";
  const orgs: Organisation[] = [];
  for (const slug of slugs) orgs.push(await ownedOrg(deps, inviter, slug));
  if (!problems.email && orgs.length) {
    const ids = orgs.map((o) => o.id);
    const now = deps.clock.now();
    const [members, open] = await Promise.all([
      membersOf(deps.store.db, ids),
      openInvitesOf(deps.store.db, ids, now),
    ]);
    const member = members.find((m) => m.email === email);
    const invited = open.find((i) => i.email === email);
    const name = (id: string) => orgs.find((o) => o.id === id)?.name ?? "";
    if (member)
      problems.email = `${email} is already ${member.role} of ${name(member.orgId)}: change their role in the list instead.`;
    else if (invited)
      problems.email = `${email} already has an open invitation to ${name(invited.orgId)}: resend it from the list instead.`;
  }
  if (Object.keys(problems).length) return { ok: false, problems };
  const role = input.role as Role;
  const token = await inviteToOrgs(
    deps.store,
    { id: inviter.id, email: inviter.email },
    { email, role, orgIds: orgs.map((o) => o.id) },
    deps.clock.now(),
  );
  const link = inviteLink(deps, token);
  const mail = await mailInvite(
    deps,
    inviter,
    email,
    role,
    orgs.map((o) => o.name),
    link,
  );
  deps.log.info({ event: "team.invited", orgs: orgs.map((o) => o.slug), role, mail: mail.status }, "invited");
  return { ok: true, link, email, role, orgs, mail };
}

/** Sends an open invitation again with a new link (the old one stops working). */
export async function resendInvite(
  deps: TeamDeps,
  owner: User,
  slug: string,
  inviteId: string,
): Promise<{ link: string; email: string; mail: MailOutcome }> {
  const org = await ownedOrg(deps, owner, slug);
  const renewed = await renewInvite(deps.store, owner, inviteId, org.id, deps.clock.now());
  if (!renewed) throw new UserError("gone", "That invitation was accepted, revoked or has expired.", 409);
  const link = inviteLink(deps, renewed.token);
  const mail = await mailInvite(deps, owner, renewed.email, renewed.role, [org.name], link);
  return { link, email: renewed.email, mail };
}

export async function cancelInvite(
  deps: TeamDeps,
  owner: User,
  slug: string,
  inviteId: string,
): Promise<void> {
  const org = await ownedOrg(deps, owner, slug);
  if (!(await revokeInvite(deps.store, owner, inviteId, org.id, deps.clock.now())))
    throw new UserError("gone", "That invitation was accepted, revoked or has expired.", 409);
}

function refuse(outcome: MemberChange, org: Organisation): void {
  if (outcome === "gone") throw new UserError("gone", "That person is no longer a member.", 409);
  if (outcome === "last_owner")
    throw new UserError(
      "last_owner",
      `${org.name} needs at least one owner: make someone else owner first.`,
      409,
    );
}

export async function setMemberRole(
  deps: TeamDeps,
  owner: User,
  slug: string,
  userId: string,
  role: string,
): Promise<void> {
  const org = await ownedOrg(deps, owner, slug);
  if (!isRole(role)) throw new UserError("invalid", "Choose owner, bookkeeper or viewer.", 422);
  refuse(await changeRole(deps.store, owner, org.id, userId, role, deps.clock.now()), org);
}

export async function removeFromTeam(
  deps: TeamDeps,
  owner: User,
  slug: string,
  userId: string,
): Promise<void> {
  const org = await ownedOrg(deps, owner, slug);
  refuse(await removeMember(deps.store, owner, org.id, userId, deps.clock.now()), org);
}

/** The install's command line (`creditpulse user add`): audited as `cli`. */
const CLI: Actor = { id: null, email: "command line" };

/** `user add` without a password: an invitation to one organisation, emailed when mail is set up. */
export async function inviteFromCommandLine(
  deps: TeamDeps,
  input: { email: string; role: Role; org: Organisation },
): Promise<{ link: string; email: string; mail: MailOutcome }> {
  const email = normaliseEmail(input.email);
  if (email.length > MAX_EMAIL_LENGTH || !isValidAddress(email))
    throw new UserError("invalid", `not an email address: ${input.email}`);
  const token = await inviteToOrgs(
    deps.store,
    CLI,
    { email, role: input.role, orgIds: [input.org.id] },
    deps.clock.now(),
  );
  const link = inviteLink(deps, token);
  return { link, email, mail: await mailInvite(deps, null, email, input.role, [input.org.name], link) };
}

/** `user add --password-stdin`: the account (created when new) with its password and role, audited. */
export async function addWithPassword(
  deps: TeamDeps,
  input: { email: string; role: Role; org: Organisation; passwordHash: string },
): Promise<{ user: User; created: boolean }> {
  const email = normaliseEmail(input.email);
  if (email.length > MAX_EMAIL_LENGTH || !isValidAddress(email))
    throw new UserError("invalid", `not an email address: ${input.email}`);
  const now = deps.clock.now();
  const { user, created } = await ensureUser(deps.store.db, email, now);
  if ((await addMember(deps.store, CLI, input.org.id, user.id, input.role, now)) !== "done")
    throw new UserError(
      "last_owner",
      `${email} is the only owner of ${input.org.slug}: make someone else owner first`,
    );
  await setPassword(deps.store.db, user.id, input.passwordHash, now);
  return { user, created };
}
