/**
 * Xero's Accounting API over fetch, and the only place xero-node would be imported (identity: ./oauth.ts).
 *
 * - The Accounting API goes through `fetch` (see README: Connecting Xero): we need the If-Modified-Since header
 *   and the rate-limit response headers on every call, a timeout on every call (xero-node's generated API has
 *   none), raw JSON pages without the SDK's per-record deserialisation, and a transport that also runs on
 *   Workers (xero-node's axios GETs do not). Every call goes through the per-tenant and per-app rate limiters
 *   and `withRetry`.
 *
 * xero-node rejects with JSON strings (its data APIs), plain axios error objects (updateTenants, token
 * requests) or openid-client errors: `toConnectorError` turns each into one ConnectorError.
 */
import type { Clock } from "../../src/clock";
import { type ConnectionContext, ConnectorError } from "../connector";
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

/** Xero's API host (XERO_API_URL): the Accounting API lives under /api.xro/2.0, tenants under /connections. */
export const XERO_API_HOST = "https://api.xero.com";
export const XERO_API_BASE = `${XERO_API_HOST}/api.xro/2.0`;

// ---------------------------------------------------------------------------------------------------------
// Errors

interface ErrorShape {
  status?: number;
  body?: unknown;
  headers?: Record<string, unknown>;
  code?: string;
  message?: string;
}

/** Pulls status, body and headers out of whatever xero-node, axios or openid-client rejected with. */
function errorShape(err: unknown): ErrorShape {
  let e: unknown = err;
  if (typeof e === "string") {
    try {
      e = JSON.parse(e);
    } catch {
      return { message: e as string };
    }
  }
  if (!e || typeof e !== "object") return { message: String(e) };
  const o = e as Record<string, any>;
  // xero-node's generated APIs: { response: { statusCode, body, headers }, body }
  // axios errors (updateTenants, refreshWithRefreshToken): { response: { status, data, headers }, code, message }
  // openid-client OPError: { error, error_description, response: { statusCode, body } }
  const r = (o.response ?? {}) as Record<string, any>;
  const status = r.statusCode ?? r.status ?? o.statusCode ?? o.status;
  const body =
    r.body ??
    r.data ??
    o.body ??
    (o.error ? { error: o.error, error_description: o.error_description } : undefined);
  return {
    status: typeof status === "number" ? status : undefined,
    body,
    headers: (r.headers ?? undefined) as Record<string, unknown> | undefined,
    code: typeof o.code === "string" ? o.code : undefined,
    message: typeof o.message === "string" ? o.message : undefined,
  };
}

/** A short, token-free description of a Xero error body. */
function describeBody(body: unknown): string | undefined {
  if (!body) return undefined;
  if (typeof body === "string") return body.slice(0, 300);
  if (typeof body !== "object") return undefined;
  const b = body as Record<string, any>;
  if (typeof b.error === "string")
    return b.error_description ? `${b.error}: ${b.error_description}` : b.error;
  const validation = (b.Elements as any[] | undefined)
    ?.flatMap((el) => (el?.ValidationErrors as any[] | undefined) ?? [])
    .map((v) => v?.Message)
    .filter(Boolean);
  if (validation?.length) return `${b.Message ?? "validation error"}: ${validation.join("; ")}`.slice(0, 500);
  if (typeof b.Message === "string") return b.Message;
  if (typeof b.Detail === "string") return b.Title ? `${b.Title}: ${b.Detail}` : b.Detail;
  if (typeof b.Title === "string") return b.Title;
  return undefined;
}

function header(headers: Record<string, unknown> | Headers | undefined, name: string): string | null {
  if (!headers) return null;
  if (headers instanceof Headers) return headers.get(name);
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === lower) return v == null ? null : String(v);
  return null;
}

