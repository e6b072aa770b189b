import { describe, expect, it } from "vitest";
import { createRandom } from "../../src/demo/random";
import { robustStats, SortedRange } from "../../src/monitor/trend-stats";
import { DEFAULT_TREND_OPTIONS } from "../../src/monitor/trend-types";

/**
 * The trend detectors judge windows that slide over a customer's observations; SortedRange keeps a window's
 * values sorted as it moves instead of sorting each window afresh. Its baseline must be exactly robustStats of
 * the same values (same median, same MAD-based SD, to the last bit), whatever way the window moves.
 */
describe("SortedRange", () => {
  it("gives exactly robustStats of the values in its range, over random moves, ties and skipped points", () => {
    const random = createRandom(11);
    const rnd = () => random.next();
    let checked = 0;
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rnd() * 60);
      // Whole days, as the detectors see them (+ 0: never -0); small spreads give many ties, some values far out.
      const values = Array.from(
        { length: n },
        () => (rnd() < 0.1 ? Math.round(rnd() * 200 - 100) : Math.round(rnd() * 12 - 6)) + 0,
      );
      const use = Array.from({ length: n }, () => rnd() < 0.8);
      const range = new SortedRange(values, use);
      let lo = 0;
      let hi = 0;
      for (let step = 0; step < 40; step++) {
        // Mostly slide forward by a little, sometimes jump anywhere or shrink.
        if (rnd() < 0.7) {
          lo = Math.min(n, lo + Math.floor(rnd() * 3));
          hi = Math.min(n, Math.max(lo, hi + Math.floor(rnd() * 4)));
        } else {
          lo = Math.floor(rnd() * n);
          hi = lo + Math.floor(rnd() * (n - lo + 1));
        }
        range.moveTo(lo, hi);
        const inRange = values.slice(lo, hi).filter((_, k) => use[lo + k]);
        expect(range.count).toBe(inRange.length);
        if (inRange.length === 0) continue;
        const orgSd = 2 + rnd() * 10;
        expect(range.stats(orgSd, DEFAULT_TREND_OPTIONS)).toEqual(
          robustStats([...inRange], orgSd, DEFAULT_TREND_OPTIONS),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });
});
