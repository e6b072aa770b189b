/**
 * The demo organisation on a deployment: `creditpulse demo --url` posts a request signed with the install
 * secret to /ops/demo; the Worker queues a `demo` message and its queue consumer (miniflare's Queues
 * delivering to this Worker) seeds, scores and warms it on D1; the owner then sees it served.
 */
import { count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { signedSetupLink } from "../src/auth/setup";
import { signDemoRequest } from "../src/import/demo-deploy";
import { findOrgBySlug } from "../src/store/orgs";
import { contacts, scores } from "../src/store/schema";
import { BASE, Browser, drain, testDeps } from "./support";
import { self } from "./worker";

const post = (token: string) =>
  self.fetch(`${BASE}/ops/demo`, { method: "POST", headers: { authorization: `Bearer ${token}` } });

async function seeded(deps: Awaited<ReturnType<typeof testDeps>>, slug: string, customers: number) {
  await vi.waitFor(
    async () => {
      const org = await findOrgBySlug(deps.store.db, slug);
      expect(org?.isDemo).toBe(true);
      const [n] = await deps.store.db
        .select({ n: count() })
        .from(contacts)
        .where(eq(contacts.orgId, org!.id));
      expect(n!.n).toBe(customers);
      // Scored as of a week ago and today: trends from the first page view.
      const dates = await deps.store.db
        .selectDistinct({ d: scores.asOf })
        .from(scores)
        .where(eq(scores.orgId, org!.id));
      expect(dates.length).toBe(2);
    },
    { timeout: 30_000, interval: 250 },
  );
}

describe("seeding the demo organisation into a deployment's D1", () => {
  let deps: Awaited<ReturnType<typeof testDeps>>;
  const owner = new Browser();

  beforeAll(async () => {
    deps = await testDeps();
  });

  it("refuses a request not signed with the deployment's secret, or expired, and seeds nothing", async () => {
    const forged = await signDemoRequest(
      "another-secret-0123456789abcdef0123",
      { slug: "demo", customers: 5, seed: "1" },
      Date.now(),
    );
    const res = await post(forged);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const expired = await signDemoRequest(
      deps.secret,
      { slug: "demo", customers: 5, seed: "1" },
      Date.now() - 11 * 60_000,
    );
    expect((await post(expired)).status).toBe(401);
    expect((await self.fetch(`${BASE}/ops/demo`, { method: "POST" })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(await findOrgBySlug(deps.store.db, "demo")).toBeUndefined();
  });

  it("queues the seed, and the consumer seeds and scores it; the first owner is then served it", async () => {
    const token = await signDemoRequest(deps.secret, { slug: "demo", customers: 25, seed: "7" }, Date.now());
    const res = await post(token);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ queued: true, organisation: "demo", customers: 25 });
    await seeded(deps, "demo", 25);

    const link = new URL(await signedSetupLink(deps.secret, BASE, Date.now()));
    await owner.page(link.pathname + link.search);
    const created = await owner.post("/setup", {
      token: link.searchParams.get("token")!,
      email: "owner@firm.test",
      password: "correct horse battery",
      timezone: "Europe/London",
    });
    expect(created.status).toBe(303);
    const org = (await findOrgBySlug(deps.store.db, "demo"))!;
    const home = await owner.page("/");
    expect(home.html).toContain(org.name);
    const page = await owner.page("/orgs/demo");
    expect(page.status).toBe(200);
    const [first] = await deps.store.db.select().from(contacts).where(eq(contacts.orgId, org.id)).limit(1);
    const customer = await owner.page(`/orgs/demo/customers/${encodeURIComponent(first!.externalId)}`);
    expect(customer.status).toBe(200);
    expect(customer.html).toContain(first!.name);
  });

  it("seeds a second demo for an existing owner named in the request, and a repeat converges", async () => {
    const token = await signDemoRequest(
      deps.secret,
      { slug: "demo-two", customers: 10, seed: "2", owner: "OWNER@firm.test" },
      Date.now(),
    );
    expect((await post(token)).status).toBe(202);
    await seeded(deps, "demo-two", 10);
    await vi.waitFor(async () => expect((await owner.page("/orgs/demo-two")).status).toBe(200), {
      timeout: 10_000,
    });
    // The same message again (a redelivery), handled to the end: the same organisation, no second copy.
    await drain([{ job: "demo", at: Date.now(), slug: "demo-two", customers: 10, seed: "2" }]);
    await seeded(deps, "demo-two", 10);
  });
});
