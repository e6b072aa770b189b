/**
 * An organisation's mail settings are what its mail actually uses, against a real SMTP server: a reminder sent
 * by Send now goes from the organisation's sender (name and address) with its Reply-To and a blind copy to its
 * BCC list, a sender set on the organisation is enough without MAIL_FROM, the minimum amount typed on the page
 * stops small invoices being chased, and "Send a test email" reaches the signed-in member through the same
 * settings (a refusing server is reported on the page).
 */
import { afterEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { makeCustomer, makeInvoice, makeOrg } from "../reminders/factories";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";
import { useInbox } from "../support/smtp";

const inbox = useInbox();
let deps: Deps;
afterEach(async () => {
  await deps.store.close();
});

async function setUp(env: Record<string, string>) {
  deps = await testDeps({
    clock: fixedClock("2026-03-10T10:00:00Z"),
    env: { SMTP_URL: inbox.url, PUBLIC_URL: "https://creditpulse.example", ...env },
  });
  const org = await makeOrg(deps.store, { slug: "acme" });
  const c = await makeCustomer(deps.store, org, { externalId: "OK", emails: ["ap@ok.example"] });
  await makeInvoice(deps.store, org, c.externalId, { number: "OK-1", dueDate: "2026-03-02" });
  const app = createApp(deps);
  const s = await signIn(deps, { email: "bk@acme.example", role: "bookkeeper" });
  return { app, s };
}

const form = (s: TestSession, fields: Record<string, string>) => ({
  method: "POST",
  headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
  body: new URLSearchParams(fields).toString(),
});

const MAIL = {
  sender_name: "Acme accounts",
  sender_email: "billing@acme.example",
  reply_to: "replies@acme.example",
  notice_emails: "owner@acme.example",
  bcc_emails: "archive@acme.example, audit@acme.example",
  min_amount: "",
};

describe("mail settings over real SMTP", () => {
  it("a reminder goes from the organisation's sender, with its reply-to and BCC, not the environment's", async () => {
    const { app, s } = await setUp({
      MAIL_FROM: "Install <noreply@install.example>",
      MAIL_REPLY_TO: "env@install.example",
    });
    expect((await app.request("/orgs/acme/settings/mail", form(s, MAIL))).status).toBe(303);
    const res = await app.request("/orgs/acme/reminders/send-now", form(s, { confirm: "1" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("sent=1");
    expect(inbox.messages).toHaveLength(1);
    const m = inbox.messages[0]!;
    expect(m.parsed.from?.value).toEqual([{ name: "Acme accounts", address: "billing@acme.example" }]);
    expect(m.envelope.from).toBe("billing@acme.example");
    expect(m.parsed.replyTo?.value.map((v) => v.address)).toEqual(["replies@acme.example"]);
    expect([...m.envelope.to].sort()).toEqual([
      "ap@ok.example",
      "archive@acme.example",
      "audit@acme.example",
    ]);
    // Blind: the copies are in the envelope, not in the headers the customer sees.
    expect(m.raw).not.toContain("archive@acme.example");
    expect(m.parsed.messageId).toMatch(/@acme\.example>$/);
  });

  it("without MAIL_FROM, Send now explains what to set; once the sender is set on the page, the reminder goes", async () => {
    const { app, s } = await setUp({});
    const refused = await app.request("/orgs/acme/reminders/send-now", form(s, { confirm: "1" }));
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("a sender address");
    expect(inbox.messages).toHaveLength(0);
    await app.request("/orgs/acme/settings/mail", form(s, { ...MAIL, bcc_emails: "" }));
    const res = await app.request("/orgs/acme/reminders/send-now", form(s, { confirm: "1" }));
    expect(res.headers.get("location")).toContain("sent=1");
    expect(inbox.messages.map((m) => m.envelope.to)).toEqual([["ap@ok.example"]]);
  });

  it("the minimum amount typed as “10,000” keeps a smaller invoice from being chased", async () => {
    const { app, s } = await setUp({ MAIL_FROM: "billing@install.example" });
    await app.request("/orgs/acme/settings/mail", form(s, { ...MAIL, min_amount: "10,000" }));
    const res = await app.request("/orgs/acme/reminders/send-now", form(s, { confirm: "1" }));
    expect(res.headers.get("location")).toContain("sent=0");
    expect(inbox.messages).toHaveLength(0);
    const page = await (await app.request("/orgs/acme/reminders", { headers: s.headers() })).text();
    expect(page).toContain("below the minimum amount worth chasing (10000)");
  });

  it("Send a test email reaches the signed-in member from the organisation's sender; a refusing server is reported on the page", async () => {
    const { app, s } = await setUp({});
    await app.request("/orgs/acme/settings/mail", form(s, MAIL));
    const res = await app.request("/orgs/acme/settings/mail/test", form(s, {}));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("done=mail_test_sent");
    expect(inbox.messages).toHaveLength(1);
    const m = inbox.messages[0]!;
    expect(m.envelope.to).toEqual(["bk@acme.example"]);
    expect(m.parsed.from?.value).toEqual([{ name: "Acme accounts", address: "billing@acme.example" }]);
    expect(m.parsed.subject).toBe("Test email from Creditpulse for Acme Supplies Ltd");

    inbox.failWith(550, "rcpt", "5.1.1 no such user");
    const failed = await app.request("/orgs/acme/settings/mail/test", form(s, {}));
    expect(failed.status).toBe(409);
    const html = await failed.text();
    expect(html).toContain("The mail server did not take the test email");
    expect(html).toContain("no such user");
  });
});
