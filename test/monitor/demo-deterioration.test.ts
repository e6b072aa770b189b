/**
 * The demo ledger's known truth, checked through the scoring job without the CLI (test/scoring.test.ts checks
 * the same through the CLI): deteriorating customers are flagged, reliable and early payers are not.
 */
import { describe, expect, it } from "vitest";
import { generateDemoLedger } from "../../src/demo/generate";
import { seedDemo } from "../../src/import/demo";
import { runScoring } from "../../src/scoring/run-scoring";
import { findOrgBySlug } from "../../src/store/orgs";
import { testStore } from "../support/db";

describe("monitor on the demo ledger", () => {
  it("flags the deteriorating demo customers and not the reliable ones", async () => {
    const store = testStore();
    const now = Date.parse("2026-11-20T10:00:00Z");
    await seedDemo(store, { customers: 60, seed: 5, now });
    const org = (await findOrgBySlug(store.db, "demo"))!;
    const truth = generateDemoLedger({ customers: 60, seed: 5, asOf: "2026-11-20" }).truth;
    const r = await runScoring(store, org, { now });
    const trendOf = new Map(r.results.map((s) => [s.customer_id, s.trend]));
    const deteriorating = truth.filter((t) => t.profile === "deteriorating");
    const reliable = truth.filter((t) => t.profile === "reliable" || t.profile === "early");
    const caught = deteriorating.filter((t) => trendOf.get(t.contactExternalId) === "deteriorating").length;
    const falseAlarms = reliable.filter((t) => trendOf.get(t.contactExternalId) === "deteriorating").length;
    expect(caught / deteriorating.length).toBeGreaterThanOrEqual(0.8);
    expect(falseAlarms / reliable.length).toBeLessThanOrEqual(0.1);
  });
});
