/**
 * The demo organisation on a deployment whose database this machine cannot open (Workers + D1):
 * `creditpulse demo --url <deployment>` signs a short-lived request with the install secret (like `setup-link`)
 * and posts it to `POST /ops/demo`. The deployment checks the signature and seeds through the jobs queue on
 * Workers (one `demo` message: seed, score as of a week ago and today, warm the dashboard figures), or in
 * this process on Node. The seed is the same `seedDemo` the CLI and `npm start` use, so a repeat converges.
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import type { JobMessage } from "../job-message";
import { addDays, dateInZone } from "../model";
import { signToken, verifyToken } from "../signed";
import { findUserByEmail, grant } from "../store/accounts";
import { findOrgBySlug } from "../store/orgs";
import { type DemoResult, seedDemo } from "./demo";

/** A signed demo request is good for this long (a replay inside it only re-seeds the same demo). */
export const DEMO_REQUEST_TTL_MS = 10 * 60_000;
/** The most customers one queue message seeds and scores within D1's queries per invocation (about 600). */
export const DEMO_MAX_CUSTOMERS = 300;

export type DemoJob = Extract<JobMessage, { job: "demo" }>;

export interface DemoRequest {
  slug: string;
  customers: number;
  seed: string;
  /** An existing user (email) made owner of the demo organisation; without it only a first owner set up
   * later sees it (setup makes the first owner owner of every organisation). */
  owner?: string;
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

function checked(req: DemoRequest): DemoRequest {
  if (!SLUG.test(req.slug))
    throw new UserError(
      "bad_slug",
      `organisation slug must be lower-case letters, digits and dashes (got ${req.slug})`,
    );
  if (!Number.isInteger(req.customers) || req.customers < 1 || req.customers > DEMO_MAX_CUSTOMERS)
    throw new UserError(
      "bad_customers",
      `customers must be a whole number from 1 to ${DEMO_MAX_CUSTOMERS} on a deployment (got ${req.customers})`,
    );
  return req;
}

/** The bearer token `POST /ops/demo` accepts: the request itself, signed with the install secret. */
export async function signDemoRequest(secret: string, req: DemoRequest, now: number): Promise<string> {
  return signToken(secret, "ops-demo", checked(req), now + DEMO_REQUEST_TTL_MS);
}

/** The job a signed request asks for; a missing, forged or expired token is refused with 401. */
export async function demoJobFromToken(deps: Deps, token: string | undefined): Promise<DemoJob> {
  if (!token)
    throw new UserError(
      "unauthorized",
      "send the request `creditpulse demo --url` signs (Authorization: Bearer)",
      401,
    );
  const now = deps.clock.now();
  const v = await verifyToken<DemoRequest>(deps.secret, "ops-demo", token, now);
  if (!v.ok)
    throw new UserError(
      "unauthorized",
      v.reason === "expired"
        ? "this demo request has expired: run `creditpulse demo --url` again"
        : "this demo request is not signed with this deployment's CREDITPULSE_SECRET",
      401,
    );
  const req = checked(v.payload);
  return { job: "demo", at: now, slug: req.slug, customers: req.customers, seed: req.seed, owner: req.owner };
}

export interface DemoJobResult extends DemoResult {
  /** The user made owner, when the request named one that exists. */
  owner: string | null;
  ownerMissing?: string;
}

/**
 * Seeds (or refreshes) the demo organisation and scores it as of a week ago and today, so the dashboard shows
 * grades, trends and movement from the start; then computes its figures so the first page view is warm.
 */
export async function seedDemoScored(
  deps: Deps,
  opts: { slug?: string; customers?: number; seed?: string; now: number },
): Promise<DemoResult> {
  const result = await seedDemo(deps.store, opts);
  const org = await findOrgBySlug(deps.store.db, result.organisation.slug);
  if (org) {
    const { runScoring } = await import("../scoring/run-scoring");
    const { warmSummaryLogged } = await import("../scoring/warm-summary");
    const today = dateInZone(opts.now, org.timezone);
    for (const asOf of [addDays(today, -7), today])
      await runScoring(deps.store, org, { now: opts.now, asOf });
    await warmSummaryLogged(deps, org, opts.now);
  }
  return result;
}

/**
 * `POST /ops/demo`: checks the signed request, then queues the seed (Workers: it outlives the request and is
 * retried) or runs it here (Node).
 */
export async function requestDemoSeed(
  deps: Deps,
  token: string | undefined,
): Promise<{ queued: true; organisation: string; customers: number } | ({ queued: false } & DemoJobResult)> {
  const job = await demoJobFromToken(deps, token);
  if (deps.enqueue) {
    await deps.enqueue([job]);
    return { queued: true, organisation: job.slug, customers: job.customers };
  }
  return { queued: false, ...(await runDemoJob(deps, job)) };
}

/** One `demo` message: the seed, its scores and figures, and the named owner's membership. */
export async function runDemoJob(deps: Deps, msg: DemoJob): Promise<DemoJobResult> {
  const result = await seedDemoScored(deps, {
    slug: msg.slug,
    customers: msg.customers,
    seed: msg.seed,
    now: msg.at,
  });
  let owner: string | null = null;
  let ownerMissing: string | undefined;
  if (msg.owner) {
    const user = await findUserByEmail(deps.store.db, msg.owner);
    const org = await findOrgBySlug(deps.store.db, result.organisation.slug);
    if (user && org) {
      await grant(deps.store.db, user.id, org.id, "owner", msg.at);
      owner = user.email;
    } else ownerMissing = msg.owner;
  }
  deps.log.info(
    { org: result.organisation.slug, invoices: result.counts.invoices.created, owner, ownerMissing },
    "demo organisation seeded on request",
  );
  return { ...result, owner, ...(ownerMissing ? { ownerMissing } : {}) };
}
