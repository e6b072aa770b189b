/**
 * The charges settings section and the charges page: a bad value re-renders the form with 422, the message
 * beside its field and the input kept, and nothing is saved; a good one is saved and shown back; an SMS
 * template over 320 characters is refused; proposed charges have approve / reject buttons for bookkeepers and
 * owners only, and a CSV organisation's page says approved charges are recorded without being written.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { proposeDueCharges } from "../../src/reminders/charge-worker";
import { listCharges, loadChargeSettings, saveChargeSettings } from "../../src/store/charges";
import { makeCustomer, makeInvoice, makeOrg } from "../reminders/factories";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";

async function setup() {
  const deps = await testDeps({ now: "2026-03-20T10:00:00Z" });
  const org = await makeOrg(deps.store, { slug: "acme" });
  const app = createApp(deps);
  const owner = await signIn(deps);
  const viewer = await signIn(deps, { email: "viewer@example.com", role: "viewer" });
  const post = (path: string, form: Record<string, string>) =>
    app.request(path, {
      method: "POST",
      headers: owner.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: new URLSearchParams(form).toString(),
    });
  return { deps, org, app, owner, viewer, post };
}

const FORM = {
  rule_kind: "uk-statutory",
  fees: "",
  fee_currency: "GBP",
  rate_pct: "",
  grace_days: "0",
  base_rate_pct: "4.75",
  ledger_status: "DRAFT",
  ledger_account: "",
  sms_template: "",
};

describe("charges settings", () => {
  it("is off by default, saves a valid rule, and re-shows a bad one with its message beside the field", async () => {
    const { deps, org, app, owner, post } = await setup();
    const page = await (await app.request("/orgs/acme/settings", { headers: owner.headers() })).text();
    expect(page).toContain("Late-payment charges and SMS");
    expect(page).toMatch(/<option value="off" selected/);

    const ok = await post("/orgs/acme/settings/charges", FORM);
    expect(ok.status).toBe(303);
    expect((await loadChargeSettings(deps.store.db, org.id)).rule).toEqual({
      kind: "uk-statutory",
      baseRateBp: 475,
    });

    const bad = await post("/orgs/acme/settings/charges", {
      ...FORM,
      rule_kind: "percent",
      rate_pct: "eight",
      grace_days: "14",
    });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('aria-describedby="charges-rate_pct-error"');
    expect(html).toMatch(/id="charges-rate_pct-error">Give the yearly rate as a percentage/);
    expect(html).toContain('value="eight"');
    expect(html).toContain('value="14"');
    // Nothing was saved.
    expect((await loadChargeSettings(deps.store.db, org.id)).rule).toEqual({
      kind: "uk-statutory",
      baseRateBp: 475,
    });
  });

  it("refuses an SMS template that fills in to more than 320 characters", async () => {
    const { deps, org, post } = await setup();
    const long = `{{ org.name }} ${"y".repeat(330)}`;
    const res = await post("/orgs/acme/settings/charges", { ...FORM, sms_template: long });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(
      /id="charges-sms_template-error">Not saved: the SMS is \d+ characters; the limit is 320/,
    );
    expect(html).toContain("y".repeat(330));
    expect((await loadChargeSettings(deps.store.db, org.id)).smsTemplate).toBeNull();
  });
});

describe("the charges page", () => {
  it("lists proposals with approve/reject for owners only, and records an approved CSV charge without writing", async () => {
    const { deps, org, app, owner, viewer, post } = await setup();
    await saveChargeSettings(deps.store, org.id, { rule: { kind: "uk-statutory", baseRateBp: 400 } }, "t", 0);
    const c = await makeCustomer(deps.store, org);
    await makeInvoice(deps.store, org, c.externalId, { issueDate: "2026-01-01", dueDate: "2026-02-01" });
    const proposed = await proposeDueCharges({ store: deps.store, log: deps.log }, org, "2026-03-20", 0);
    expect(proposed.map((p) => p.kind).sort()).toEqual(["compensation", "interest"]);

    const asOwner = await (await app.request("/orgs/acme/charges", { headers: owner.headers() })).text();
    expect(asOwner).toContain("recorded in Creditpulse only");
    expect(asOwner.match(/>Approve</g)).toHaveLength(2);
    const asViewer = await (await app.request("/orgs/acme/charges", { headers: viewer.headers() })).text();
    expect(asViewer).not.toContain(">Approve<");
    expect(asViewer).toContain("waiting for approval");
    const forbidden = await app.request("/orgs/acme/charges/approve", {
      method: "POST",
      headers: viewer.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: `charge=${proposed[0]!.id}`,
    });
    expect(forbidden.status).toBe(403);

    const comp = proposed.find((p) => p.kind === "compensation")!;
    const res = await post("/orgs/acme/charges/approve", { charge: comp.id });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orgs/acme/charges?done=recorded");
    const again = await post("/orgs/acme/charges/approve", { charge: comp.id });
    expect(again.status).toBe(409);
    const rejected = await post("/orgs/acme/charges/reject", {
      charge: proposed.find((p) => p.kind === "interest")!.id,
    });
    expect(rejected.headers.get("location")).toBe("/orgs/acme/charges?done=rejected");
    expect((await listCharges(deps.store.db, org.id)).map((x) => [x.kind, x.status]).sort()).toEqual([
      ["compensation", "recorded"],
      ["interest", "rejected"],
    ]);
    const json = await (await app.request("/api/orgs/acme/charges", { headers: owner.headers() })).json();
    expect(json.decided.map((d: { amount_formatted: string }) => d.amount_formatted)).toContain("£40.00");
  });
});
