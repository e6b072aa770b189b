import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderStatement } from "../../src/portal/statement";
import { issuePageToken, PAGE_PURPOSE } from "../../src/portal/token";
import { runScoring } from "../../src/scoring/run-scoring";
import { signToken } from "../../src/signed";
import { CUSTOMER_ACTIONS } from "../../src/store/audit";
import { resolveDispute } from "../../src/store/disputes";
import { loadMonitorInput } from "../../src/store/monitor-input";
import type { Organisation } from "../../src/store/orgs";
import { brokenPromises } from "../../src/store/pauses";
import { openInvoicesOf, rotatePortalNonce } from "../../src/store/portal";
import { auditLog, contacts, invoiceDisputes, invoices } from "../../src/store/schema";
import { makeCustomer, makeInvoice, makeOrg, payInvoice } from "../reminders/factories";
import { startInbox, type TestInbox } from "../support/smtp";
import {
  csrfIn,
  fromIp,
  invoiceIdIn,
  OWNER,
  pagePathIn,
  pdfText,
  post,
  SECRET,
  type World,
  world,
} from "./support";

// Tuesday 10 March 2026, 10:00 in London. The invoice fell due on Thursday 5 March (+5: the "overdue" level).
const TUE = "2026-03-10T10:00:00Z";
const THU = "2026-03-12T10:00:00Z"; // +7: the "firm" level becomes due
const DAY = 86_400_000;

let inbox: TestInbox;
let w: World;

beforeAll(async () => {
  inbox = await startInbox();
});
afterAll(async () => {
  await inbox.close();
});
beforeEach(async () => {
  inbox.clear();
  inbox.failWith(null);
  w = await world(inbox, TUE);
});
afterEach(async () => {
  await w.close();
});

async function ledger(name = "Bright Bakery Ltd") {
  const org = await makeOrg(w.store);
  const c = await makeCustomer(w.store, org, { name, emails: ["ap@bakery.example"] });
  const inv = await makeInvoice(w.store, org, c.externalId, {
    number: "INV-2001",
    issueDate: "2026-02-05",
    dueDate: "2026-03-05",
    totalMinor: 480_00,
    payUrl: "https://pay.example/inv-2001",
  });
  return { org, c, inv };
}

/** Sends the first reminder and returns its page path, page HTML and the invoice's form id. */
async function firstReminder(org: Organisation) {
  const report = await w.remind(org);
  expect(report.emails.map((e) => e.status)).toContain("sent");
  const msg = inbox.messages.find((m) => m.envelope.to.includes("ap@bakery.example"))!;
  const path = pagePathIn(msg.parsed.text ?? "");
  const res = await w.app.request(path);
  expect(res.status).toBe(200);
  const html = await res.text();
  inbox.clear();
  return { path, html, csrf: csrfIn(html), invoiceId: invoiceIdIn(html, "INV-2001"), msg };
}

async function actions(orgId: string, action: string) {
  return w.store.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, orgId), eq(auditLog.action, action)));
}

function ownerMails() {
  return inbox.messages.filter((m) => m.envelope.to.includes(OWNER));
}

