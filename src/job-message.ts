/**
 * The messages jobs run from (src/jobs.ts handles them; on Workers they travel through the jobs queue). A leaf
 * module, so Deps (whose `enqueue` sends them) does not import the job table.
 */
import type { ChangeEvent, Entity } from "../connectors/connector";

export type JobMessage =
  /** `resumeAt`/`part`: the continuation of a sync that ran out of its page budget. */
  | { job: "sync"; orgId: string; at: number; part?: number; resumeAt?: Entity }
  | { job: "score"; orgId: string; at: number }
  /**
   * `resumeAfter`/`part`: the continuation of a reminder run that used its budget (customers in id order);
   * `resumeStart`: the continuation of its start-of-run work (unfinished holds and notices after these ids).
   */
  | {
      job: "remind";
      orgId: string;
      at: number;
      part?: number;
      resumeAfter?: string;
      resumeStart?: { holdsAfter?: string; noticesAfter?: string };
    }
  | { job: "summaries"; orgId: string; at: number }
  /** `resumeAfter`/`part`: the continuation of a statement run that used its budget (customers in id order). */
  | { job: "statements"; orgId: string; at: number; part?: number; resumeAfter?: string }
  | { job: "digest"; userId: string; at: number }
  /** Not on a cron: a webhook's changed records, re-pulled after the response. */
  | { job: "repull"; events: ChangeEvent[]; at: number }
  /** Not on a cron: a CSV upload whose files wait in R2 (`POST /api/orgs/:slug/imports` on Workers). */
  | { job: "import"; orgId: string; uploadId: string; at: number }
  /** Not on a cron: seed the demo organisation on a deployment (`creditpulse demo --url`, POST /ops/demo). */
  | { job: "demo"; at: number; slug: string; customers: number; seed: string; owner?: string };
