/**
 * Keeps the dashboard's cached figures warm after the jobs that change what they show (sync, import, the
 * scoring run) and on the hourly schedule, so pages normally read them instead of computing them. A failure is
 * logged and never fails the job: the pages compute the figures themselves on a miss.
 */
import type { Logger } from "../log";
import { type SummarySource, warmTodaysSummary } from "../store/dashboard-summary";
import type { Store } from "../store/db";
import type { Organisation } from "../store/orgs";

export async function warmSummaryLogged(
  deps: { store: Store; log: Logger },
  org: Organisation,
  now: number,
): Promise<SummarySource | "failed"> {
  const started = performance.now();
  try {
    const source = await warmTodaysSummary(deps.store, org, now);
    if (source === "computed")
      deps.log.info(
        { org: org.slug, ms: Math.round(performance.now() - started) },
        "dashboard figures recomputed",
      );
    return source;
  } catch (err) {
    deps.log.error({ err, org: org.slug }, "recomputing the dashboard figures failed");
    return "failed";
  }
}
