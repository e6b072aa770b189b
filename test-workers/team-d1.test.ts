/**
 * The team's writes on D1 itself: each is one batch with its audit row. An invitation to two organisations is
 * accepted once, the last owner stays, and a password reset works once and ends the user's sessions.
 */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createSession, ensureUser, grant, hashToken } from "../src/store/accounts";
import { auditLog, memberships, sessions, users } from "../src/store/schema";
import {
  acceptInvites,
  changeRole,
  completePasswordReset,
  createPasswordReset,
  findOpenReset,
  inviteToOrgs,
  removeMember,
  revokeInvite,
} from "../src/store/team";
import { seedOrg } from "./seed";
import { testDeps } from "./support";

describe("team batches on D1", () => {
  it("invites to two organisations, accepts once, keeps the last owner, and audits each write", async () => {
    const deps = await testDeps();
    const a = await seedOrg(deps, "teama", { customers: 1 });
    const b = await seedOrg(deps, "teamb", { customers: 1 });
    const now = Date.now();
    const { user: owner } = await ensureUser(deps.store.db, "owner@team.test", now);
    await grant(deps.store.db, owner.id, a.id, "owner", now);
    await grant(deps.store.db, owner.id, b.id, "owner", now);
    const actor = { id: owner.id, email: owner.email };

    const token = await inviteToOrgs(
      deps.store,
      actor,
      { email: "New@Team.test", role: "bookkeeper", orgIds: [a.id, b.id] },
      now,
    );
    const user = await acceptInvites(deps.store, token, "scrypt$hash", now + 1);
    expect(user?.email).toBe("new@team.test");
    expect(user?.passwordHash).toBe("scrypt$hash");
    expect(await acceptInvites(deps.store, token, "scrypt$other", now + 2)).toBeNull();
    const granted = await deps.store.db.select().from(memberships).where(eq(memberships.userId, user!.id));
    expect(granted.map((m) => m.role)).toEqual(["bookkeeper", "bookkeeper"]);

    expect(await changeRole(deps.store, actor, a.id, owner.id, "viewer", now)).toBe("last_owner");
    expect(await removeMember(deps.store, actor, a.id, owner.id, now)).toBe("last_owner");
    expect(await changeRole(deps.store, actor, a.id, user!.id, "owner", now)).toBe("done");
    expect(await removeMember(deps.store, actor, a.id, owner.id, now)).toBe("done");

    const other = await inviteToOrgs(
      deps.store,
      actor,
      { email: "x@team.test", role: "viewer", orgIds: [b.id] },
      now,
    );
    expect(await revokeInvite(deps.store, actor, hashToken(other), b.id, now)).toBe(true);
    expect(await revokeInvite(deps.store, actor, hashToken(other), b.id, now)).toBe(false);

    const actions = (await deps.store.db.select().from(auditLog).where(eq(auditLog.orgId, a.id)))
      .map((r) => r.action)
      .filter((x) => x.startsWith("team."))
      .sort();
    expect(actions).toEqual(["team.invited", "team.joined", "team.member_removed", "team.role_changed"]);
  });

  it("a password reset works once and ends the user's sessions", async () => {
    const deps = await testDeps();
    const org = await seedOrg(deps, "resetco", { customers: 1 });
    const now = Date.now();
    const { user } = await ensureUser(deps.store.db, "reset@team.test", now, { passwordHash: "old" });
    await grant(deps.store.db, user.id, org.id, "viewer", now);
    await createSession(deps.store.db, user.id, now, { idleMs: 60_000, absoluteMs: 60_000 });
    const token = await createPasswordReset(deps.store, user.id, now);
    expect((await findOpenReset(deps.store.db, token, now))?.id).toBe(user.id);
    expect(await completePasswordReset(deps.store, token, "new", now + 1)).toBe(user.id);
    expect(await completePasswordReset(deps.store, token, "newer", now + 2)).toBeNull();
    const [after] = await deps.store.db.select().from(users).where(eq(users.id, user.id));
    expect(after!.passwordHash).toBe("new");
    expect(await deps.store.db.select().from(sessions).where(eq(sessions.userId, user.id))).toHaveLength(0);
    const audits = await deps.store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, org.id), eq(auditLog.action, "account.password_reset")));
    expect(audits).toHaveLength(1);
  });
});
