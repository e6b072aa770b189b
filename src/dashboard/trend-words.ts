/**
 * The trend in words, from the one judgement the monitor stored (src/monitor/trend-state.ts gives the state and
 * its change together; src/monitor/score.ts words the reason from the same numbers): "deteriorating" always reads
 * "N days later", "improving" always "N days sooner". A change whose sign disagrees with the state (which the
 * monitor never stores) is not shown rather than shown contradicting the word.
 */

export interface TrendWords {
  /** deteriorating, improving, stable (or the stored word). */
  word: string;
  /** "5 days later", "3 days sooner", or null when there is no change to show. */
  change: string | null;
  /** The whole sentence, for titles, screen readers and the CSV: "deteriorating: paying 5 days later than usual". */
  sentence: string;
}

const days = (x: number) => {
  const r = Math.round(Math.abs(x));
  return `${r} day${r === 1 ? "" : "s"}`;
};

export function trendWords(trend: string | null, changeDays: number | null): TrendWords | null {
  if (!trend) return null;
  const moving = trend === "deteriorating" ? 1 : trend === "improving" ? -1 : 0;
  const agrees =
    moving !== 0 &&
    changeDays !== null &&
    Math.sign(changeDays) === moving &&
    Math.round(Math.abs(changeDays)) > 0;
  const change = agrees ? `${days(changeDays)} ${moving > 0 ? "later" : "sooner"}` : null;
  return {
    word: trend,
    change,
    sentence: change
      ? `${trend}: paying ${change} than usual`
      : trend === "insufficient_data"
        ? "too few paid invoices to judge a trend"
        : trend,
  };
}
