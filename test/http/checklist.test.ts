/** The first-run checklist on `/`: each item done or not from the install's real state, with its link. */
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { importCsv } from "../../src/import/csv-import";
import { createInvite, ensureUser, grant } from "../../src/store/accounts";
import { findOrgBySlug } from "../../src/store/orgs";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";
import { csv, tempFiles } from "../support/files";

const state = (html: string, key: string) =>
  new RegExp(`data-item="${key}" data-done="(yes|no)"`).exec(html)?.[1];

describe("first-run checklist", () => {
  it("ticks import, sender and team from real state, links each item, and is not shown to a bookkeeper", async () => {
    const deps = await testDeps({ env: { CREDITPULSE_DEMO: "0" } });
    const app = createApp(deps);
    const owner = await signIn(deps, { email: "owner@example.com" });
    const home = async (s = owner) =>
      (await app.request("/", { headers: s.headers({ accept: "text/html" }) })).text();

    let html = await home();
    expect(html).toContain("0 of 5 done");
    for (const k of ["xero", "quickbooks", "import", "sender", "team"]) expect(state(html, k)).toBe("no");
    expect(html).toContain('href="/connect/xero"');
    expect(html).toContain('href="/connect/quickbooks"');
    expect(html).toContain('href="/import"');
    expect(html).toContain('href="/team"');

    const f = tempFiles({
      "invoices.csv": csv(
        "customer_id,invoice_number,issue_date,due_date,total",
        "C1,I1,2026-10-01,2026-10-31,10",
      ),
    });
    await importCsv(deps.store, {
      org: "acme",
      invoices: f["invoices.csv"]!,
      currency: "GBP",
      now: deps.clock.now(),
    });
    const acme = (await findOrgBySlug(deps.store.db, "acme"))!;
    await grant(deps.store.db, owner.userId, acme.id, "owner", deps.clock.now());
    html = await home();
    expect(state(html, "import")).toBe("yes");
    expect(html).toContain('href="/orgs/acme/settings#mail"');
    expect(state(html, "team")).toBe("no");

    await createInvite(
      deps.store.db,
      { email: "bk@example.com", orgId: acme.id, role: "bookkeeper" },
      deps.clock.now(),
    );
    html = await home();
    expect(state(html, "team")).toBe("yes");
    expect(html).toContain("2 of 5 done");

    // Mail configured for the install: the sender is set.
    const mailDeps = await testDeps({
      store: deps.store,
      env: { CREDITPULSE_DEMO: "0", SMTP_URL: "smtp://127.0.0.1:2525", MAIL_FROM: "Acme <ar@acme.example>" },
    });
    const withMail = await (
      await createApp(mailDeps).request("/", { headers: owner.headers({ accept: "text/html" }) })
    ).text();
    expect(state(withMail, "sender")).toBe("yes");

    // A bookkeeper (owner of nothing) sees the organisations without the owner's checklist.
    const { user } = await ensureUser(deps.store.db, "bk@example.com", deps.clock.now());
    await grant(deps.store.db, user.id, acme.id, "bookkeeper", deps.clock.now());
    const bk = await signIn(deps, { email: "bk@example.com", role: "bookkeeper", orgs: ["acme"] });
    expect(await home(bk)).not.toContain('data-testid="checklist"');
  });

  it("ticks “Set the sender” once an organisation's mail settings hold a sender address, and unticks when it is cleared", async () => {
    // No MAIL_FROM: only the organisation's own stored sender can tick it.
    const deps = await testDeps({ env: { CREDITPULSE_DEMO: "0" } });
    const app = createApp(deps);
    const f = tempFiles({
      "invoices.csv": csv(
        "customer_id,invoice_number,issue_date,due_date,total",
        "C1,I1,2026-10-01,2026-10-31,10",
      ),
    });
    await importCsv(deps.store, {
      org: "acme",
      invoices: f["invoices.csv"]!,
      currency: "GBP",
      now: deps.clock.now(),
    });
    const owner = await signIn(deps, { email: "owner@example.com" });
    const home = async () =>
      (await app.request("/", { headers: owner.headers({ accept: "text/html" }) })).text();
    const saveMail = (fields: Record<string, string>) =>
      app.request("/orgs/acme/settings/mail", {
        method: "POST",
        headers: owner.headers({ "content-type": "application/x-www-form-urlencoded", accept: "text/html" }),
        body: new URLSearchParams({
          sender_name: "",
          sender_email: "",
          reply_to: "",
          notice_emails: "",
          bcc_emails: "",
          min_amount: "",
          ...fields,
        }).toString(),
      });

    let html = await home();
    expect(state(html, "sender")).toBe("no");
    expect(html).toContain('href="/orgs/acme/settings#mail"');

    // A name alone is not a sender; a refused address stores nothing.
    expect((await saveMail({ sender_name: "Acme accounts" })).status).toBe(303);
    expect(state(await home(), "sender")).toBe("no");
    expect((await saveMail({ sender_name: "Acme accounts", sender_email: "billing(at)acme" })).status).toBe(
      422,
    );
    expect(state(await home(), "sender")).toBe("no");

    // Name and address saved through the settings form: ticked.
    expect(
      (await saveMail({ sender_name: "Acme accounts", sender_email: "billing@acme.example" })).status,
    ).toBe(303);
    html = await home();
    expect(state(html, "sender")).toBe("yes");
    expect(html).toContain("2 of 5 done"); // import + sender
    expect(html).toContain("A sender address is saved in the mail settings");

    // Cleared again: not ticked (MAIL_FROM is unset).
    expect((await saveMail({ sender_name: "Acme accounts" })).status).toBe(303);
    expect(state(await home(), "sender")).toBe("no");

    // MAIL_FROM without a mail transport does not count as set either.
    const fromOnly = await testDeps({
      store: deps.store,
      env: { CREDITPULSE_DEMO: "0", MAIL_FROM: "Acme <ar@acme.example>" },
    });
    const page = await (
      await createApp(fromOnly).request("/", { headers: owner.headers({ accept: "text/html" }) })
    ).text();
    expect(state(page, "sender")).toBe("no");
  });
});
