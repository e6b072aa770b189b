/**
 * SMS reminders on policy levels, against a local Twilio fake on a real port and a real SMTP inbox: a level
 * marked `sms` sends one SMS with its email, only inside the customer's sending window and never twice for the
 * level; an invalid or landline number is refused with its reason recorded; a STOP reply on the signed
 * inbound webhook stops SMS to that number (START re-enables it), and a badly signed webhook changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { twilioSignature } from "../../src/sms/inbound";
import { createTwilioSender } from "../../src/sms/twilio";
import { saveChargeSettings } from "../../src/store/charges";
import { ensureReminderSetup, upsertPolicy } from "../../src/store/reminder-settings";
import { isSmsOptedOut, setSmsConsent, smsByOrg } from "../../src/store/sms";
import { useTestStore } from "../support/db";
import { testDeps } from "../support/deps";
import { type FakeTwilio, startFakeTwilio } from "../support/fake-twilio";
import { useInbox } from "../support/smtp";
import { harness, makeCustomer, makeInvoice, makeOrg, setContact } from "./factories";

const inbox = useInbox();
const store = useTestStore();
let twilio: FakeTwilio;
beforeAll(async () => {
  twilio = await startFakeTwilio();
});
afterAll(() => twilio.close());

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "twilio-auth-token-0123456789";
const TWILIO_ENV = {
  TWILIO_ACCOUNT_SID: SID,
  TWILIO_AUTH_TOKEN: TOKEN,
  TWILIO_FROM: "+447700900001",
  PUBLIC_URL: "https://creditpulse.example",
};

async function setup() {
  twilio.messages.length = 0;
  const sms = createTwilioSender({
    accountSid: SID,
    authToken: TOKEN,
    from: "+447700900001",
    apiUrl: twilio.url,
  });
  const h = harness(store, inbox, "2026-03-03T08:00:00Z", { sms });
  const org = await makeOrg(store);
  await ensureReminderSetup(store.db, org, 0);
  await upsertPolicy(
    store.db,
    org.id,
    "default",
    [
      { offsetDays: 1, template: "overdue", name: "Overdue", sms: true },
      { offsetDays: 7, template: "firm", name: "Second reminder", sms: true },
      { offsetDays: 14, template: "firmer", name: "Third reminder" },
    ],
    0,
  );
  const customer = async (phone: string | null) => {
    const c = await makeCustomer(store, org);
    await setContact(store, c.id, { phone });
    await makeInvoice(store, org, c.externalId, { issueDate: "2026-02-01", dueDate: "2026-03-02" });
    return c;
  };
  return { h, org, customer };
}

async function webhook(params: Record<string, string>, signature?: string) {
  const deps = await testDeps({ store, env: TWILIO_ENV });
  const app = createApp(deps);
  const sig =
    signature ?? (await twilioSignature(TOKEN, "https://creditpulse.example/webhooks/twilio", params));
  return app.request("/webhooks/twilio", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sig },
    body: new URLSearchParams(params).toString(),
  });
}

describe("SMS on reminder levels", () => {
  it("sends one SMS per level inside the window, and refuses a landline or invalid number with a reason", async () => {
    const { h, org, customer } = await setup();
    const good = await customer("07400 123456");
    const landline = await customer("020 7946 0958");
    const junk = await customer("call the office");

    // 08:00 in London: before the window opens, nothing goes.
    await h.run(org);
    expect(twilio.messages).toEqual([]);
    expect(inbox.messages).toHaveLength(0);

    h.clock.set(Date.parse("2026-03-03T10:00:00Z"));
    const first = await h.run(org);
    expect(first.emails.filter((e) => e.status === "sent")).toHaveLength(3);
    expect(twilio.messages).toHaveLength(1);
    const msg = twilio.messages[0]!;
    expect(msg.to).toBe("+447400123456");
    expect(msg.body.length).toBeLessThanOrEqual(320);
    expect(msg.body).toMatch(/^Acme Supplies Ltd: 1 invoice \(£120\.00\) overdue\./);
    expect(msg.body).toMatch(/https:\/\/creditpulse\.example\/c\/\S+/);
    expect(msg.body).toContain("Reply STOP to opt out.");
    const byCustomer = new Map(first.emails.map((e) => [e.customer_id, e.sms]));
    expect(byCustomer.get(good.externalId)).toBe("sent");
    expect(byCustomer.get(landline.externalId)).toBe("refused: +442079460958 is not a mobile number");
    expect(byCustomer.get(junk.externalId)).toBe('refused: "call the office" is not a phone number');
    const rows = await smsByOrg(store.db, org.id);
    expect(rows.map((r) => [r.contactId, r.status, r.reason]).sort()).toEqual(
      [
        [good.id, "sent", null],
        [landline.id, "refused", "+442079460958 is not a mobile number"],
        [junk.id, "refused", '"call the office" is not a phone number'],
      ].sort(),
    );

    // Later the same day and the next days: the level's SMS is not sent again.
    for (const at of ["2026-03-03T11:00:00Z", "2026-03-04T10:00:00Z", "2026-03-05T15:00:00Z"]) {
      h.clock.set(Date.parse(at));
      await h.run(org);
    }
    expect(twilio.messages).toHaveLength(1);

    // Level 2 (7 days late): its own SMS, once.
    h.clock.set(Date.parse("2026-03-09T10:00:00Z"));
    await h.run(org);
    h.clock.set(Date.parse("2026-03-09T12:00:00Z"));
    await h.run(org);
    expect(twilio.messages.map((m) => m.to)).toEqual(["+447400123456", "+447400123456"]);
    await h.close();
  });

  it("stops SMS to a number that replied STOP on the signed webhook, and sends again after START", async () => {
    const { h, org, customer } = await setup();
    const c = await customer("+44 7400 654321");

    // A forged STOP (bad signature) is refused and changes nothing.
    const forged = await webhook(
      { From: "+447400654321", Body: "STOP", MessageSid: "SM1" },
      "bm90IGEgc2lnbmF0dXJl",
    );
    expect(forged.status).toBe(403);
    expect(await isSmsOptedOut(store.db, "+447400654321")).toBe(false);
    // A signature over other parameters is refused too.
    const tampered = await webhook(
      { From: "+447400654321", Body: "STOP", MessageSid: "SM1" },
      await twilioSignature(TOKEN, "https://creditpulse.example/webhooks/twilio", {
        From: "+447400000000",
        Body: "STOP",
      }),
    );
    expect(tampered.status).toBe(403);

    const stop = await webhook({
      From: "+447400654321",
      To: "+447700900001",
      Body: " stop ",
      MessageSid: "SM2",
    });
    expect(stop.status).toBe(200);
    expect(stop.headers.get("content-type")).toContain("text/xml");
    expect(await isSmsOptedOut(store.db, "+447400654321")).toBe(true);

    h.clock.set(Date.parse("2026-03-03T10:00:00Z"));
    const r = await h.run(org);
    expect(r.emails.find((e) => e.customer_id === c.externalId)?.sms).toBe(
      "refused: the number replied STOP (opted out of SMS)",
    );
    expect(twilio.messages).toEqual([]);

    // START: the next level's SMS goes again.
    expect((await webhook({ From: "+447400654321", Body: "START", MessageSid: "SM3" })).status).toBe(200);
    expect(await isSmsOptedOut(store.db, "+447400654321")).toBe(false);
    h.clock.set(Date.parse("2026-03-09T10:00:00Z"));
    await h.run(org);
    expect(twilio.messages.map((m) => m.to)).toEqual(["+447400654321"]);
    await h.close();
  });

  it("tries an SMS the provider refused for now (429) again on a later run inside the window, once", async () => {
    const { h, org, customer } = await setup();
    const c = await customer("07400 333444");
    twilio.failNext.push({ status: 429, code: 20429, message: "Too Many Requests" });
    h.clock.set(Date.parse("2026-03-03T16:30:00Z"));
    const r = await h.run(org);
    expect(r.emails[0]!.sms).toBe("failed: SMS API answered 429 (error 20429): Too Many Requests");
    expect(twilio.messages).toEqual([]);
    // 17:30: the window has closed; nothing is retried until it opens again.
    h.clock.set(Date.parse("2026-03-03T17:30:00Z"));
    await h.run(org);
    expect(twilio.messages).toEqual([]);
    h.clock.set(Date.parse("2026-03-04T09:05:00Z"));
    await h.run(org);
    h.clock.set(Date.parse("2026-03-04T10:05:00Z"));
    await h.run(org);
    expect(twilio.messages.map((m) => m.to)).toEqual(["+447400333444"]);
    const rows = await smsByOrg(store.db, org.id);
    expect(rows.map((x) => [x.contactId, x.status])).toEqual([[c.id, "sent"]]);
    await h.close();
  });

  it("records an opt-out the provider reports (error 21610) and a template over 320 characters is refused", async () => {
    const { h, org, customer } = await setup();
    await customer("07400 111222");
    twilio.failNext.push({ status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient" });
    h.clock.set(Date.parse("2026-03-03T10:00:00Z"));
    const r = await h.run(org);
    expect(r.emails[0]!.sms).toMatch(/^refused: SMS API answered 400 \(error 21610\)/);
    expect(await isSmsOptedOut(store.db, "+447400111222")).toBe(true);

    // The customer opts back in; the organisation's template now renders over 320 characters: refused, with why.
    await setSmsConsent(store.db, "+447400111222", false, "test", 0);
    await saveChargeSettings(store, org.id, { smsTemplate: `{{ org.name }} ${"x".repeat(320)}` }, "test", 0);
    h.clock.set(Date.parse("2026-03-09T10:00:00Z"));
    const r2 = await h.run(org);
    expect(r2.emails[0]!.sms).toBe("refused: the SMS is 338 characters; the limit is 320");
    expect(twilio.messages).toEqual([]);
    await h.close();
  });
});