describe("happy path: the page", () => {
  it("shows the business, the customer's open invoices with amounts, due dates and safe pay links", async () => {
    const { org, c } = await ledger("<script>alert(1)</script> Bakery");
    await makeInvoice(w.store, org, c.externalId, {
      number: "INV-2002",
      dueDate: "2026-03-20",
      totalMinor: 99_50,
      payUrl: "javascript:alert(1)",
    });
    const paid = await makeInvoice(w.store, org, c.externalId, { number: "INV-1999", dueDate: "2026-02-01" });
    await payInvoice(w.store, org, paid, "2026-02-02");
    const { html, msg } = await firstReminder(org);

    expect(String(msg.parsed.html)).toMatch(
      /<a href="https:\/\/creditpulse\.example\/c\/[\w.-]+">View your account online<\/a>/,
    );
    expect(html).toContain("Acme Supplies Ltd");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; Bakery");
    expect(html).not.toContain("<script>");
    expect(html).toContain("INV-2001");
    expect(html).toContain("£480.00");
    expect(html).toContain("5 Mar 2026");
    expect(html).toContain("INV-2002");
    expect(html).toContain("£99.50");
    expect(html).not.toContain("INV-1999");
    expect(html).toContain('href="https://pay.example/inv-2001"');
    expect(html).not.toContain("javascript:");
  });

  it("serves the statement as a PDF listing the open invoices", async () => {
    const { org, c } = await ledger();
    const { path } = await firstReminder(org);
    const res = await w.app.request(`${path}/statement.pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 5).toString()).toBe("%PDF-");

    const invs = await openInvoicesOf(w.store.db, org.id, c.id, "2026-03-10");
    const plain = await renderStatement(
      {
        orgName: org.name,
        locale: org.locale,
        customerName: "Bright Bakery Ltd",
        customerId: c.externalId,
        today: "2026-03-10",
        invoices: invs,
      },
      { compress: false },
    );
    const text = pdfText(plain);
    expect(text).toContain("INV-2001");
    expect(text).toContain("Acme Supplies Ltd");
    expect(text).toContain("£480.00");
  });
});

describe("happy path: each action is recorded, told to the owner, and honoured by the next reminder run", () => {
  it("I've already paid: pauses that invoice for 5 days, then resumes unless the payment arrived", async () => {
    const { org } = await ledger();
    const { path, csrf, invoiceId } = await firstReminder(org);
    const res = await post(w.app, `${path}/paid`, {
      csrf,
      invoice: invoiceId,
      paid_on: "2026-03-09",
      reference: "BACS 7781",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${path}?done=paid`);

    const [entry] = await actions(org.id, CUSTOMER_ACTIONS.paid);
    expect(entry).toMatchObject({
      actor: "customer",
      invoiceId,
      detail: { paidOn: "2026-03-09", reference: "BACS 7781", pausedUntil: "2026-03-15" },
    });
    const [notice] = ownerMails();
    expect(notice?.parsed.subject).toBe("Bright Bakery Ltd says invoice INV-2001 is already paid");
    expect(notice?.parsed.text).toContain("Reference: BACS 7781");
    expect((await actions(org.id, CUSTOMER_ACTIONS.ownerNotified)).length).toBe(1);
    inbox.clear();

    w.clock.set(THU);
    expect((await w.remind(org)).emails).toEqual([]);
    expect(inbox.messages).toHaveLength(0);

    // Monday 16 March: the pause is over and the books still show it unpaid: chasing resumes.
    w.clock.set("2026-03-16T10:00:00Z");
    expect((await w.remind(org)).emails.map((e) => e.status)).toEqual(["sent"]);
  });

  it("I've already paid, and the payment arrives: nothing more is sent", async () => {
    const { org, inv } = await ledger();
    const { path, csrf, invoiceId } = await firstReminder(org);
    await post(w.app, `${path}/paid`, { csrf, invoice: invoiceId, paid_on: "2026-03-10" });
    await payInvoice(w.store, org, inv, "2026-03-11");
    w.clock.set("2026-03-16T10:00:00Z");
    expect((await w.remind(org)).emails).toEqual([]);
  });

  it("I'll pay by: pauses until the date; a broken promise is flagged once and chasing resumes", async () => {
    const { org } = await ledger();
    const { path, csrf, invoiceId } = await firstReminder(org);
    const res = await post(w.app, `${path}/promise`, { csrf, invoice: invoiceId, pay_by: "2026-03-20" });
    expect(res.status).toBe(303);
    expect((await actions(org.id, CUSTOMER_ACTIONS.promised))[0]).toMatchObject({
      actor: "customer",
      detail: { payBy: "2026-03-20" },
    });
    expect(ownerMails()[0]?.parsed.subject).toBe(
      "Bright Bakery Ltd promises to pay invoice INV-2001 by 20 Mar 2026",
    );

    for (const day of ["2026-03-12", "2026-03-19", "2026-03-20"]) {
      w.clock.set(`${day}T10:00:00Z`);
      expect((await w.remind(org)).emails).toEqual([]);
    }
    expect(await brokenPromises(w.store.db, org.id)).toEqual([]);

    w.clock.set("2026-03-23T10:00:00Z");
    expect((await w.remind(org)).emails.map((e) => e.status)).toEqual(["sent"]);
    w.clock.set("2026-03-24T10:00:00Z");
    await w.remind(org);
    const broken = await brokenPromises(w.store.db, org.id);
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatchObject({
      invoiceId,
      detail: { invoiceNumber: "INV-2001", promisedBy: "2026-03-20" },
    });
  });

  it("the nightly scoring run flags a broken promise once too, lowers the score and says why", async () => {
    const { org, c } = await ledger();
    const { path, csrf, invoiceId } = await firstReminder(org);
    await post(w.app, `${path}/promise`, { csrf, invoice: invoiceId, pay_by: "2026-03-13" });
    const before = await runScoring(w.store, org, { now: Date.parse("2026-03-13T23:00:00Z") });
    const kept = before.results.find((r) => r.contact_id === c.id)!;
    expect(kept.reasons.join(" ")).not.toContain("promise");
    for (const day of ["2026-03-14", "2026-03-15"]) {
      const r = await runScoring(w.store, org, { now: Date.parse(`${day}T23:00:00Z`) });
      const broken = r.results.find((x) => x.contact_id === c.id)!;
      expect(broken.reasons[0]).toBe("Broke a promise to pay (INV-2001 by 2026-03-13): -10 points");
      expect(broken.score).toBeLessThan(kept.score);
    }
    w.clock.set("2026-03-16T10:00:00Z");
    await w.remind(org);
    expect(await brokenPromises(w.store.db, org.id)).toHaveLength(1);
  });

  it("a kept promise is never flagged", async () => {
    const { org, inv } = await ledger();
    const { path, csrf, invoiceId } = await firstReminder(org);
    await post(w.app, `${path}/promise`, { csrf, invoice: invoiceId, pay_by: "2026-03-13" });
    await payInvoice(w.store, org, inv, "2026-03-13");
    w.clock.set("2026-03-17T10:00:00Z");
    await w.remind(org);
    expect(await brokenPromises(w.store.db, org.id)).toEqual([]);
  });

  it("I dispute this invoice: stops chasing and leaves the exposure until a bookkeeper resolves it", async () => {
    const { org } = await ledger();
    const { path, csrf, invoiceId } = await firstReminder(org);
    const res = await post(w.app, `${path}/dispute`, {
      csrf,
      invoice: invoiceId,
      reason: "wrong_amount",
      comment: "We agreed £400 <b>net</b>",
    });
    expect(res.status).toBe(303);
    const [inv] = await w.store.db.select().from(invoices).where(eq(invoices.id, invoiceId));
    expect(inv?.disputedAt).toBe(Date.parse(TUE));
    expect(await w.store.db.select().from(invoiceDisputes)).toMatchObject([
      { reason: "wrong_amount", comment: "We agreed £400 <b>net</b>" },
    ]);
    expect((await actions(org.id, CUSTOMER_ACTIONS.disputed))[0]).toMatchObject({
      actor: "customer",
      detail: { reason: "wrong_amount" },
    });
    const notice = ownerMails()[0]!;
    expect(notice.parsed.subject).toBe("Bright Bakery Ltd disputes invoice INV-2001");
    expect(String(notice.parsed.html)).toContain("We agreed £400 &lt;b&gt;net&lt;/b&gt;");

    expect((await loadMonitorInput(w.store.db, org)).invoices.map((i) => i.number)).toEqual([]);
    w.clock.set(THU);
    expect((await w.remind(org)).emails).toEqual([]);
    const page = await (await w.app.request(path)).text();
    expect(page).toContain("Under dispute");

    expect(
      await resolveDispute(
        w.store,
        { orgId: org.id, invoiceId, by: "usr_bookkeeper", resolution: "amount confirmed" },
        Date.parse(THU),
      ),
    ).toBe(true);
    expect(
      await resolveDispute(w.store, { orgId: org.id, invoiceId, by: "usr_bookkeeper" }, Date.parse(THU)),
    ).toBe(false);
    expect((await actions(org.id, CUSTOMER_ACTIONS.disputeResolved))[0]).toMatchObject({
      actor: "usr_bookkeeper",
    });
    expect((await loadMonitorInput(w.store.db, org)).invoices.map((i) => i.number)).toEqual(["INV-2001"]);
    expect((await w.remind(org)).emails.map((e) => e.status)).toEqual(["sent"]);
  });

  it("send reminders to someone else: the next reminder goes to the new address; the ledger's is kept", async () => {
    const { org, c } = await ledger();
    const { path, csrf } = await firstReminder(org);
    const res = await post(w.app, `${path}/address`, { csrf, email: "payables@bakery.example" });
    expect(res.status).toBe(303);
    expect((await actions(org.id, CUSTOMER_ACTIONS.addressChanged))[0]).toMatchObject({
      detail: { email: "payables@bakery.example", previous: ["ap@bakery.example"] },
    });
    expect(ownerMails()[0]?.parsed.text).toContain("New reminder address: payables@bakery.example");
    inbox.clear();
    const [row] = await w.store.db.select().from(contacts).where(eq(contacts.id, c.id));
    expect(row?.emails).toEqual(["ap@bakery.example"]);

    w.clock.set(THU);
    const report = await w.remind(org);
    expect(report.emails.map((e) => [e.status, e.to])).toEqual([["sent", "payables@bakery.example"]]);
    expect(inbox.messages.map((m) => m.envelope.to)).toEqual([["payables@bakery.example"]]);
  });

  it("stop emailing me: opts out, and the next run sends nothing", async () => {
    const { org } = await ledger();
    const { path, csrf } = await firstReminder(org);
    expect((await post(w.app, `${path}/stop`, { csrf })).status).toBe(303);
    expect(await actions(org.id, CUSTOMER_ACTIONS.optedOut)).toHaveLength(1);
    expect(ownerMails()[0]?.parsed.subject).toBe(
      "Bright Bakery Ltd asks not to receive any more reminder emails",
    );
    w.clock.set(THU);
    const report = await w.remind(org);
    expect(report.emails.map((e) => [e.status, e.reason])).toEqual([
      ["skipped", "customer opted out of reminders"],
    ]);
  });

  it("one-click List-Unsubscribe (RFC 8058) opts out with a POST; GET only shows a confirm form", async () => {
    const { org } = await ledger();
    const report = await w.remind(org);
    expect(report.emails[0]?.status).toBe("sent");
    const raw = inbox.messages[0]!.raw.replace(/\r\n[ \t]+/g, " ");
    const url = /^List-Unsubscribe: <https:\/\/creditpulse\.example(\/c\/[\w.-]+\/unsubscribe)>/m.exec(
      raw,
    )?.[1];
    expect(url).toBeDefined();
    const get = await w.app.request(url!);
    expect(get.status).toBe(200);
    expect(await get.text()).toContain("Stop receiving reminder emails from Acme Supplies Ltd?");
    expect(await actions(org.id, CUSTOMER_ACTIONS.optedOut)).toHaveLength(0);

    const res = await post(w.app, url!, { "List-Unsubscribe": "One-Click" });
    expect(res.status).toBe(200);
    await post(w.app, url!, { "List-Unsubscribe": "One-Click" });
    expect(await actions(org.id, CUSTOMER_ACTIONS.optedOut)).toHaveLength(1);
    w.clock.set(THU);
    expect((await w.remind(org)).emails[0]?.reason).toBe("customer opted out of reminders");
  });

  it("records the action and skips the owner email when SMTP is not configured", async () => {
    await w.close();
    w = await world(null, TUE);
    const { org, c } = await ledger();
    const token = await issuePageToken(
      w.store.db,
      SECRET,
      { orgId: org.id, contactId: c.id },
      Date.parse(TUE),
      45,
    );
    const html = await (await w.app.request(`/c/${token}`)).text();
    const res = await post(w.app, `/c/${token}/promise`, {
      csrf: csrfIn(html),
      invoice: invoiceIdIn(html, "INV-2001"),
      pay_by: "2026-03-13",
    });
    expect(res.status).toBe(303);
    expect(await actions(org.id, CUSTOMER_ACTIONS.promised)).toHaveLength(1);
    expect((await actions(org.id, CUSTOMER_ACTIONS.ownerNoticeSkipped))[0]?.detail).toMatchObject({
      reason: "SMTP_URL and MAIL_FROM are not set",
    });
  });
});

