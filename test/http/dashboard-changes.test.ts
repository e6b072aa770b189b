/**
 * A member's change on the dashboard and its audit row land together or not at all: when the audit row cannot
 * be written, the change is not kept either (and the member sees an error, not a confirmation).
 */
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";
import { importInvoices } from "../support/files";

let deps: Deps;
beforeEach(async () => {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
  await importInvoices(
    deps,
    "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total",
    "C1,Acme Ltd,ap@acme.example,INV-1,2026-09-01,2026-10-01,GBP,1000.00",
  );
});
afterEach(async () => {
  await deps.store.close();
});

const form = (s: TestSession, fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  return {
    method: "POST",
    headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
    body: body.toString(),
  };
};

/** Everything a dashboard change can write, as one comparable snapshot. */
async function state() {
  const q = (text: string) => deps.store.db.all(sql.raw(text));
  return {
    contacts: await q(
      "select chasing_paused_until, opted_out, excluded, credit_limit_minor, policy_id from contacts order by id",
    ),
    portal: await q("select contact_id, reminder_email from customer_portal order by contact_id"),
    settings: await q("select window_start, window_end, window_days, hold_mode from reminder_settings"),
    timezone: await q("select timezone from organisations"),
    policies: await q("select name, levels from reminder_policies order by name"),
    templates: await q("select name, part, body from reminder_templates order by name, part"),
    audit: await q("select action from audit_log where actor like 'user:%' order by at, action"),
  };
}

describe("dashboard changes and their audit rows", () => {
  it("keeps no change whose audit row could not be written, and keeps both when it can", async () => {
    const s = await signIn(deps, { email: "bk@example.com", role: "bookkeeper" });
    const app = createApp(deps);
    // A page visit stores the built-in policies, as a member's first visit does.
    expect((await app.request("/orgs/acme/settings", { headers: s.headers() })).status).toBe(200);
    const changes: [string, Record<string, string | string[]>][] = [
      ["/orgs/acme/customers/C1/chasing", { action: "pause", until: "2026-12-01" }],
      ["/orgs/acme/customers/C1/opt-out", { opted_out: "1" }],
      ["/orgs/acme/customers/C1/exclude", { excluded: "1" }],
      ["/orgs/acme/customers/C1/credit-limit", { limit: "5000" }],
      ["/orgs/acme/customers/C1/reminder-address", { email: "payables@acme.example" }],
      [
        "/orgs/acme/settings/window",
        { start: "08:00", end: "16:00", days: ["1", "2"], timezone: "Europe/Paris" },
      ],
      [
        "/orgs/acme/settings/policies",
        { name: "gentle", levels: '[{"offsetDays":3,"template":"courtesy","name":"Nudge"}]' },
      ],
      [
        "/orgs/acme/settings/templates",
        { name: "overdue", part: "subject", body: "Overdue: {{ customer.name }}" },
      ],
      ["/orgs/acme/holds/mode", { mode: "automatic" }],
    ];
    const before = await state();
    await deps.store.db.run(
      sql`create trigger audit_down before insert on audit_log begin select raise(abort, 'audit log unavailable'); end`,
    );
    for (const [path, fields] of changes) {
      const res = await app.request(path, form(s, fields));
      expect(res.status, path).toBe(500);
    }
    expect(await state()).toEqual(before);

    await deps.store.db.run(sql`drop trigger audit_down`);
    for (const [path, fields] of changes) {
      const res = await app.request(path, form(s, fields));
      expect(res.status, path).toBe(303);
    }
    const after = await state();
    expect(after.contacts).toEqual([
      {
        chasing_paused_until: "2026-12-01",
        opted_out: 1,
        excluded: 1,
        credit_limit_minor: 500_000,
        policy_id: null,
      },
    ]);
    expect(after.portal).toEqual([
      { contact_id: expect.any(String), reminder_email: "payables@acme.example" },
    ]);
    expect(after.settings).toEqual([
      { window_start: "08:00", window_end: "16:00", window_days: "[1,2]", hold_mode: "automatic" },
    ]);
    expect(after.timezone).toEqual([{ timezone: "Europe/Paris" }]);
    expect(after.policies.map((p) => (p as { name: string }).name)).toContain("gentle");
    expect(after.templates).toEqual([
      { name: "overdue", part: "subject", body: "Overdue: {{ customer.name }}" },
    ]);
    expect(after.audit.map((a) => (a as { action: string }).action).sort()).toEqual(
      [
        "customer.chasing_paused",
        "customer.opted_out",
        "customer.excluded",
        "customer.credit_limit",
        "customer.reminder_address_changed",
        "settings.window",
        "settings.policy",
        "settings.template",
        "settings.hold_mode",
      ].sort(),
    );
  });
});
