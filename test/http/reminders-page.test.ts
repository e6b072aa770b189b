/**
 * The reminders page shows each email's SMTP outcome (accepted with the server's reply, rejected with the reply,
 * left for review with a resolve action), the resolve action works once, Send now asks first, viewers cannot act,
 * and the customer page adds a reminder address that the next run uses.
 */
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { createSmtpMailer } from "../../src/mail/smtp-mailer";
import { runReminders } from "../../src/reminders/dispatch";
import { reminders } from "../../src/store/schema";
import { makeCustomer, makeInvoice, makeOrg, TEST_ENV } from "../reminders/factories";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";
import { startInbox, type TestInbox } from "../support/smtp";

let inbox: TestInbox;
let deps: Deps;
beforeAll(async () => {
  inbox = await startInbox();
});
afterAll(async () => {
  await inbox.close();
});
beforeEach(async () => {
  inbox.clear();
  deps = await testDeps({
    clock: fixedClock("2026-03-10T10:00:00Z"),
    env: { ...TEST_ENV, SMTP_URL: inbox.url, LOG_LEVEL: "silent" },
  });
});
afterEach(async () => {
  await deps.store.close();
});

async function remind(org: Awaited<ReturnType<typeof makeOrg>>) {
  const mailer = createSmtpMailer({ url: inbox.url });
  try {
    const now = deps.clock.now();
    return await runReminders(
      { store: deps.store, config: deps.config, log: deps.log, secret: deps.secret, mailer },
      { org, at: { kind: "instant", at: now }, now },
    );
  } finally {
    await mailer.close();
  }
}

describe("reminders page", () => {
  it("shows accepted, rejected and left-for-review outcomes, and resolves a review once", async () => {
    const org = await makeOrg(deps.store, { slug: "acme" });
    const ok = await makeCustomer(deps.store, org, { externalId: "OK", emails: ["ap@ok.example"] });
    await makeInvoice(deps.store, org, ok.externalId, { number: "OK-1", dueDate: "2026-03-02" });
    await remind(org);
    const bad = await makeCustomer(deps.store, org, { externalId: "BAD", emails: ["ap@bad.example"] });
    await makeInvoice(deps.store, org, bad.externalId, { number: "BAD-1", dueDate: "2026-03-02" });
    inbox.failWith(550, "data", "5.7.1 message refused");
    await remind(org);
    inbox.failWith(null);
    // One left for review, as a run that died after claiming would leave it.
    const unsure = await makeCustomer(deps.store, org, {
      externalId: "UNSURE",
      emails: ["ap@unsure.example"],
    });
    const inv = await makeInvoice(deps.store, org, unsure.externalId, {
      number: "UN-1",
      dueDate: "2026-03-02",
    });
    await remind(org);
    await deps.store.db
      .update(reminders)
      .set({ status: "needs_review", lastError: "connection dropped after DATA", sentAt: null })
      .where(eq(reminders.contactId, unsure.id));

    const app = createApp(deps);
    const s = await signIn(deps);
    const html = await (await app.request("/orgs/acme/reminders", { headers: s.headers() })).text();
    expect(html).toMatch(/data-outcome="accepted"[\s\S]*?accepted: 250/);
    expect(html).toContain("left for review: connection dropped after DATA");
    expect(html).toContain("Resolve: it was sent");
    const api = (await (await app.request("/api/orgs/acme/reminders", { headers: s.headers() })).json()) as {
      emails: { customer_id: string; outcome: string; email_id: string; smtp_response: string | null }[];
    };
    const byCustomer = Object.fromEntries(api.emails.map((e) => [e.customer_id, e]));
    expect(byCustomer.OK?.outcome).toBe("accepted");
    expect(byCustomer.OK?.smtp_response).toMatch(/^250/);
    expect(byCustomer.UNSURE?.outcome).toBe("review");
    expect(byCustomer.BAD?.outcome).toBe("rejected");
    expect(html).toMatch(/rejected: .*5\.7\.1 message refused/);

    const resolve = (resolution: string) =>
      app.request("/api/orgs/acme/reminders/resolve", {
        method: "POST",
        headers: s.headers({ "content-type": "application/json" }),
        body: JSON.stringify({ email_id: byCustomer.UNSURE!.email_id, resolution }),
      });
    expect((await resolve("maybe")).status).toBe(422);
    expect((await resolve("sent")).status).toBe(200);
    expect((await resolve("resend")).status).toBe(404); // resolved already
    const rows = await deps.store.db.select().from(reminders).where(eq(reminders.contactId, unsure.id));
    expect(rows.map((r) => [r.status, r.resolution, r.sentAt !== null])).toEqual([
      ["sent", "marked_sent", true],
    ]);
    expect(inv.number).toBe("UN-1");
    const viewer = await signIn(deps, { email: "viewer@example.com", role: "viewer" });
    const refused = await app.request("/api/orgs/acme/reminders/resolve", {
      method: "POST",
      headers: viewer.headers({ "content-type": "application/json" }),
      body: JSON.stringify({ email_id: "x", resolution: "sent" }),
    });
    expect(refused.status).toBe(403);
  });

  it("asks before Send now runs, and a reminder address added on the customer page is used", async () => {
    const org = await makeOrg(deps.store, { slug: "acme" });
    const c = await makeCustomer(deps.store, org, { externalId: "NOMAIL", emails: [] });
    await makeInvoice(deps.store, org, c.externalId, { number: "N-1", dueDate: "2026-03-02" });
    const app = createApp(deps);
    const s = await signIn(deps);
    const page = await (await app.request("/orgs/acme/reminders", { headers: s.headers() })).text();
    expect(page).toMatch(/data-reason="no_address"/);
    expect(page).toContain("/orgs/acme/customers/NOMAIL#reminder-address");
    // A form POST without confirmation only leads to the confirmation page.
    const unconfirmed = await app.request("/orgs/acme/reminders/send-now", {
      method: "POST",
      headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: "",
    });
    expect(unconfirmed.status).toBe(303);
    expect(unconfirmed.headers.get("location")).toBe("/orgs/acme/reminders/send-now");
    expect(inbox.messages).toHaveLength(0);
    const bad = await app.request("/orgs/acme/customers/NOMAIL/reminder-address", {
      method: "POST",
      headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: "email=not-an-address",
    });
    expect(bad.status).toBe(422);
    await app.request("/orgs/acme/customers/NOMAIL/reminder-address", {
      method: "POST",
      headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: "email=payables%40nomail.example",
    });
    const confirm = await (
      await app.request("/orgs/acme/reminders/send-now", { headers: s.headers() })
    ).text();
    expect(confirm).toContain("Sends now: 1");
    expect(confirm).toContain("payables@nomail.example");
    const sent = await app.request("/orgs/acme/reminders/send-now", {
      method: "POST",
      headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: "confirm=1",
    });
    const location = sent.headers.get("location") ?? "";
    expect(location).toMatch(/done=send_now&sent=1&/);
    const result = await (await app.request(location, { headers: s.headers() })).text();
    expect(result).toContain(
      "Sent 1 email; 0 wait for the customer&#39;s sending window; holds: 0 proposed for approval",
    );
    // The confirmation says only what the counts say: text in the link is never shown.
    const forged = await (
      await app.request("/orgs/acme/reminders?done=Your+account+is+suspended&sent=x", {
        headers: s.headers(),
      })
    ).text();
    expect(forged).not.toContain("suspended");
    expect(inbox.messages.map((m) => m.envelope.to[0])).toEqual(["payables@nomail.example"]);
  });
});
