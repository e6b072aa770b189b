/** Connections to ledgers, their sealed tokens, sync cursors, quarantined records and webhook events. */
import { and, eq, inArray, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { Db } from "./db";
import { newId } from "./ids";
import type { Organisation } from "./orgs";
import { connections, organisations, quarantinedRecords, syncCursors, webhookEvents } from "./schema";

export type Connection = typeof connections.$inferSelect;

export async function getConnection(db: Db, id: string): Promise<Connection | undefined> {
  return (await db.select().from(connections).where(eq(connections.id, id)).limit(1))[0];
}

export async function connectionForOrg(db: Db, orgId: string): Promise<Connection | undefined> {
  return (await db.select().from(connections).where(eq(connections.orgId, orgId)).limit(1))[0];
}

export interface NewConnection {
  orgId: string;
  provider: "xero" | "quickbooks";
  tenantId: string;
  tenantName?: string | null;
  /** Shares the token set kept on this connection (several tenants under one consent). */
  tokenConnectionId?: string | null;
  /** The provider's own id for the tenant connection (Xero /connections `id`). */
  providerConnectionId?: string | null;
}

/**
 * Creates the connection for a tenant, or re-activates the existing one (a reconnect) with the new tokens.
 * Pass null tokens for a connection that shares another's (`tokenConnectionId`).
 */
export async function createConnection(
  db: Db,
  c: NewConnection,
  sealedTokens: string | null,
  accessExpiresAt: number | null,
  now: number,
): Promise<Connection> {
  const tokenConnectionId = c.tokenConnectionId ?? null;
  const providerConnectionId = c.providerConnectionId ?? null;
  const rows = await db
    .insert(connections)
    .values({
      id: newId("conn"),
      orgId: c.orgId,
      provider: c.provider,
      tenantId: c.tenantId,
      tenantName: c.tenantName ?? null,
      sealedTokens,
      accessExpiresAt,
      status: "active",
      tokenConnectionId,
      providerConnectionId,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [connections.provider, connections.tenantId],
      set: {
        sealedTokens,
        accessExpiresAt,
        status: "active",
        lastError: null,
        tokenConnectionId,
        providerConnectionId,
        tenantName: c.tenantName ?? null,
        refreshLeaseOwner: null,
        refreshLeaseUntil: null,
        syncPausedUntil: null,
        updatedAt: now,
      },
    })
    .returning();
  return rows[0]!;
}

export async function findConnectionByTenant(
  db: Db,
  provider: "xero" | "quickbooks",
  tenantId: string,
): Promise<Connection | undefined> {
  return (
    await db
      .select()
      .from(connections)
      .where(and(eq(connections.provider, provider), eq(connections.tenantId, tenantId)))
      .limit(1)
  )[0];
}

export async function listActiveConnections(db: Db): Promise<Connection[]> {
  return db.select().from(connections).where(eq(connections.status, "active"));
}

/** The connections whose tokens are kept on `holderId` (including the holder itself). */
export async function connectionsSharingTokens(db: Db, holderId: string): Promise<Connection[]> {
  return db
    .select()
    .from(connections)
    .where(or(eq(connections.id, holderId), eq(connections.tokenConnectionId, holderId)));
}

/**
 * The provider refused the token set kept on `holderId`: every connection using it (not disconnected ones)
 * needs reconnecting. Returns the ids marked. Other grants are untouched.
 */
export async function markGrantNeedsReconnect(db: Db, holderId: string, reason: string, now: number) {
  const rows = await db
    .update(connections)
    .set({ status: "needs_reconnect", lastError: reason, updatedAt: now })
    .where(
      and(
        or(eq(connections.id, holderId), eq(connections.tokenConnectionId, holderId)),
        ne(connections.status, "disconnected"),
      ),
    )
    .returning({ id: connections.id });
  return rows.map((r) => r.id);
}

/** Pauses (or with null, resumes) sync of a connection until an instant. */
export async function setSyncPausedUntil(db: Db, id: string, until: number | null, now: number) {
  await db.update(connections).set({ syncPausedUntil: until, updatedAt: now }).where(eq(connections.id, id));
}

/** Forgets a connection's tokens (after disconnecting it). */
export async function clearTokens(db: Db, id: string, now: number) {
  await db
    .update(connections)
    .set({ sealedTokens: null, accessExpiresAt: null, updatedAt: now })
    .where(eq(connections.id, id));
}

export async function saveTokens(
  db: Db,
  id: string,
  sealedTokens: string,
  accessExpiresAt: number,
  now: number,
) {
  await db
    .update(connections)
    .set({ sealedTokens, accessExpiresAt, updatedAt: now })
    .where(eq(connections.id, id));
}

export async function setConnectionStatus(
  db: Db,
  id: string,
  status: Connection["status"],
  lastError: string | null,
  now: number,
) {
  await db.update(connections).set({ status, lastError, updatedAt: now }).where(eq(connections.id, id));
}

/** Takes the refresh lease when it is free or expired. True when this owner now holds it. */
export async function takeRefreshLease(db: Db, id: string, owner: string, until: number, now: number) {
  const rows = await db
    .update(connections)
    .set({ refreshLeaseOwner: owner, refreshLeaseUntil: until })
    .where(
      and(
        eq(connections.id, id),
        or(
          isNull(connections.refreshLeaseUntil),
          lt(connections.refreshLeaseUntil, now),
          eq(connections.refreshLeaseOwner, owner),
        ),
      ),
    )
    .returning({ id: connections.id });
  return rows.length === 1;
}

export async function releaseRefreshLease(db: Db, id: string, owner: string) {
  await db
    .update(connections)
    .set({ refreshLeaseOwner: null, refreshLeaseUntil: null })
    .where(and(eq(connections.id, id), eq(connections.refreshLeaseOwner, owner)));
}

/**
 * Takes the connection's sync lease when it is free, expired or already ours: one sync per connection at a
 * time, whichever process or Worker invocation runs it. True when `owner` now holds it until `until`.
 */
export async function takeSyncLease(db: Db, id: string, owner: string, until: number, now: number) {
  const rows = await db
    .update(connections)
    .set({ syncLeaseOwner: owner, syncLeaseUntil: until })
    .where(
      and(
        eq(connections.id, id),
        or(
          isNull(connections.syncLeaseUntil),
          lt(connections.syncLeaseUntil, now),
          eq(connections.syncLeaseOwner, owner),
        ),
      ),
    )
    .returning({ id: connections.id });
  return rows.length === 1;
}

export async function releaseSyncLease(db: Db, id: string, owner: string) {
  await db
    .update(connections)
    .set({ syncLeaseOwner: null, syncLeaseUntil: null })
    .where(and(eq(connections.id, id), eq(connections.syncLeaseOwner, owner)));
}

export async function getCursor(db: Db, orgId: string, entity: string): Promise<string | null> {
  const rows = await db
    .select({ cursor: syncCursors.cursor })
    .from(syncCursors)
    .where(and(eq(syncCursors.orgId, orgId), eq(syncCursors.entity, entity)))
    .limit(1);
  return rows[0]?.cursor ?? null;
}

export async function setCursor(db: Db, orgId: string, entity: string, cursor: string, now: number) {
  await db
    .insert(syncCursors)
    .values({ orgId, entity, cursor, updatedAt: now })
    .onConflictDoUpdate({ target: [syncCursors.orgId, syncCursors.entity], set: { cursor, updatedAt: now } });
}

export async function quarantine(
  db: Db,
  r: { orgId: string; entity: string; externalId: string; reason: string; payload?: unknown },
  now: number,
) {
  const payload = r.payload === undefined ? null : JSON.stringify(r.payload).slice(0, 20_000);
  await db
    .insert(quarantinedRecords)
    .values({
      id: newId("qr"),
      orgId: r.orgId,
      entity: r.entity,
      externalId: r.externalId,
      reason: r.reason,
      payload,
      createdAt: now,
    })
    .onConflictDoUpdate({
      target: [quarantinedRecords.orgId, quarantinedRecords.entity, quarantinedRecords.externalId],
      set: { reason: r.reason, payload, createdAt: now },
    });
}

/** Clears quarantine entries once their records were written whole. */
export async function releaseQuarantine(
  db: Db,
  orgId: string,
  entity: string,
  externalIds: string[],
  maxParams = 100,
) {
  const ids = [...new Set(externalIds)];
  const size = Math.max(1, maxParams - 2);
  for (let i = 0; i < ids.length; i += size)
    await db
      .delete(quarantinedRecords)
      .where(
        and(
          eq(quarantinedRecords.orgId, orgId),
          eq(quarantinedRecords.entity, entity),
          inArray(quarantinedRecords.externalId, ids.slice(i, i + size)),
        ),
      );
}

export type QuarantinedRow = typeof quarantinedRecords.$inferSelect;

/** The organisation's quarantined records (retried at every sync). */
export async function listQuarantined(db: Db, orgId: string): Promise<QuarantinedRow[]> {
  return db.select().from(quarantinedRecords).where(eq(quarantinedRecords.orgId, orgId));
}

/** True when the organisation has any quarantined record (so writes know whether to release any). */
export async function hasQuarantined(db: Db, orgId: string): Promise<boolean> {
  const rows = await db
    .select({ id: quarantinedRecords.id })
    .from(quarantinedRecords)
    .where(eq(quarantinedRecords.orgId, orgId))
    .limit(1);
  return rows.length > 0;
}

/**
 * Records a webhook event under its provider id. False when it was seen before and its work is done (a
 * duplicate is a no-op); a redelivery of an event whose re-pull never succeeded is work to do again.
 */
export async function recordWebhookEvent(
  db: Db,
  e: { provider: string; eventId: string; orgId: string | null; payload: string },
  now: number,
): Promise<boolean> {
  const rows = await db
    .insert(webhookEvents)
    .values({ provider: e.provider, eventId: e.eventId, orgId: e.orgId, payload: e.payload, receivedAt: now })
    .onConflictDoNothing()
    .returning({ eventId: webhookEvents.eventId });
  if (rows.length === 1) return true;
  const seen = await db
    .select({ processedAt: webhookEvents.processedAt })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.provider, e.provider), eq(webhookEvents.eventId, e.eventId)))
    .limit(1);
  return seen[0] !== undefined && seen[0].processedAt === null;
}

