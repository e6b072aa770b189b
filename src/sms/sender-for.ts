/**
 * The install's SMS sender: Twilio when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM are all set,
 * else none (levels marked for SMS then send their emails only). The auth token is never logged.
 */
import type { Config } from "../config";
import type { SmsSender } from "./sender";
import { createTwilioSender } from "./twilio";

export function smsSenderFor(config: Config): SmsSender | undefined {
  const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_FROM: from } = config;
  if (!accountSid || !authToken || !from) return undefined;
  return createTwilioSender({ accountSid, authToken, from, apiUrl: config.TWILIO_API_URL });
}
