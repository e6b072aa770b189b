/**
 * QuickBooks webhook deliveries. Since May 2026 Intuit sends CloudEvents: a JSON array of
 * `{ specversion, id, source, type: "qbo.invoice.updated.v1", time, intuitentityid, intuitaccountid, data }`
 * (content type application/cloudevents+json; application/json accepted too). The older
 * `{ eventNotifications: [{ realmId, dataChangeEvent: { entities: [...] } }] }` body is read as well, with
 * an event id built from its fields. The signature (`intuit-signature`) is checked by the route with hmac.ts.
 */
import type { Entity } from "../connector";
import { QBO_ENTITY } from "./pull";

export interface QboWebhookEvent {
  id: string;
  realmId: string;
  /** Lower-case QBO entity name: "invoice", "customer", ... */
  entityName: string;
  entityId: string;
  operation: string;
  time?: string;
  /** The canonical entity to re-pull, when it is one we sync. */
  entity?: Entity;
}

const BY_NAME = new Map(Object.entries(QBO_ENTITY).map(([e, n]) => [n.toLowerCase(), e as Entity]));

export const WEBHOOK_CONTENT_TYPES = [
  "application/cloudevents+json",
  "application/cloudevents-batch+json",
  "application/json",
] as const;

export function acceptsContentType(header: string | undefined): boolean {
  const type = (header ?? "").split(";")[0]!.trim().toLowerCase();
  return (WEBHOOK_CONTENT_TYPES as readonly string[]).includes(type);
}

/** Parses a delivery; throws on a body that is neither format. */
export function parseWebhook(raw: string): QboWebhookEvent[] {
  const body = JSON.parse(raw) as unknown;
  const events: QboWebhookEvent[] = [];
  const list = Array.isArray(body)
    ? body
    : body && typeof body === "object" && "specversion" in body
      ? [body]
      : null;
  if (list) {
    for (const e of list as Record<string, unknown>[]) {
      const type = String(e?.type ?? "");
      const m = /^qbo\.([a-z]+)\.([a-z]+)\.v\d+$/i.exec(type);
      if (!e?.id || !m || !e.intuitaccountid) throw new Error("not a QuickBooks CloudEvent");
      const entityName = m[1]!.toLowerCase();
      events.push({
        id: String(e.id),
        realmId: String(e.intuitaccountid),
        entityName,
        entityId: String(e.intuitentityid ?? ""),
        operation: m[2]!.toLowerCase(),
        ...(typeof e.time === "string" ? { time: e.time } : {}),
        ...(BY_NAME.has(entityName) ? { entity: BY_NAME.get(entityName) } : {}),
      });
    }
    return events;
  }
  const legacy = body as {
    eventNotifications?: {
      realmId?: string;
      dataChangeEvent?: {
        entities?: { name?: string; id?: string; operation?: string; lastUpdated?: string }[];
      };
    }[];
  };
  if (!Array.isArray(legacy?.eventNotifications)) throw new Error("not a QuickBooks webhook body");
  for (const n of legacy.eventNotifications)
    for (const ent of n.dataChangeEvent?.entities ?? []) {
      const entityName = String(ent.name ?? "").toLowerCase();
      const realmId = String(n.realmId ?? "");
      const operation = String(ent.operation ?? "").toLowerCase();
      events.push({
        id: `legacy:${realmId}:${entityName}:${ent.id}:${operation}:${ent.lastUpdated ?? ""}`,
        realmId,
        entityName,
        entityId: String(ent.id ?? ""),
        operation,
        ...(ent.lastUpdated ? { time: ent.lastUpdated } : {}),
        ...(BY_NAME.has(entityName) ? { entity: BY_NAME.get(entityName) } : {}),
      });
    }
  return events;
}