/** Notes a failed re-pull attempt of a webhook event (it stays unprocessed, so it is retried). */
export async function markWebhookFailed(db: Db, provider: string, eventId: string, error: string) {
  await db
    .update(webhookEvents)
    .set({ attempts: sql`${webhookEvents.attempts} + 1`, lastError: error.slice(0, 500) })
    .where(and(eq(webhookEvents.provider, provider), eq(webhookEvents.eventId, eventId)));
}

/**
 * A sync of the organisation's whole ledger finished after `before`: it read every change, so the webhook
 * events received before it started whose re-pull never succeeded are done too.
 */
export async function markWebhooksCoveredBySync(db: Db, orgId: string, before: number, now: number) {
  await db
    .update(webhookEvents)
    .set({ processedAt: now })
    .where(
      and(
        eq(webhookEvents.orgId, orgId),
        isNull(webhookEvents.processedAt),
        lt(webhookEvents.receivedAt, before),
      ),
    );
}

export async function markWebhookProcessed(db: Db, provider: string, eventId: string, now: number) {
  await db
    .update(webhookEvents)
    .set({ processedAt: now })
    .where(and(eq(webhookEvents.provider, provider), eq(webhookEvents.eventId, eventId)));
}

// ---------------------------------------------------------------------------------------------------------
// Connect, disconnect and sync bookkeeping (moved here from src/sync and the QuickBooks service, issue 13)

/** The organisation's connection to one provider. */
export async function findProviderConnection(
  db: Db,
  orgId: string,
  provider: "xero" | "quickbooks",
): Promise<Connection | undefined> {
  return (
    await db
      .select()
      .from(connections)
      .where(and(eq(connections.orgId, orgId), eq(connections.provider, provider)))
      .limit(1)
  )[0];
}

/** The organisation a connection belongs to (by id). */
export async function orgOfConnection(
  db: Db,
  conn: Pick<Connection, "orgId">,
): Promise<Organisation | undefined> {
  return (await db.select().from(organisations).where(eq(organisations.id, conn.orgId)).limit(1))[0];
}

/** A sync finished: when, and the connection's error and daily-budget pause are cleared. */
export async function recordSyncSuccess(db: Db, id: string, now: number) {
  await db
    .update(connections)
    .set({ lastSyncAt: now, lastError: null, syncPausedUntil: null, updatedAt: now })
    .where(eq(connections.id, id));
}

/** A sync stopped on a provider error: kept for the dashboard. */
export async function recordSyncError(db: Db, id: string, message: string, now: number) {
  await db.update(connections).set({ lastError: message, updatedAt: now }).where(eq(connections.id, id));
}