/** Turns anything Xero, xero-node, axios or openid-client threw into one ConnectorError. */
export function toConnectorError(err: unknown, now: number, what = "Xero request"): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = errorShape(err);
  const described = describeBody(e.body);
  const oauthError =
    e.body && typeof e.body === "object"
      ? ((e.body as Record<string, unknown>).error as string | undefined)
      : undefined;
  if (
    oauthError === "invalid_grant" ||
    oauthError === "unauthorized_client" ||
    oauthError === "invalid_client"
  )
    return new ConnectorError("auth_revoked", `${what} refused: ${described ?? oauthError}`, {
      status: e.status,
      provider: "xero",
    });
  if (e.status === undefined) {
    const timedOut =
      e.code === "ECONNABORTED" || e.code === "ETIMEDOUT" || /timeout|timed out/i.test(e.message ?? "");
    return new ConnectorError(
      "transient",
      `${what} failed: ${timedOut ? "timed out" : (e.message ?? "network error")}`,
      {
        provider: "xero",
        cause: e.code ?? e.message,
      },
    );
  }
  const kind = errorKindForStatus(e.status);
  const problem = header(e.headers, "x-rate-limit-problem") ?? undefined;
  return new ConnectorError(kind, `${what} failed (${e.status})${described ? `: ${described}` : ""}`, {
    status: e.status,
    provider: "xero",
    retryAfterMs:
      kind === "rate_limited"
        ? (parseRetryAfter(header(e.headers, "retry-after"), now) ?? 60_000)
        : undefined,
    problem,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Accounting API over fetch, within the rate limits

export interface XeroLimits {
  /** Calls per minute per tenant (Xero: 60). */
  perMinute: number;
  /** Calls in flight per tenant (Xero: 5). */
  concurrent: number;
  /** Calls per UTC day per tenant (Xero: 5,000; 1,000 on the starter tier). */
  perDay: number;
  /** Calls per minute for the whole app across tenants (Xero: 10,000). */
  appPerMinute: number;
}

export const XERO_LIMITS: XeroLimits = { perMinute: 60, concurrent: 5, perDay: 5000, appPerMinute: 10_000 };

export interface XeroApiOptions {
  clock: Clock;
  sleep?: Sleep;
  fetch?: typeof fetch;
  timeoutMs?: number;
  limits?: Partial<XeroLimits>;
  retry?: RetryOptions;
  /** Part of the daily budget background work (sync) leaves for interactive calls (default 2%, at least 10). */
  reserveFraction?: number;
  base?: string;
}

export interface XeroRequest {
  method?: "GET" | "PUT" | "POST" | "DELETE";
  /** Path under /api.xro/2.0, e.g. "/Invoices". */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Only records changed since (sent as If-Modified-Since). */
  ifModifiedSince?: number | null;
  /** Background work (sync) keeps clear of the day's last calls. */
  background?: boolean;
  /** Xero's Idempotency-Key: a PUT/POST retried with the same key is applied once. */
  idempotencyKey?: string;
}

export interface XeroResponse<T = any> {
  status: number;
  body: T;
}

export interface XeroApi {
  request<T = any>(ctx: ConnectionContext, req: XeroRequest): Promise<XeroResponse<T>>;
  /** The per-tenant limiter (tests and the benchmark read its counters). */
  limiter(tenantId: string): RateLimiter;
  readonly appLimiter: RateLimiter;
}

function buildUrl(base: string, path: string, query: XeroRequest["query"]): string {
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

export function createXeroApi(opts: XeroApiOptions): XeroApi {
  const clock = opts.clock;
  const sleep = opts.sleep ?? realSleep;
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const limits = { ...XERO_LIMITS, ...opts.limits };
  const reserve = Math.max(10, Math.floor(limits.perDay * (opts.reserveFraction ?? 0.02)));
  const base = opts.base ?? XERO_API_BASE;
  const tenants = new Map<string, RateLimiter>();
  // On Workers the limiters live in Durable Objects (global); on Node they are in-process.
  const remote = limiterProvider();
  const appSpec = { perMinute: limits.appPerMinute, concurrent: 10_000 };
  const appLimiter = remote ? remote.app("xero", appSpec) : createRateLimiter(appSpec, clock, sleep);

  const limiter = (tenantId: string) => {
    let l = tenants.get(tenantId);
    if (!l) {
      const spec = { perMinute: limits.perMinute, concurrent: limits.concurrent, perDay: limits.perDay };
      l = remote ? remote.tenant("xero", tenantId, spec) : createRateLimiter(spec, clock, sleep);
      tenants.set(tenantId, l);
    }
    return l;
  };

  function observe(l: RateLimiter, headers: Headers) {
    const num = (name: string) => {
      const v = headers.get(name);
      const n = v === null ? Number.NaN : Number(v);
      return Number.isFinite(n) ? n : undefined;
    };
    l.observe({ minute: num("x-minlimit-remaining"), day: num("x-daylimit-remaining") });
    const app = num("x-appminlimit-remaining");
    if (app !== undefined) appLimiter.observe({ minute: app });
  }

  async function once<T>(
    ctx: ConnectionContext,
    req: XeroRequest,
    l: RateLimiter,
    refreshed = false,
  ): Promise<XeroResponse<T>> {
    const token = await ctx.accessToken();
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      "xero-tenant-id": ctx.tenantId,
      Accept: "application/json",
    };
    if (req.ifModifiedSince != null)
      headers["If-Modified-Since"] = new Date(req.ifModifiedSince).toISOString();
    if (req.body !== undefined) headers["Content-Type"] = "application/json";
    if (req.idempotencyKey) headers["Idempotency-Key"] = req.idempotencyKey;
    const signals = [AbortSignal.timeout(timeoutMs), ...(ctx.signal ? [ctx.signal] : [])];
    let res: Response;
    try {
      res = await doFetch(buildUrl(base, req.path, req.query), {
        method: req.method ?? "GET",
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      throw new ConnectorError(
        "transient",
        `Xero ${req.path} ${timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${(err as Error)?.message ?? err}`}`,
        { provider: "xero", cause: err },
      );
    }
    observe(l, res.headers);
    const text = await res.text();
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (res.status === 304) return { status: 304, body: {} as T };
    if (res.ok) return { status: res.status, body: body as T };
    if (res.status === 401) {
      // An access token revoked or expired early: refresh once and retry. Only a refused refresh token (thrown by
      // refreshAccessToken as auth_revoked) means the connection needs reconnecting.
      if (!refreshed && ctx.refreshAccessToken) {
        await ctx.refreshAccessToken();
        return once(ctx, req, l, true);
      }
      throw new ConnectorError(
        "invalid_data",
        `Xero ${req.method ?? "GET"} ${req.path} answered 401${refreshed ? " even with a freshly refreshed token" : ""}: ${describeBody(body) ?? "unauthorised"}`,
        { status: 401, provider: "xero" },
      );
    }
    const err = toConnectorError(
      { response: { status: res.status, data: body, headers: Object.fromEntries(res.headers) } },
      clock.now(),
      `Xero ${req.method ?? "GET"} ${req.path}`,
    );
    if (err.kind === "rate_limited") {
      const until = clock.now() + (err.details.retryAfterMs ?? 60_000);
      if (err.details.problem === "day") l.observe({ day: 0 });
      if (err.details.problem === "appminute") appLimiter.holdUntil(until);
      else l.holdUntil(until);
    }
    throw err;
  }

  return {
    request(ctx, req) {
      const l = limiter(ctx.tenantId);
      return withRetry(
        () =>
          l.schedule(() => appLimiter.schedule(() => once(ctx, req, l)), {
            reserve: req.background ? reserve : 0,
          }),
        { sleep, maxAttempts: 8, ...opts.retry },
      );
    },
    limiter,
    appLimiter,
  };
}
