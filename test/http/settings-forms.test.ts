/**
 * Every settings form (and the customer and holds forms) answers a bad value with the same page, a 4xx, the
 * message beside the field (aria-describedby) and what the member typed kept; a good value is saved. Viewers
 * cannot post. The policy table's add / remove / reorder buttons work without JavaScript. JSON only under /api/.
 */
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";
import { importInvoices } from "../support/files";

let deps: Deps;
let app: ReturnType<typeof createApp>;
let bk: TestSession;

beforeEach(async () => {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
  await importInvoices(
    deps,
    "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total",
    "C1,Acme Ltd,ap@acme.example,INV-1,2026-09-01,2026-10-01,GBP,1000.00",
  );
  app = createApp(deps);
  bk = await signIn(deps, { email: "bk@example.com", role: "bookkeeper" });
  expect((await app.request("/orgs/acme/settings", { headers: bk.headers() })).status).toBe(200);
});
afterEach(async () => {
  await deps.store.close();
});

const post = (s: TestSession, path: string, fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  return app.request(path, {
    method: "POST",
    headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
    body: body.toString(),
  });
};

/** The input with `id` (its tag's text). */
const inputTag = (html: string, id: string) =>
  new RegExp(`<(input|select)[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0] ?? "";
/** The message the field `id` points at with aria-describedby. */
function messageFor(html: string, id: string): string {
  const tag = inputTag(html, id);
  const described = /aria-describedby="([^"]+)"/.exec(tag)?.[1];
  if (!described) return "";
  return decode(new RegExp(`id="${described}"[^>]*>([^<]*)<`).exec(html)?.[1] ?? "");
}
const decode = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
const fieldValue = (html: string, id: string) => /value="([^"]*)"/.exec(inputTag(html, id))?.[1];
const q = (text: string) => deps.store.db.all<Record<string, unknown>>(sql.raw(text));

async function expectHtmlError(res: Response, status = 422) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("text/html");
  const html = await res.text();
  expect(html).not.toContain('{"error"');
  return html;
}

const defaultRows = {
  name: "default",
  offset: ["-3", "1", "7", "14", "30", "45"],
  template: ["courtesy", "overdue", "firm", "firmer", "final", "credit-hold"],
  label: [
    "Courtesy reminder",
    "Overdue",
    "Second reminder",
    "Third reminder",
    "Final notice",
    "Account on hold",
  ],
  hold: ["5"],
};

describe("settings forms", () => {
  it("sending window: a bad timezone and a reversed window come back with their messages and the input kept", async () => {
    const html = await expectHtmlError(
      await post(bk, "/orgs/acme/settings/window", {
        start: "17:00",
        end: "09:00",
        days: ["2", "4"],
        timezone: "Mars/Olympus",
      }),
    );
    expect(messageFor(html, "timezone")).toContain("“Mars/Olympus” is not a timezone");
    expect(messageFor(html, "end")).toContain("must end after it starts");
    expect(fieldValue(html, "timezone")).toBe("Mars/Olympus");
    expect(fieldValue(html, "start")).toBe("17:00");
    expect(html).toMatch(/name="days" value="2" checked/);
    expect(html).not.toMatch(/name="days" value="1" checked/);
    expect(await q("select window_start from reminder_settings")).toEqual([]);

    const ok = await post(bk, "/orgs/acme/settings/window", {
      start: "08:30",
      end: "16:00",
      days: ["1", "3"],
      timezone: "Europe/Paris",
    });
    expect(ok.status).toBe(303);
    expect(await q("select window_start, window_days from reminder_settings")).toEqual([
      { window_start: "08:30", window_days: "[1,3]" },
    ]);
  });

  it("policy table: a template that is not the organisation's (“curtesy”) and an out-of-order offset are refused beside their cells", async () => {
    const before = await q("select levels from reminder_policies where name = 'default'");
    const html = await expectHtmlError(
      await post(bk, "/orgs/acme/settings/policies", {
        ...defaultRows,
        template: ["curtesy", ...defaultRows.template.slice(1)],
        offset: ["-3", "1", "7", "5", "30", "45"],
        action: "save",
      }),
    );
    expect(messageFor(html, "policy-0-template-0")).toContain(
      "“curtesy” is not one of this organisation's templates",
    );
    expect(messageFor(html, "policy-0-offset-3")).toContain("Must be later than level 3 (7 days)");
    // Kept: the typed offset and the unknown template (offered as "not a template", so it cannot be lost silently).
    expect(fieldValue(html, "policy-0-offset-3")).toBe("5");
    expect(html).toMatch(/<option value="curtesy" selected="">curtesy \(not a template\)<\/option>/);
    expect(await q("select levels from reminder_policies where name = 'default'")).toEqual(before);
  });

  it("policy table: add, remove and move levels without JavaScript, then save; the page previews the schedule", async () => {
    // Add: a new last row a week after the last; nothing saved yet.
    let res = await post(bk, "/orgs/acme/settings/policies", { ...defaultRows, action: "add" });
    expect(res.status).toBe(200);
    let html = await res.text();
    expect(html).toContain("Changed, not saved yet");
    expect(fieldValue(html, "policy-0-offset-6")).toBe("52");
    // The new level sends the final notice (the last level's template announces a hold it does not place).
    expect(html).toMatch(
      /id="policy-0-template-6"[^>]*>(<option[^>]*>[^<]*<\/option>)*?<option value="final" selected=""/,
    );
    // Remove level 1 (the courtesy note), move the (new) level 3 up.
    res = await post(bk, "/orgs/acme/settings/policies", { ...defaultRows, action: "remove:0" });
    html = await res.text();
    expect(fieldValue(html, "policy-0-offset-0")).toBe("1");
    expect(html).toContain('value="4" checked'); // the hold flag moved with its row
    res = await post(bk, "/orgs/acme/settings/policies", {
      ...defaultRows,
      offset: ["1", "14", "7"],
      template: ["overdue", "firmer", "firm"],
      label: ["Overdue", "Third", "Second"],
      hold: [],
      action: "down:1",
    });
    html = await res.text();
    expect([0, 1, 2].map((i) => fieldValue(html, `policy-0-offset-${i}`))).toEqual(["1", "7", "14"]);
    expect(await q("select count(*) as n from audit_log where action = 'settings.policy'")).toEqual([
      { n: 0 },
    ]);

    // Save: stored, and the preview lists when each level goes for an invoice due today (Fri 20 Nov 2026).
    res = await post(bk, "/orgs/acme/settings/policies", {
      name: "default",
      offset: ["1", "7", "15"],
      template: ["overdue", "firm", "final"],
      label: ["Overdue", "Second", "Final"],
      hold: ["2"],
    });
    expect(res.status).toBe(303);
    const [row] = await q("select levels from reminder_policies where name = 'default'");
    expect(JSON.parse(String(row!.levels))).toEqual([
      { offsetDays: 1, template: "overdue", name: "Overdue", placeHold: false },
      { offsetDays: 7, template: "firm", name: "Second", placeHold: false },
      { offsetDays: 15, template: "final", name: "Final", placeHold: true },
    ]);
    html = await (await app.request("/orgs/acme/settings", { headers: bk.headers() })).text();
    expect(html).toContain("Schedule for an invoice due Fri, 20 Nov 2026");
    // +1 is Saturday 21 Nov: not a sending day, so Monday 23 Nov; +7 is Friday 27 Nov; +15 Saturday 5 Dec -> Mon 7 Dec.
    expect(html).toMatch(
      /datetime="2026-11-23">Mon, 23 Nov 2026<\/time><span class="muted"> \(Sat, 21 Nov 2026 is not a sending day\)/,
    );
    expect(html).toContain('datetime="2026-11-27"');
    expect(html).toMatch(
      /datetime="2026-12-07">Mon, 7 Dec 2026<\/time><span class="muted"> \(Sat, 5 Dec 2026 is not a sending day\)<\/span><strong> · credit hold/,
    );
  });

  it("new policy: a taken name is refused beside the name; a new one is created", async () => {
    const html = await expectHtmlError(
      await post(bk, "/orgs/acme/settings/policies", {
        new: "1",
        name: "firm",
        offset: "3",
        template: "overdue",
        label: "Nudge",
      }),
    );
    expect(messageFor(html, "policy-new-name")).toContain("There is already a policy called “firm”");
    expect(fieldValue(html, "policy-new-name")).toBe("firm");
    const ok = await post(bk, "/orgs/acme/settings/policies", {
      new: "1",
      name: "gentle",
      offset: "3",
      template: "overdue",
      label: "Nudge",
    });
    expect(ok.status).toBe(303);
    expect((await q("select name from reminder_policies order by name")).map((r) => r.name)).toEqual([
      "gentle",
    ]);
    const page = await (await app.request("/orgs/acme/settings", { headers: bk.headers() })).text();
    for (const name of ["default", "firm", "gentle"]) expect(page).toContain(`<h3>${name}</h3>`);
  });

  it("a level's SMS flag is set from the table, kept through an edit, and saved with the level", async () => {
    const rows = {
      name: "default",
      offset: ["1", "7", "15"],
      template: ["overdue", "firm", "final"],
      label: ["Overdue", "Second", "Final"],
      hold: ["2"],
      sms: ["1"],
    };
    // An edit (move the last level up is refused by order; add a level) keeps the flag on its row.
    let res = await post(bk, "/orgs/acme/settings/policies", { ...rows, action: "add" });
    const html = await res.text();
    expect(html).toContain('name="sms" value="1" checked');
    expect(html).not.toContain('name="sms" value="0" checked');
    res = await post(bk, "/orgs/acme/settings/policies", rows);
    expect(res.status).toBe(303);
    const [row] = await q("select levels from reminder_policies where name = 'default'");
    expect(JSON.parse(String(row!.levels)).map((l: { sms?: boolean }) => l.sms === true)).toEqual([
      false,
      true,
      false,
    ]);
    // Saving the table again without touching the flag keeps it (the page shows it checked).
    const page = await (await app.request("/orgs/acme/settings", { headers: bk.headers() })).text();
    expect(page).toContain('name="sms" value="1" checked');
  });

  it("the JSON API for scripts saves policies and names bad fields", async () => {
    const call = (body: unknown) =>
      app.request("/api/orgs/acme/settings/policies", {
        method: "POST",
        headers: bk.headers({ "content-type": "application/json" }),
        body: JSON.stringify(body),
      });
    const bad = await call({
      name: "default",
      levels: [{ offsetDays: 2, template: "curtesy", name: "Nudge" }],
    });
    expect(bad.status).toBe(422);
    const err = (await bad.json()) as { error: { fields: Record<string, string> } };
    expect(err.error.fields["levels.0.template"]).toContain("curtesy");
    const good = await call({
      name: "default",
      levels: [{ offsetDays: 2, template: "overdue", name: "Nudge" }],
    });
    expect(good.status).toBe(200);
    const api = (await (await app.request("/api/orgs/acme/settings", { headers: bk.headers() })).json()) as {
      policies: { name: string; levels: { offset_days: number }[] }[];
    };
    expect(api.policies.find((p) => p.name === "default")!.levels.map((l) => l.offset_days)).toEqual([2]);
  });

  it("mail settings: bad addresses and a nonsense minimum amount come back beside their fields; “10,000” is saved in minor units", async () => {
    const typed = {
      sender_name: "Acme accounts",
      sender_email: "billing(at)acme",
      reply_to: "replies@acme.example",
      notice_emails: "owner@acme.example, not-an-address",
      bcc_emails: "",
      min_amount: "ten",
    };
    const html = await expectHtmlError(await post(bk, "/orgs/acme/settings/mail", typed));
    expect(messageFor(html, "mail-sender_email")).toContain("“billing(at)acme” is not an email address");
    expect(messageFor(html, "mail-notice_emails")).toContain("“not-an-address”");
    expect(messageFor(html, "mail-min_amount")).toContain(
      "“ten” is not an amount: enter it in GBP, such as 10,000 or 10000.50",
    );
    expect(fieldValue(html, "mail-min_amount")).toBe("ten");
    expect(fieldValue(html, "mail-sender_name")).toBe("Acme accounts");
    expect(fieldValue(html, "mail-notice_emails")).toBe("owner@acme.example, not-an-address");
    expect(html).toContain('id="mail"');

    const ok = await post(bk, "/orgs/acme/settings/mail", {
      ...typed,
      sender_email: "billing@acme.example",
      notice_emails: "owner@acme.example; cfo@acme.example",
      bcc_emails: "archive@acme.example",
      min_amount: "10,000",
    });
    expect(ok.status).toBe(303);
    expect(
      await q(
        "select sender_name, sender_email, reply_to, notice_emails, bcc_emails, min_amount_minor, min_amount_currency from reminder_settings",
      ),
    ).toEqual([
      {
        sender_name: "Acme accounts",
        sender_email: "billing@acme.example",
        reply_to: "replies@acme.example",
        notice_emails: '["owner@acme.example","cfo@acme.example"]',
        bcc_emails: '["archive@acme.example"]',
        min_amount_minor: 1_000_000,
        min_amount_currency: "GBP",
      },
    ]);
    const page = await (await app.request("/orgs/acme/settings", { headers: bk.headers() })).text();
    expect(fieldValue(page, "mail-min_amount")).toBe("10000.00");
    await post(bk, "/orgs/acme/settings/mail", {
      ...typed,
      sender_email: "",
      notice_emails: "",
      min_amount: "10000.50",
    });
    expect(await q("select min_amount_minor from reminder_settings")).toEqual([
      { min_amount_minor: 1_000_050 },
    ]);
  });

  it("template editor: a template that does not render keeps the text and says why", async () => {
    const html = await expectHtmlError(
      await post(bk, "/orgs/acme/settings/templates", {
        name: "overdue",
        part: "subject",
        body: "Hi {{ customer.name",
      }),
    );
    expect(html).toMatch(/aria-describedby="body-error"/);
    expect(html).toContain("Not saved: this template does not render.");
    expect(html).toContain("Hi {{ customer.name</textarea>");
  });

  it("credit limit: “10,000” is accepted in the currency's decimals, “ten” comes back with a message and kept", async () => {
    const html = await expectHtmlError(
      await post(bk, "/orgs/acme/customers/C1/credit-limit", { limit: "ten" }),
    );
    expect(messageFor(html, "limit")).toContain("“ten” is not an amount: enter the credit limit in GBP");
    expect(fieldValue(html, "limit")).toBe("ten");
    expect((await post(bk, "/orgs/acme/customers/C1/credit-limit", { limit: "10,000" })).status).toBe(303);
    expect(await q("select credit_limit_minor from contacts")).toEqual([{ credit_limit_minor: 1_000_000 }]);
    expect((await post(bk, "/orgs/acme/customers/C1/credit-limit", { limit: "1,00" })).status).toBe(422);
    // The API answers JSON with the field named.
    const api = await app.request("/api/orgs/acme/customers/C1/credit-limit", {
      method: "POST",
      headers: bk.headers({ "content-type": "application/json" }),
      body: JSON.stringify({ limit: "ten" }),
    });
    expect(api.status).toBe(422);
    expect(
      ((await api.json()) as { error: { fields: Record<string, string> } }).error.fields.limit,
    ).toContain("ten");
  });

  it("customer changes and the holds mode re-render their page with the message beside the field", async () => {
    let html = await expectHtmlError(
      await post(bk, "/orgs/acme/customers/C1/reminder-address", { email: "ap at acme" }),
    );
    expect(messageFor(html, "reminder_email")).toContain("“ap at acme” is not an email address");
    expect(fieldValue(html, "reminder_email")).toBe("ap at acme");
    html = await expectHtmlError(
      await post(bk, "/orgs/acme/customers/C1/chasing", { action: "pause", until: "soon" }),
    );
    expect(messageFor(html, "until")).toContain("Pick the date");
    html = await expectHtmlError(await post(bk, "/orgs/acme/holds/mode", { mode: "sometimes" }));
    expect(messageFor(html, "hold-mode-select")).toContain('must be "approve" or "automatic"');
    expect(html).toMatch(/<option value="sometimes" selected="">sometimes \(not a mode\)/);
  });

  it("viewers see no forms and cannot post any of them (403 page)", async () => {
    const viewer = await signIn(deps, { email: "viewer@example.com", role: "viewer" });
    const page = await (await app.request("/orgs/acme/settings", { headers: viewer.headers() })).text();
    expect(page).not.toContain("Save policy");
    expect(page).not.toContain("Save mail settings");
    const before = await q("select * from reminder_settings");
    for (const [path, fields] of [
      ["/orgs/acme/settings/window", { start: "08:00", end: "16:00", days: "1", timezone: "UTC" }],
      ["/orgs/acme/settings/policies", { ...defaultRows }],
      ["/orgs/acme/settings/mail", { sender_email: "x@acme.example" }],
      ["/orgs/acme/settings/mail/test", {}],
      ["/orgs/acme/customers/C1/credit-limit", { limit: "5" }],
    ] as const) {
      const html = await expectHtmlError(await post(viewer, path, fields), 403);
      expect(html, path).toContain("Your role here (viewer) cannot change this.");
    }
    expect(await q("select * from reminder_settings")).toEqual(before);
  });

  it("Send now and the test email without mail settings answer a page saying what to set, not JSON", async () => {
    const res = await post(bk, "/orgs/acme/reminders/send-now", { confirm: "1" });
    const html = await expectHtmlError(res, 409);
    expect(html).toContain("Reminders cannot be sent yet");
    expect(html).toContain("SMTP_URL");
    expect(html).toContain("Sender address");
    expect(html).toContain('href="/orgs/acme/settings#mail"');
    const test = await expectHtmlError(await post(bk, "/orgs/acme/settings/mail/test", {}), 409);
    expect(test).toContain("Mail is not set up yet.");
    expect(test).toMatch(/data-testid="mail-missing"/);
    // The API keeps answering JSON.
    const api = await app.request("/api/orgs/acme/reminders/send-now", {
      method: "POST",
      headers: bk.headers(),
    });
    expect(api.status).toBe(409);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("not_configured");
  });
});
