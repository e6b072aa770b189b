/**
 * Rate limits that must hold across every Worker isolate live in Durable Objects: one object per provider
 * tenant (Xero tenant / QuickBooks realm) keeps that tenant's per-minute window, concurrency cap, daily
 * budget and Retry-After hold, and one app-wide object keeps Xero's 10,000 calls a minute. A Durable Object
 * is a single instance worldwide, so the in-process limiter (connectors/limits.ts, the same code Node uses)
 * running inside it is global. Callers hold a slot with `acquire` and give it back with `release`; a slot
 * whose caller died is freed after SLOT_TTL_MS. The day's remaining budget is kept in the object's storage
 * so an evicted object does not forget what was spent.
 *
 * The same class, addressed per token set ("<provider>:token:<holder connection id>"), is the single-flight
 * lock for a token refresh: callers queue in the object instead of polling the store's lease.
 */
import { DurableObject } from "cloudflare:workers";
import { createRateLimiter, type LimitSpec, type RateLimiter } from "../../connectors/limits";
import { systemClock } from "../clock";

const SLOT_TTL_MS = 120_000;
const DAY = 86_400_000;

export type AcquireResult =
  | { ok: true; slot: string; remainingToday: number }
  | { ok: false; retryAfterMs: number; message: string };

export class RateLimiterObject extends DurableObject {
  private limiter: RateLimiter | undefined;
  private specKey = "";
  private slots = new Map<string, () => void>();
  private restored: Promise<void> | undefined;
  /** A Retry-After hold that may arrive before the first caller (kept for the limiter made next). */
  private heldUntil = 0;

  private limiterFor(spec: LimitSpec): RateLimiter {
    const key = JSON.stringify(spec);
    if (!this.limiter || key !== this.specKey) {
      this.limiter = createRateLimiter(spec, systemClock);
      this.specKey = key;
      const l = this.limiter;
      l.holdUntil(this.heldUntil);
      this.restored = (async () => {
        const saved = await this.ctx.storage.get<{ day: number; remaining: number }>("day");
        if (saved && saved.day === Math.floor(Date.now() / DAY)) l.observe({ day: saved.remaining });
      })();
    }
    return this.limiter;
  }

  /** Waits for a slot within the limits; `ok: false` when the daily budget (less `reserve`) is spent. */
  async acquire(spec: LimitSpec, reserve = 0): Promise<AcquireResult> {
    const limiter = this.limiterFor(spec);
    await this.restored;
    const slot = crypto.randomUUID();
    let granted!: () => void;
    const grant = new Promise<void>((r) => {
      granted = r;
    });
    const held = limiter.schedule(
      () =>
        new Promise<void>((release) => {
          this.slots.set(slot, release);
          setTimeout(() => this.release(slot), SLOT_TTL_MS);
          granted();
        }),
      { reserve },
    );
    try {
      await Promise.race([grant, held]);
    } catch (err) {
      const e = err as { message?: string; details?: { retryAfterMs?: number } };
      return {
        ok: false,
        retryAfterMs: e.details?.retryAfterMs ?? 60_000,
        message: e.message ?? String(err),
      };
    }
    const remainingToday = limiter.remainingToday();
    if (Number.isFinite(remainingToday))
      await this.ctx.storage.put("day", { day: Math.floor(Date.now() / DAY), remaining: remainingToday });
    return { ok: true, slot, remainingToday };
  }

  release(slot: string): void {
    const release = this.slots.get(slot);
    this.slots.delete(slot);
    release?.();
  }

  /** The provider said to wait (429 Retry-After): every caller of this tenant waits until then. */
  holdUntil(until: number): void {
    this.heldUntil = Math.max(this.heldUntil, until);
    this.limiter?.holdUntil(until);
  }

  /** What the provider said is left (rate-limit headers). */
  observe(remaining: { minute?: number; day?: number }): void {
    this.limiter?.observe(remaining);
  }

  // --- single-flight token refresh: a lock with a queue (no polling) ---
  private lockHolder: string | null = null;
  private lockWaiters: (() => void)[] = [];

  /** Waits until the caller holds the lock (others queue behind); freed after SLOT_TTL_MS if never released. */
  async lock(): Promise<string> {
    while (this.lockHolder !== null) await new Promise<void>((r) => this.lockWaiters.push(r));
    const id = crypto.randomUUID();
    this.lockHolder = id;
    setTimeout(() => this.unlock(id), SLOT_TTL_MS);
    return id;
  }

  unlock(id: string): void {
    if (this.lockHolder !== id) return;
    this.lockHolder = null;
    this.lockWaiters.shift()?.();
  }

  /** Slots held right now (tests). */
  held(): number {
    return this.slots.size;
  }
}