describe("errors: validation", () => {
  it("refuses a bad date, a future payment date, a past promise and a bad address, changing nothing", async () => {
    const { org } = await ledger();
    const { path, csrf, invoiceId } = await firstReminder(org);
    const cases: [string, Record<string, string>, string][] = [
      ["paid", { invoice: invoiceId, paid_on: "yesterday" }, "enter a date (YYYY-MM-DD)"],
      ["paid", { invoice: invoiceId, paid_on: "2026-03-11" }, "The payment date cannot be in the future."],
      ["promise", { invoice: invoiceId, pay_by: "2026-03-01" }, "The date to pay by cannot be in the past."],
      ["dispute", { invoice: invoiceId, reason: "<script>" }, "choose a reason"],
      ["address", { email: "a@b.example, c@d.example" }, "enter one email address"],
    ];
    for (const [action, fields, message] of cases) {
      const res = await post(w.app, `${path}/${action}`, { csrf, ...fields });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(message);
    }
    const customerEntries = await w.store.db.select().from(auditLog).where(eq(auditLog.actor, "customer"));
    expect(customerEntries).toEqual([]);
  });
});

describe("security", () => {
  const NOT_FOUND = "This link is not valid";

  async function refused(path: string) {
    const res = await w.app.request(path);
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(body).toContain(NOT_FOUND);
    expect(body).not.toContain("Acme");
    expect(body).not.toContain("Bakery");
    expect(body).not.toContain("INV-");
    return body;
  }

  it("refuses a tampered, expired, revoked or forged token with the same page, revealing nothing", async () => {
    const { org, c } = await ledger();
    const other = await makeCustomer(w.store, org, { name: "Other Customer" });
    const { path } = await firstReminder(org);
    const token = path.slice(3);
    const [payload, expiry, sig] = token.split(".") as [string, string, string];

    const bodies = new Set<string>();
    // Tampered signature, payload swapped for the other customer's (signed for someone else), garbage.
    const flipped = `${sig.slice(0, -2)}${sig.endsWith("A") ? "B" : "A"}${sig.slice(-1)}`;
    bodies.add(await refused(`/c/${payload}.${expiry}.${flipped}`));
    const otherPayload = Buffer.from(JSON.stringify({ o: org.id, c: other.id, n: "x" })).toString(
      "base64url",
    );
    bodies.add(await refused(`/c/${otherPayload}.${expiry}.${sig}`));
    bodies.add(await refused("/c/not-a-token"));
    bodies.add(await refused(`/c/${token}x/statement.pdf`));
    // A token correctly signed under another secret.
    const foreign = await signToken(
      "another-install-secret-0123456789abcdef",
      PAGE_PURPOSE,
      { o: org.id, c: c.id, n: "x" },
      Date.parse(TUE) + DAY,
    );
    bodies.add(await refused(`/c/${foreign}`));
    // Expired: the link lives 45 days.
    w.clock.set(Date.parse(TUE) + 46 * DAY);
    bodies.add(await refused(path));
    bodies.add(await refused(`${path}/statement.pdf`));
    w.clock.set(TUE);
    expect((await w.app.request(path)).status).toBe(200);
    // Revoked: rotating the nonce kills every link sent.
    await rotatePortalNonce(w.store.db, org.id, c.id, Date.parse(TUE));
    bodies.add(await refused(path));
    expect(bodies.size).toBe(1);
  });

  it("refuses a POST with a bad token before looking at the form", async () => {
    await ledger();
    const res = await post(w.app, "/c/forged.token.here/stop", {});
    expect(res.status).toBe(404);
  });

  it("refuses a form without a CSRF token, or with one from another customer's page", async () => {
    const { org } = await ledger();
    const other = await makeCustomer(w.store, org, { emails: ["x@other.example"] });
    const { path, invoiceId } = await firstReminder(org);
    const otherToken = await issuePageToken(
      w.store.db,
      SECRET,
      { orgId: org.id, contactId: other.id },
      Date.parse(TUE),
      45,
    );
    const otherCsrf = csrfIn(await (await w.app.request(`/c/${otherToken}`)).text());

    for (const csrf of [undefined, "", otherCsrf, "x.y.z"]) {
      const res = await post(w.app, `${path}/paid`, {
        ...(csrf === undefined ? {} : { csrf }),
        invoice: invoiceId,
        paid_on: "2026-03-09",
      });
      expect(res.status).toBe(403);
    }
    expect((await post(w.app, `${path}/stop`, {})).status).toBe(403);
    expect(await w.store.db.select().from(auditLog).where(eq(auditLog.actor, "customer"))).toEqual([]);
  });

  it("never acts on another customer's invoice", async () => {
    const { org } = await ledger();
    const other = await makeCustomer(w.store, org);
    const theirs = await makeInvoice(w.store, org, other.externalId, {
      number: "INV-9999",
      dueDate: "2026-03-05",
    });
    const [row] = await w.store.db.select().from(invoices).where(eq(invoices.externalId, theirs.externalId));
    const { path, csrf } = await firstReminder(org);
    const res = await post(w.app, `${path}/dispute`, { csrf, invoice: row!.id, reason: "other" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("That invoice is not open any more.");
    const [after] = await w.store.db.select().from(invoices).where(eq(invoices.id, row!.id));
    expect(after?.disputedAt).toBeNull();
  });

  it("rate-limits actions per customer and per IP address", async () => {
    await w.close();
    w = await world(inbox, TUE, { CUSTOMER_ACTIONS_PER_HOUR: "2" });
    const { org, c } = await ledger();
    const token = await issuePageToken(
      w.store.db,
      SECRET,
      { orgId: org.id, contactId: c.id },
      Date.parse(TUE),
      45,
    );
    const html = await (await w.app.request(`/c/${token}`)).text();
    const csrf = csrfIn(html);
    const id = invoiceIdIn(html, "INV-2001");
    const promise = (env?: unknown) =>
      post(w.app, `/c/${token}/promise`, { csrf, invoice: id, pay_by: "2026-03-13" }, env);
    expect((await promise()).status).toBe(303);
    expect((await promise()).status).toBe(303);
    expect((await promise()).status).toBe(429);
    w.clock.advance(61 * 60_000);
    expect((await promise()).status).toBe(303);

    // Per IP: 3x the per-customer limit across customers.
    const ip = fromIp("203.0.113.7");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const cu = await makeCustomer(w.store, org);
      await makeInvoice(w.store, org, cu.externalId, { number: `INV-IP${i}`, dueDate: "2026-03-05" });
      const t = await issuePageToken(
        w.store.db,
        SECRET,
        { orgId: org.id, contactId: cu.id },
        w.clock.now(),
        45,
      );
      const page = await (await w.app.request(`/c/${t}`)).text();
      for (let k = 0; k < 2; k++) {
        const r = await post(
          w.app,
          `/c/${t}/promise`,
          { csrf: csrfIn(page), invoice: invoiceIdIn(page, `INV-IP${i}`), pay_by: "2026-03-20" },
          ip,
        );
        statuses.push(r.status);
      }
    }
    expect(statuses).toEqual([303, 303, 303, 303, 303, 303, 429, 429]);
  });
});
