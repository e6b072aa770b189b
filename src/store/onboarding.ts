/**
 * What the first-run checklist reads (src/dashboard/onboarding.ts): across the organisations a user belongs to,
 * which ledgers are connected, whether any CSV ledger was imported, whether a sender address is stored, and
 * whether anyone else belongs or was invited. Reads only.
 */
import { and, count, eq, inArray, isNotNull, ne } from "drizzle-orm";
import type { Db } from "./db";
import { connections, invites, memberships, organisations, reminderSettings } from "./schema";

export interface OnboardingFacts {
  /** Providers with a live (active) connection among the user's organisations. */
  connected: ("xero" | "quickbooks")[];
  /** CSV organisations the user belongs to (imported ledgers). */
  csvOrgs: number;
  /** Organisations of the user whose reminders have a stored sender address. */
  sendersStored: number;
  /** Other people in the user's organisations, and invitations sent for them. */
  otherMembers: number;
  invitations: number;
  /** Organisations the user belongs to, and owns. */
  orgs: number;
  owned: number;
}

export async function onboardingFacts(db: Db, userId: string): Promise<OnboardingFacts> {
  const mine = await db
    .select({ id: organisations.id, provider: organisations.provider, role: memberships.role })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.orgId))
    .where(eq(memberships.userId, userId));
  const ids = mine.map((m) => m.id);
  const facts: OnboardingFacts = {
    connected: [],
    csvOrgs: mine.filter((m) => m.provider === "csv").length,
    sendersStored: 0,
    otherMembers: 0,
    invitations: 0,
    orgs: mine.length,
    owned: mine.filter((m) => m.role === "owner").length,
  };
  if (ids.length === 0) return facts;
  const live = await db
    .selectDistinct({ provider: connections.provider })
    .from(connections)
    .where(and(inArray(connections.orgId, ids), eq(connections.status, "active")));
  facts.connected = live.map((r) => r.provider);
  const [senders] = await db
    .select({ n: count() })
    .from(reminderSettings)
    .where(and(inArray(reminderSettings.orgId, ids), isNotNull(reminderSettings.senderEmail)));
  facts.sendersStored = senders?.n ?? 0;
  const [others] = await db
    .select({ n: count() })
    .from(memberships)
    .where(and(inArray(memberships.orgId, ids), ne(memberships.userId, userId)));
  facts.otherMembers = others?.n ?? 0;
  const [invited] = await db.select({ n: count() }).from(invites).where(inArray(invites.orgId, ids));
  facts.invitations = invited?.n ?? 0;
  return facts;
}
