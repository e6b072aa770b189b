/**
 * The one way to start work after an HTTP response (a webhook's re-pull, the first backfill after connecting).
 * - Workers: a job message goes to the jobs queue (it outlives the request and is retried); plain work is
 *   kept alive with the request's `ctx.waitUntil`.
 * - Node: it runs in this process, tracked per deps, so tests and a graceful shutdown can wait for it
 *   (`afterResponseIdle`).
 */
import type { Context } from "hono";
import type { Deps } from "./deps";
import type { JobMessage } from "./job-message";

const pending = new WeakMap<Deps, Set<Promise<unknown>>>();

function track(deps: Deps, p: Promise<unknown>) {
  let set = pending.get(deps);
  if (!set) {
    set = new Set();
    pending.set(deps, set);
  }
  const s = set;
  const tracked = p.finally(() => s.delete(tracked));
  s.add(tracked);
}

function executionCtx(c: Context | undefined): { waitUntil(p: Promise<unknown>): void } | undefined {
  try {
    return c?.executionCtx;
  } catch {
    return undefined; // Node: Hono has no execution context
  }
}

/**
 * Starts `work` after the response. Pass a job message where the work is a job (it then runs through the
 * queue on Workers); a function for anything else. Awaiting it only waits for the hand-over (the queue send),
 * never for the work itself.
 */
export async function afterResponse(
  c: Context | undefined,
  deps: Deps,
  what: string,
  work: JobMessage | (() => Promise<unknown>),
): Promise<void> {
  if (typeof work !== "function" && deps.enqueue) {
    await deps.enqueue([work]);
    return;
  }
  const run =
    typeof work === "function"
      ? work
      : async () => {
          const { handleInProcess } = await import("./jobs");
          await handleInProcess(deps, work);
        };
  const p = Promise.resolve()
    .then(run)
    .catch((err) => deps.log.error({ err }, `${what} failed`));
  const ctx = executionCtx(c);
  if (ctx) ctx.waitUntil(p);
  else track(deps, p);
}

/** Resolves when the work started after responses with these deps has finished (Node). */
export async function afterResponseIdle(deps: Deps): Promise<void> {
  for (;;) {
    const set = pending.get(deps);
    if (!set || set.size === 0) return;
    await Promise.all([...set]);
  }
}
