declare module "../.worker-build/worker.js" {
  const worker: {
    fetch(request: Request, env: unknown, ctx: ExecutionContext): Promise<Response>;
    scheduled(controller: ScheduledController, env: unknown, ctx: ExecutionContext): Promise<void>;
    queue(batch: MessageBatch<unknown>, env: unknown, ctx: ExecutionContext): Promise<void>;
    retryDelaySeconds(attempts: number): number;
  };
  export default worker;
}
