import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { consentReply, twilioSignature, verifyTwilioSignature } from "../../src/sms/inbound";
import { mobileNumber } from "../../src/sms/phone";
import { SMS_MAX_CHARS, smsBody } from "../../src/sms/sender";
import { createTwilioSender } from "../../src/sms/twilio";

describe("mobile numbers", () => {
  it.each([
    { raw: "07400 123456", country: "GB", e164: "+447400123456" },
    { raw: "+44 (0)7400 123-456", country: null, e164: "+447400123456" },
    { raw: "(415) 555-2671", country: "US", e164: "+14155552671" },
    { raw: "0412 345 678", country: "au", e164: "+61412345678" },
    { raw: " +64 21 123 4567 ", country: "GB", e164: "+64211234567" },
  ])("normalises $raw ($country) to $e164", ({ raw, country, e164 }) => {
    expect(mobileNumber(raw, country)).toEqual({ ok: true, e164 });
  });

  it.each([
    { raw: "", country: "GB", reason: "no phone number" },
    { raw: "020 7946 0958", country: "GB", reason: "+442079460958 is not a mobile number" },
    {
      raw: "07400 123456",
      country: null,
      reason: '"07400 123456" is not a phone number in international form (+ and country code)',
    },
    { raw: "call me", country: "GB", reason: '"call me" is not a phone number' },
    { raw: "+44 7400 12", country: "GB", reason: '"+44 7400 12" is not a valid +44 number' },
  ])("refuses $raw with a reason", ({ raw, country, reason }) => {
    expect(mobileNumber(raw, country)).toEqual({ ok: false, reason });
  });
});

describe("SMS bodies", () => {
  it("folds whitespace and counts characters, not bytes", () => {
    expect(smsBody("  Invoice INV-1\n is overdue:  pay at https://x.test/c/abc ")).toEqual({
      ok: true,
      body: "Invoice INV-1 is overdue: pay at https://x.test/c/abc",
    });
    expect(smsBody("é".repeat(SMS_MAX_CHARS))).toMatchObject({ ok: true });
  });

  it("refuses an empty or over-long body", () => {
    expect(smsBody(" \n ")).toEqual({ ok: false, reason: "the SMS template renders to nothing" });
    expect(smsBody("x".repeat(SMS_MAX_CHARS + 1))).toEqual({
      ok: false,
      reason: `the SMS is ${SMS_MAX_CHARS + 1} characters; the limit is ${SMS_MAX_CHARS}`,
    });
  });
});

/** A local stand-in for Twilio's Messages API, answering in its recorded shapes. */
type Reply = (req: IncomingMessage, body: string) => { status: number; json?: unknown } | "drop" | "hang";

