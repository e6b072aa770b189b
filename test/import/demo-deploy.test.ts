/**
 * `creditpulse demo --url <deployment>`: a request signed with the install secret, posted to /ops/demo. Here
 * against a real Node server on a local port (Node seeds in-process; the Workers suite covers the queue path).
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { startServer } from "../../src/node";
import { ensureUser, findUserByEmail, orgsOf } from "../../src/store/accounts";
import { listOrgs } from "../../src/store/orgs";
import { scores } from "../../src/store/schema";
import { runCli } from "../support/cli";
import { testStore } from "../support/db";

const SECRET = "deploy-secret-0123456789abcdefghijklmnop";

describe("creditpulse demo --url", () => {
  it("seeds the deployment's demo organisation, scored, and makes the named user its owner", async () => {
    const store = testStore();
    const config = loadConfig({
      CREDITPULSE_DB: ":memory:",
      PORT: "0",
      HOST: "127.0.0.1",
      CREDITPULSE_SCHEDULER: "0",
      CREDITPULSE_DEMO: "0",
      CREDITPULSE_SECRET: SECRET,
    });
    const server = await startServer(config, { store, log: silentLogger });
    try {
      expect(await listOrgs(store.db)).toEqual([]);
      const env = { LOG_LEVEL: "silent", CREDITPULSE_SECRET: SECRET };

      // Signed with another secret: refused, nothing seeded.
      const forged = await runCli(["demo", "--url", server.url, "--customers", "5"], store, undefined, {
        env: { ...env, CREDITPULSE_SECRET: "not-the-deployment-secret-0123456789" },
      });
      expect(forged.code).toBe(1);
      expect(forged.stdout).toMatch(/refused \(401\).*CREDITPULSE_SECRET/);
      expect(await listOrgs(store.db)).toEqual([]);
      // Beyond what one queue message seeds: a usage error naming the bound, before anything is sent.
      const big = await runCli(["demo", "--url", server.url, "--customers", "5000"], store, undefined, {
        env,
      });
      expect(big.code).toBe(2);
      expect(big.stderr).toMatch(/customers must be a whole number from 1 to 300/);

      await ensureUser(store.db, "me@firm.test", Date.now());
      const r = await runCli(
        ["demo", "--url", server.url, "--customers", "12", "--seed", "4", "--owner", "me@firm.test"],
        store,
        undefined,
        { env },
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/Seeded demo organisation demo; me@firm.test is its owner/);
      expect(r.code).toBe(0);
      const [org] = await listOrgs(store.db);
      expect(org).toMatchObject({ slug: "demo", isDemo: true });
      const dates = await store.db
        .selectDistinct({ d: scores.asOf })
        .from(scores)
        .where(eq(scores.orgId, org!.id));
      expect(dates).toHaveLength(2); // as of a week ago and today
      const user = await findUserByEmail(store.db, "me@firm.test");
      expect((await orgsOf(store.db, user!.id)).map((a) => [a.org.slug, a.role])).toEqual([
        ["demo", "owner"],
      ]);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
