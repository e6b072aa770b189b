/**
 * The part of the Workers runtime module "cloudflare:workers" the Node typecheck needs (the project's types are
 * Node's; the full Workers types would clash with them). Only src/workers/ imports it, and only the Worker
 * bundle loads it.
 */
declare module "cloudflare:workers" {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: {
      storage: {
        get<T>(key: string): Promise<T | undefined>;
        put(key: string, value: unknown): Promise<void>;
      };
    };
    protected env: Env;
    constructor(ctx: unknown, env: Env);
  }
}
