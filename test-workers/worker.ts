/** The built Worker: the same module instance the pool runs as `main` (vitest.workers.config.ts). */
import { exports } from "cloudflare:workers";
// @ts-expect-error: a build output (npm run build:worker) without type declarations
import built from "../.worker-build/worker.js";

export const worker = built as {
  fetch(request: Request, env: unknown, ctx: ExecutionContext): Promise<Response>;
  scheduled(controller: ScheduledController, env: unknown, ctx: ExecutionContext): Promise<void>;
  queue(batch: MessageBatch<unknown>, env: unknown, ctx: ExecutionContext): Promise<void>;
  retryDelaySeconds(attempts: number): number;
};

/** The Worker's own fetch handler as a service (requests go through workerd like real ones). */
export const self = (exports as unknown as { default: Fetcher }).default;
