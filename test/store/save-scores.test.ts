import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { CustomerScore } from "../../src/monitor/index";
import { ensureOrg } from "../../src/store/orgs";
import { contacts, scores } from "../../src/store/schema";
import { latestScores, saveScores } from "../../src/store/scores";
import { testStore } from "../support/db";

const NOW = 1_700_000_000_000;

function result(i: number, score: number): CustomerScore {
  return {
    customer_id: `C${i}`,
    contact_id: `con_${i}`,
    name: `Customer ${i}`,
    score,
    grade: score >= 80 ? "A" : "C",
    late_probability: score / 1000,
    trend: i % 2 ? "stable" : "deteriorating",
    trend_change_days: i % 2 ? null : 12.5,
    trend_started_on: i % 2 ? null : "2026-10-01",
    trend_onset_on: null,
    reasons: [`reason ${i} at ${score}`],
    outstanding: 0,
    overdue: 0,
    currency: "GBP",
  };
}

describe("storing scores", () => {
  it("stores every customer's score in batches and a re-run of the same day replaces them, keeping one row each", async () => {
    const store = testStore();
    const { org } = await ensureOrg(
      store.db,
      { slug: "s", name: "S", baseCurrency: "GBP", timezone: "Europe/London", provider: "csv" },
      NOW,
    );
    // 23 customers: more than two batches of nine, and a partial last batch.
    for (let i = 0; i < 23; i++) {
      await store.db.insert(contacts).values({
        id: `con_${i}`,
        orgId: org.id,
        externalId: `C${i}`,
        name: `Customer ${i}`,
        emails: [],
        createdAt: NOW,
        updatedAt: NOW,
      });
    }
    const first = Array.from({ length: 23 }, (_, i) => result(i, 50 + i));
    await saveScores(store.db, org.id, "2026-11-30", first, NOW);
    const second = Array.from({ length: 23 }, (_, i) => result(i, 90 - i));
    await saveScores(store.db, org.id, "2026-11-30", second, NOW + 1);

    const rows = await store.db.select().from(scores).where(eq(scores.orgId, org.id));
    expect(rows).toHaveLength(23);
    const latest = await latestScores(store.db, org.id, "2026-11-30");
    for (let i = 0; i < 23; i++) {
      const r = latest.get(`con_${i}`)!;
      expect(r.score).toBe(90 - i);
      expect(r.reasons).toEqual([`reason ${i} at ${90 - i}`]);
      expect(r.trendChangeDays).toBe(i % 2 ? null : 12.5);
      expect(r.computedAt).toBe(NOW + 1);
    }
  });
});