describe("Twilio sender against a local fake", () => {
  let server: Server;
  let base = "";
  let reply: Reply;
  const seen: { path: string; auth: string | undefined; form: Record<string, string> }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen.push({
          path: req.url ?? "",
          auth: req.headers.authorization,
          form: Object.fromEntries(new URLSearchParams(body)),
        });
        const r = reply(req, body);
        if (r === "drop") return req.socket.destroy();
        if (r === "hang") return;
        res.writeHead(r.status, { "content-type": "application/json" });
        res.end(JSON.stringify(r.json ?? {}));
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const sender = (over: { apiUrl?: string; timeoutMs?: number; from?: string } = {}) =>
    createTwilioSender({
      accountSid: "AC00000000000000000000000000000001",
      authToken: "token-1",
      from: over.from ?? "+447400000001",
      apiUrl: over.apiUrl ?? base,
      timeoutMs: over.timeoutMs ?? 2_000,
    });
  const twilioError = (status: number, code: number, message: string) => ({
    status,
    json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  });

  it("posts the message form with basic auth and keeps the message sid", async () => {
    reply = () => ({ status: 201, json: { sid: "SM0123456789abcdef0123456789abcdef", status: "queued" } });
    const out = await sender().send({ to: "+447400123456", body: "Invoice INV-7 is overdue" });
    expect(out).toEqual({ status: "accepted", id: "SM0123456789abcdef0123456789abcdef" });
    expect(seen).toEqual([
      {
        path: "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json",
        auth: `Basic ${Buffer.from("AC00000000000000000000000000000001:token-1").toString("base64")}`,
        form: { To: "+447400123456", From: "+447400000001", Body: "Invoice INV-7 is overdue" },
      },
    ]);
  });

  it("sends from a Messaging Service when one is configured", async () => {
    reply = () => ({ status: 201, json: { sid: "SM1" } });
    await sender({ from: "MG00000000000000000000000000000001" }).send({ to: "+447400123456", body: "x" });
    expect(seen[0]!.form).toEqual({
      To: "+447400123456",
      MessagingServiceSid: "MG00000000000000000000000000000001",
      Body: "x",
    });
  });

  it.each([
    {
      label: "an invalid number is rejected",
      r: twilioError(400, 21211, "The 'To' number +4412 is not a valid phone number."),
      out: {
        status: "rejected",
        reason: "SMS API answered 400 (error 21211): The 'To' number +4412 is not a valid phone number.",
      },
    },
    {
      label: "a number that replied STOP is rejected as opted out",
      r: twilioError(400, 21610, "Attempt to send to unsubscribed recipient"),
      out: {
        status: "rejected",
        optedOut: true,
        reason: "SMS API answered 400 (error 21610): Attempt to send to unsubscribed recipient",
      },
    },
    {
      label: "bad credentials are retried later",
      r: twilioError(401, 20003, "Authenticate"),
      out: { status: "retry", reason: "SMS API answered 401 (error 20003): Authenticate" },
    },
    {
      label: "rate limiting is retried later",
      r: twilioError(429, 20429, "Too Many Requests"),
      out: { status: "retry", reason: "SMS API answered 429 (error 20429): Too Many Requests" },
    },
    {
      label: "a server error may have sent it: unknown",
      r: { status: 500, json: {} },
      out: { status: "unknown", reason: "SMS API answered 500" },
    },
  ])("$label", async ({ r, out }) => {
    reply = () => r;
    expect(await sender().send({ to: "+447400123456", body: "x" })).toEqual(out);
  });

  it("a connection dropped after the request went out is unknown, never retried", async () => {
    reply = () => "drop";
    const out = await sender().send({ to: "+447400123456", body: "x" });
    expect(out.status).toBe("unknown");
    expect(seen).toHaveLength(1);
  });

  it("a silent API is unknown after the timeout", async () => {
    reply = () => "hang";
    const out = await sender({ timeoutMs: 200 }).send({ to: "+447400123456", body: "x" });
    expect(out.status).toBe("unknown");
  });

  it("no connection at all is retried later", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    const out = await sender({ apiUrl: `http://127.0.0.1:${port}` }).send({ to: "+447400123456", body: "x" });
    expect(out).toMatchObject({ status: "retry" });
    expect((out as { reason: string }).reason).toContain("ECONNREFUSED");
  });
});

describe("inbound SMS webhooks", () => {
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const params = {
    CallSid: "CA1234567890ABCDE",
    Caller: "+12349013030",
    Digits: "1234",
    From: "+12349013030",
    To: "+18005551212",
  };

  it("computes Twilio's documented signature", async () => {
    expect(await twilioSignature("12345", url, params)).toBe("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  });

  it("accepts a signed request and refuses a tampered, unsigned or wrongly keyed one", async () => {
    const sig = await twilioSignature("12345", url, params);
    expect(await verifyTwilioSignature("12345", url, params, sig)).toBe(true);
    expect(await verifyTwilioSignature("12345", url, { ...params, Digits: "1235" }, sig)).toBe(false);
    expect(await verifyTwilioSignature("12345", `${url}&x=1`, params, sig)).toBe(false);
    expect(await verifyTwilioSignature("54321", url, params, sig)).toBe(false);
    expect(await verifyTwilioSignature("12345", url, params, undefined)).toBe(false);
    expect(await verifyTwilioSignature("", url, params, sig)).toBe(false);
  });

  it.each([
    ["STOP", "stop"],
    [" stop ", "stop"],
    ["Stop.", "stop"],
    ["unsubscribe", "stop"],
    ["stop all", "stop"],
    ["START", "start"],
    ["unstop", "start"],
    ["please stop texting me", null],
    ["Paid yesterday", null],
  ] as const)("reads %j as %s", (body, meaning) => {
    expect(consentReply(body)).toBe(meaning);
  });
});
