/**
 * The only importer of intuit-oauth (the only QuickBooks SDK the project depends on): a small typed,
 * promise-based client for QuickBooks Online.
 *
 * - Tokens go through intuit-oauth's OAuthClient, loaded here (`loadOAuthClient`) and driven by ./oauth.ts.
 * - Data calls go straight to the v3 REST API with fetch, not through node-quickbooks (not a dependency): it
 *   is callback-based, bakes one access token into each instance, has no request timeout or AbortSignal, no
 *   typed query/CDC, and evals its options. Fetch gives us timeouts, our own types and one ConnectorError
 *   per failure.
 *
 * Every data call passes the per-realm rate limiter (500/min, 10 concurrent) and withRetry (429 / fault 3001
 * after Retry-After, 5xx with backoff and jitter) and has a timeout.
 */
import type OAuthClientType from "intuit-oauth";
import type { Clock } from "../../src/clock";
import { ConnectorError } from "../connector";
import {
  createRateLimiter,
  errorKindForStatus,
  parseRetryAfter,
  type RateLimiter,
  type RetryOptions,
  realSleep,
  type Sleep,
  withRetry,
} from "../limits";
import { limiterProvider } from "../remote-limiter";

export const QBO_API_BASE = {
  sandbox: "https://sandbox-quickbooks.api.intuit.com",
  production: "https://quickbooks.api.intuit.com",
} as const;
export type QboEnvironment = keyof typeof QBO_API_BASE;

/** Intuit's documented limits per realm (company). */
export const QBO_LIMITS = { perMinute: 500, concurrent: 10 } as const;

let oauthClientClass: typeof OAuthClientType | undefined;

/**
 * intuit-oauth is loaded on first use, not at import: its browser shims touch `window` when loaded, which would
 * stop the Workers runtime from even starting the app. Its own retries (real multi-second sleeps) are switched
 * off: our withRetry does that with an injected sleep (./oauth.ts is its only user).
 */
export async function loadOAuthClient(): Promise<typeof OAuthClientType> {
  if (!oauthClientClass) {
    const cls = (await import("intuit-oauth")).default;
    (cls as unknown as { retryConfig: { maxRetries: number } }).retryConfig.maxRetries = 0;
    oauthClientClass = cls;
  }
  return oauthClientClass;
}

// --- Accounting API (REST) ---------------------------------------------------------------------------------

/** One error of a QBO Fault body (`Fault.Error[]`, or lower-case `fault.error[]` on 401s). */
export interface QboFaultError {
  code: string;
  message: string;
  detail?: string;
}

/** Fault codes of a failed call ride on ConnectorError.details.cause. */
export interface QboFaultCause {
  faultCodes: string[];
}

export function faultCodes(err: unknown): string[] {
  if (!(err instanceof ConnectorError)) return [];
  const cause = err.details.cause as Partial<QboFaultCause> | undefined;
  return cause?.faultCodes ?? [];
}

export function parseFault(body: unknown): QboFaultError[] {
  const b = body as {
    Fault?: { Error?: { code?: string; Message?: string; Detail?: string }[] };
    fault?: { error?: { code?: string; message?: string; detail?: string }[] };
  } | null;
  if (!b || typeof b !== "object") return [];
  if (b.Fault?.Error)
    return b.Fault.Error.map((e) => ({
      code: String(e.code ?? ""),
      message: e.Message ?? "",
      detail: e.Detail,
    }));
  if (b.fault?.error)
    return b.fault.error.map((e) => ({
      code: String(e.code ?? ""),
      message: e.message ?? "",
      detail: e.detail,
    }));
  return [];
}

/** What a data call needs of the connection: the realm, a token, and an optional abort signal. */
export interface QboCallContext {
  tenantId: string;
  accessToken(): Promise<string>;
  /** Refreshes now (after a 401); throws auth_revoked only when Intuit refuses the refresh token. */
  refreshAccessToken?(): Promise<string>;
  signal?: AbortSignal;
}

export interface QboApiOptions {
  environment: QboEnvironment;
  /** QBO_API_URL: overrides the environment's host (a recording proxy, a local fake). */
  baseUrl?: string;
  clock: Clock;
  minorVersion?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: Sleep;
  random?: () => number;
  retry?: Omit<RetryOptions, "sleep" | "random">;
}

export type QboQueryResponse = { QueryResponse?: Record<string, unknown>; time?: string };
export type QboCdcResponse = {
  CDCResponse?: { QueryResponse?: Record<string, unknown>[] }[];
  time?: string;
};

export interface QboApi {
  query(ctx: QboCallContext, sql: string): Promise<QboQueryResponse>;
  cdc(ctx: QboCallContext, entities: string[], changedSince: string): Promise<QboCdcResponse>;
  read<T = Record<string, unknown>>(ctx: QboCallContext, entity: string, id: string): Promise<T>;
  /** GETs a path under the company (e.g. "preferences") and returns the whole body. */
  get(ctx: QboCallContext, path: string): Promise<Record<string, unknown>>;
  /** POSTs an entity body (create, or a sparse update when body.sparse is true); returns the saved entity. */
  save<T = Record<string, unknown>>(
    ctx: QboCallContext,
    entity: string,
    body: Record<string, unknown>,
    /** Query parameters, e.g. `requestid` (Intuit applies a create retried with the same id once). */
    params?: Record<string, string>,
  ): Promise<T>;
  /** Calls made, all realms (each retry counts: Intuit meters every request). */
  readonly calls: number;
  limiterFor(realmId: string): RateLimiter;
}

