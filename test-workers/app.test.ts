/**
 * The Worker serves the product from D1 in workerd: the first owner's setup link, sign-in, the dashboard, an
 * organisation, a customer, the customer's own page and their PDF statement.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { setupLink, signedSetupLink } from "../src/auth/setup";
import { issuePageToken } from "../src/portal/token";
import { contacts } from "../src/store/schema";
import { seedOrg } from "./seed";
import { BASE, Browser, testDeps } from "./support";

describe("the Worker in workerd", () => {
  let deps: Awaited<ReturnType<typeof testDeps>>;
  let org: Awaited<ReturnType<typeof seedOrg>>;
  const owner = new Browser();

  beforeAll(async () => {
    deps = await testDeps();
    org = await seedOrg(deps, "acme");
  });

  it("creates the first owner from the link `creditpulse setup-link` makes, then signs out and back in", async () => {
    // What `npm run setup-link -- --url <deployment>` prints: signed with the secret, no database needed.
    const link = await signedSetupLink(deps.secret, BASE, Date.now());
    expect(link).toMatch(/^http:\/\/creditpulse\.test\/setup\?token=/);
    const form = await owner.page(new URL(link!).pathname + new URL(link!).search);
    expect(form.status).toBe(200);
    const token = new URL(link!).searchParams.get("token")!;
    const created = await owner.post("/setup", {
      token,
      email: "owner@acme.test",
      password: "correct horse battery",
      timezone: "Europe/London",
    });
    expect(created.status).toBe(303);
    // The link is dead once someone exists.
    expect(await setupLink(deps, BASE)).toBeNull();

    const home = await owner.page("/");
    expect(home.status).toBe(200);
    expect(home.html).toContain("Acme Ltd");
    expect((await owner.post("/logout", {})).status).toBe(303);
    expect((await owner.fetch("/")).status).toBe(401); // signed out: the sign-in form, not the dashboard

    await owner.page("/login");
    const signedIn = await owner.post("/login", {
      email: "owner@acme.test",
      password: "correct horse battery",
    });
    expect(signedIn.status).toBe(303);
    expect((await owner.page("/")).status).toBe(200);
  });

  it("serves the organisation and a customer", async () => {
    const orgPage = await owner.page("/orgs/acme");
    expect(orgPage.status).toBe(200);
    expect(orgPage.html).toContain("Customer 1");
    const customer = await owner.page("/orgs/acme/customers/C1");
    expect(customer.status).toBe(200);
    expect(customer.html).toContain("INV-1-0");
  });

  // Needs the templates bundled into the Worker (the in-memory template bundle from issue 12's branch).
  it("serves the reminders page, with the bundled templates", async () => {
    const reminders = await owner.page("/orgs/acme/reminders");
    expect(reminders.status).toBe(200);
    expect(reminders.html).toContain("Customer 1");
  });

  it("serves the customer's page and a PDF statement of their open invoices", async () => {
    const [c2] = await deps.store.db.select().from(contacts).where(eq(contacts.externalId, "C2"));
    const token = await issuePageToken(
      deps.store.db,
      deps.secret,
      { orgId: org.id, contactId: c2!.id },
      Date.now(),
      30,
    );
    const customer = new Browser();
    const page = await customer.page(`/c/${token}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain("INV-2-0");
    const pdf = await customer.fetch(`/c/${token}/statement.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    const bytes = new Uint8Array(await pdf.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe("%PDF-");
    expect(bytes.length).toBeGreaterThan(1000);
  });
});
