/**
 * The inbound-message webhook (POST /webhooks/twilio): verified with Twilio's signature over the public URL it
 * called and every form field (./inbound.ts); a STOP reply opts the sending number out of SMS, a START reply
 * opts it back in. Other replies are acknowledged and ignored.
 */
import { baseUrlOf } from "../base-url";
import type { Deps } from "../deps";
import { setSmsConsent } from "../store/sms";
import { consentReply, verifyTwilioSignature } from "./inbound";
import { mobileNumber } from "./phone";

export type InboundOutcome =
  | { status: 403; reason: string }
  | { status: 200; action: "stop" | "start" | "ignored"; number: string | null };

export async function handleInboundSms(
  deps: Pick<Deps, "config" | "store" | "log" | "clock">,
  req: { pathAndQuery: string; params: Record<string, string>; signature: string | null | undefined },
): Promise<InboundOutcome> {
  const token = deps.config.TWILIO_AUTH_TOKEN;
  if (!token) return { status: 403, reason: "SMS is not configured" };
  const url = `${baseUrlOf(deps.config)}${req.pathAndQuery}`;
  if (!(await verifyTwilioSignature(token, url, req.params, req.signature)))
    return { status: 403, reason: "bad signature" };
  const reply = consentReply(req.params.Body ?? "");
  const from = mobileNumber(req.params.From);
  const number = from.ok ? from.e164 : (req.params.From ?? null);
  if (!reply || !number) return { status: 200, action: "ignored", number };
  await setSmsConsent(
    deps.store.db,
    number,
    reply === "stop",
    req.params.MessageSid ?? "inbound",
    deps.clock.now(),
  );
  deps.log.info({ action: reply }, "SMS consent changed by an inbound reply");
  return { status: 200, action: reply, number };
}