/** Asks QuickBooks to include each invoice's sharable pay-now link (when the company takes online payments). */
const INCLUDE_INVOICE_LINK = { include: "invoiceLink" } as const;

export function createQboApi(opts: QboApiOptions): QboApi {
  const base = (opts.baseUrl ?? QBO_API_BASE[opts.environment]).replace(/\/+$/, "");
  const minor = String(opts.minorVersion ?? 75);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const sleep = opts.sleep ?? realSleep;
  const limiters = new Map<string, RateLimiter>();
  let calls = 0;

  const limiterFor = (realmId: string) => {
    let l = limiters.get(realmId);
    if (!l) {
      // On Workers a Durable Object per realm (global); on Node in-process.
      const remote = limiterProvider();
      l = remote
        ? remote.tenant("quickbooks", realmId, { ...QBO_LIMITS })
        : createRateLimiter({ ...QBO_LIMITS }, opts.clock, sleep);
      limiters.set(realmId, l);
    }
    return l;
  };

  async function once(
    ctx: QboCallContext,
    method: "GET" | "POST",
    path: string,
    params: Record<string, string>,
    body?: unknown,
    refreshed = false,
  ): Promise<unknown> {
    const url = new URL(`${base}/v3/company/${encodeURIComponent(ctx.tenantId)}/${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    url.searchParams.set("minorversion", minor);
    const token = await ctx.accessToken();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    calls++;
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      const timedOut = timeout.aborted;
      throw new ConnectorError(
        "transient",
        timedOut ? `QuickBooks ${path} timed out after ${timeoutMs} ms` : `QuickBooks ${path}: network error`,
        { provider: "quickbooks", cause: err },
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    const faults = parseFault(json);
    const codes = faults.map((f) => f.code);
    if (res.ok && faults.length === 0) {
      if (json === undefined)
        throw new ConnectorError("transient", `QuickBooks ${path}: the response was not JSON`, {
          provider: "quickbooks",
        });
      return json;
    }
    if (res.status === 401) {
      // An access token revoked or expired early: refresh once and retry. Only a refused refresh token (thrown by
      // refreshAccessToken as auth_revoked) means the connection needs reconnecting.
      if (!refreshed && ctx.refreshAccessToken) {
        await ctx.refreshAccessToken();
        return once(ctx, method, path, params, body, true);
      }
      throw new ConnectorError(
        "invalid_data",
        `QuickBooks ${method} ${path} answered 401${refreshed ? " even with a freshly refreshed token" : ""}`,
        { status: 401, provider: "quickbooks", cause: { faultCodes: codes } satisfies QboFaultCause },
      );
    }
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), opts.clock.now());
    const what = faults.map((f) => `${f.code} ${f.message}`.trim()).join("; ") || `HTTP ${res.status}`;
    const details = {
      status: res.status,
      provider: "quickbooks" as const,
      cause: { faultCodes: codes } satisfies QboFaultCause,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
    // 3001 ThrottleExceeded may arrive with 429 or another status: always back off.
    if (res.status === 429 || codes.includes("3001"))
      throw new ConnectorError("rate_limited", `QuickBooks throttled ${path}: ${what}`, details);
    const kind = res.ok ? "invalid_data" : errorKindForStatus(res.status);
    throw new ConnectorError(kind, `QuickBooks ${method} ${path} failed: ${what}`, details);
  }

  const call = (
    ctx: QboCallContext,
    method: "GET" | "POST",
    path: string,
    params: Record<string, string>,
    body?: unknown,
  ) =>
    withRetry(() => limiterFor(ctx.tenantId).schedule(() => once(ctx, method, path, params, body)), {
      ...opts.retry,
      sleep,
      random: opts.random,
    });

  return {
    // Invoices come with their pay-now link (InvoiceLink) only when asked for it (include=invoiceLink).
    query: (ctx, sql) =>
      call(ctx, "GET", "query", {
        query: sql,
        ...(/\bFROM\s+Invoice\b/i.test(sql) ? INCLUDE_INVOICE_LINK : {}),
      }) as Promise<QboQueryResponse>,
    cdc: (ctx, entities, changedSince) =>
      call(ctx, "GET", "cdc", {
        entities: entities.join(","),
        changedSince,
        ...(entities.includes("Invoice") ? INCLUDE_INVOICE_LINK : {}),
      }) as Promise<QboCdcResponse>,
    async read(ctx, entity, id) {
      const json = (await call(
        ctx,
        "GET",
        `${entity.toLowerCase()}/${encodeURIComponent(id)}`,
        {},
      )) as Record<string, unknown>;
      return json[entity] as never;
    },
    get: (ctx, path) => call(ctx, "GET", path, {}) as Promise<Record<string, unknown>>,
    async save(ctx, entity, body, params = {}) {
      const json = (await call(ctx, "POST", entity.toLowerCase(), params, body)) as Record<string, unknown>;
      return json[entity] as never;
    },
    get calls() {
      return calls;
    },
    limiterFor,
  };
}
