/**
 * Xero webhooks: `x-xero-signature` is the base64 HMAC-SHA256 of the raw body under the app's webhook key.
 * A delivery with no events is an intent-to-receive check (answer 200 with an empty body when the signature is
 * valid, 401 when not). Events carry no id of their own, so each gets a stable one from what it says changed.
 */
import type { ChangeEvent } from "../connector";
import { verifyHmacSha256Base64 } from "../hmac";

export interface XeroWebhookEvent {
  resourceUrl?: string;
  resourceId: string;
  eventDateUtc?: string;
  eventType: string;
  eventCategory: string;
  tenantId: string;
  tenantType?: string;
}

export interface XeroWebhookBody {
  events: XeroWebhookEvent[];
  firstEventSequence?: number;
  lastEventSequence?: number;
  entropy?: string;
}

export function verifyXeroSignature(key: string, rawBody: string, signature: string | null | undefined) {
  return verifyHmacSha256Base64(key, rawBody, signature);
}

/** Parses a verified body; undefined when it is not a Xero webhook delivery. */
export function parseXeroWebhook(rawBody: string): XeroWebhookBody | undefined {
  try {
    const b = JSON.parse(rawBody) as XeroWebhookBody;
    if (!b || !Array.isArray(b.events)) return undefined;
    return {
      ...b,
      events: b.events.filter(
        (e) =>
          e &&
          typeof e.resourceId === "string" &&
          typeof e.tenantId === "string" &&
          typeof e.eventCategory === "string",
      ),
    };
  } catch {
    return undefined;
  }
}

/** A stable id for an event: the same change redelivered gets the same id. */
async function xeroEventId(e: XeroWebhookEvent): Promise<string> {
  const text = [e.tenantId, e.eventCategory, e.eventType, e.resourceId, e.eventDateUtc ?? ""].join("|");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `xero_${Buffer.from(digest).toString("hex").slice(0, 40)}`;
}

/** Which canonical entity an event category changes (payments have no webhook). */
function entityOfCategory(category: string): "invoices" | "contacts" | undefined {
  if (category === "INVOICE") return "invoices";
  if (category === "CONTACT") return "contacts";
  return undefined;
}

/** The changes a delivery reports that sync follows: organisation tenants' invoices and contacts. */
export async function xeroChangeEvents(body: XeroWebhookBody): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  for (const e of body.events) {
    const entity = entityOfCategory(e.eventCategory);
    if (!entity || (e.tenantType ?? "ORGANISATION") !== "ORGANISATION") continue;
    events.push({
      provider: "xero",
      eventId: await xeroEventId(e),
      tenantId: e.tenantId,
      entity,
      externalId: e.resourceId,
      payload: e,
    });
  }
  return events;
}
