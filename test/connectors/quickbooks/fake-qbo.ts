/**
 * A stateful fake of QuickBooks Online for msw: Intuit's token and revoke endpoints and the v3 API
 * (query, cdc, read, sparse update, companyinfo, preferences) on sandbox-quickbooks.api.intuit.com, serving
 * the recorded-shape fixtures in test/fixtures/quickbooks. Faults can be queued for the next API calls.
 */
import { readFileSync } from "node:fs";
import { HttpResponse } from "msw";
import { fixedClock } from "../../../src/clock";
import type { Deps } from "../../../src/deps";
import { sealTokens } from "../../../src/store/connection-tokens";
import { createConnection } from "../../../src/store/connections";
import { ensureOrg } from "../../../src/store/orgs";
import {
  configureQuickbooks,
  type QuickbooksServiceOptions,
  quickbooksFor,
} from "../../../src/sync/quickbooks";
import { testDeps } from "../../support/deps";
import { type Route, routeBuilder } from "../../support/fake-routes";

const FIXTURES = new URL("../../fixtures/quickbooks/", import.meta.url);
export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as T;
}

export const API = "https://sandbox-quickbooks.api.intuit.com";
export const TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer";
export const REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke";
export const QBO_ENV = {
  QBO_CLIENT_ID: "test-client-id",
  QBO_CLIENT_SECRET: "test-client-secret",
  QBO_ENVIRONMENT: "sandbox",
  QBO_WEBHOOK_VERIFIER: "test-verifier-token",
  PUBLIC_URL: "https://creditpulse.test",
};
export const NOW = "2026-11-20T10:00:00Z";

type Obj = Record<string, unknown> & { Id: string; MetaData?: { LastUpdatedTime?: string } };
export type QboEntityName = "Customer" | "Invoice" | "Payment" | "CreditMemo" | "CustomerType";
export interface ApiCall {
  method: string;
  path: string;
  query: string | null;
  body?: unknown;
}
type Fault = (call: ApiCall) => Response | undefined;

const ts = (o: Obj) => Date.parse(o.MetaData?.LastUpdatedTime ?? "1970-01-01T00:00:00Z");

export class FakeQbo {
  realmId = "9130350000000001";
  data: Record<QboEntityName, Map<string, Obj>> = {
    Customer: new Map(),
    Invoice: new Map(),
    Payment: new Map(),
    CreditMemo: new Map(),
    CustomerType: new Map(),
  };
  deleted: Record<string, Obj[]> = {};
  calls: ApiCall[] = [];
  faults: Fault[] = [];
  tokenCalls: { grant: string; refreshToken?: string }[] = [];
  revoked: string[] = [];
  validRefresh = new Set<string>(["rt-0"]);
  private nextToken = 1;
  /** Delay (ms of real time) before answering a token call, to let concurrent refreshes overlap. */
  tokenDelayMs = 0;
  inFlight = 0;
  peakInFlight = 0;
  /** Answers already given per `requestid` (Intuit applies a repeated create once). */
  requestIds = new Map<string, unknown>();
  invoicesCreated = 0;
  /** Runs before a customer update is applied (simulates someone else saving the customer meanwhile). */
  beforeSave?: () => void;

  constructor(seed = true) {
    if (seed) this.load(fixture("ledger.creditpulse.json"));
  }

  load(ledger: Partial<Record<QboEntityName, Obj[]>>) {
    for (const [name, rows] of Object.entries(ledger))
      for (const r of rows ?? []) this.data[name as QboEntityName].set(String(r.Id), structuredClone(r));
  }

  put(name: QboEntityName, obj: Obj) {
    this.data[name].set(obj.Id, obj);
  }

  remove(name: QboEntityName, id: string, at: string) {
    this.data[name].delete(id);
    this.deleted[name] = this.deleted[name] ?? [];
    this.deleted[name].push({
      Id: id,
      domain: "QBO",
      status: "Deleted",
      MetaData: { LastUpdatedTime: at },
    });
  }

  apiCalls(pathPart?: string) {
    return this.calls.filter((c) => !pathPart || c.path.includes(pathPart));
  }

  private issue() {
    const n = this.nextToken++;
    const rt = `rt-${n}`;
    this.validRefresh.add(rt);
    return {
      ...fixture<Record<string, unknown>>("oauth-token-response.oauth-jsclient.json"),
      access_token: `at-${n}`,
      refresh_token: rt,
    };
  }

  /** QuickBooks returns an invoice's InvoiceLink only when the request asks for it (include=invoiceLink). */
  private withLinks(rows: Obj[], url: URL): Obj[] {
    if (url.searchParams.get("include") === "invoiceLink") return rows;
    return rows.map((r) => {
      if (!("InvoiceLink" in r)) return r;
      const { InvoiceLink: _, ...rest } = r;
      return rest as Obj;
    });
  }

  private query(sql: string, url?: URL) {
    const m =
      /^SELECT \* FROM (\w+)(?: WHERE (.*?))?(?: ORDERBY (\S+))?(?: STARTPOSITION (\d+))?(?: MAXRESULTS (\d+))?$/i.exec(
        sql.trim(),
      );
    if (!m)
      return HttpResponse.json(fixture("error-400-unsupported-property.sandbox-2020.json"), { status: 400 });
    const name = m[1] as QboEntityName;
    let rows = [...(this.data[name]?.values() ?? [])];
    const where = m[2] ?? "";
    if (name === "Customer" && !/Active IN \(true, false\)/i.test(where))
      rows = rows.filter((r) => r.Active !== false);
    const since = /MetaData\.LastUpdatedTime >= '([^']+)'/.exec(where)?.[1];
    if (since) rows = rows.filter((r) => ts(r) >= Date.parse(since));
    const idIn = /Id IN \(([^)]*)\)/.exec(where)?.[1];
    if (idIn) {
      const ids = new Set(idIn.split(",").map((x) => x.trim().replace(/^'|'$/g, "")));
      rows = rows.filter((r) => ids.has(String(r.Id)));
    }
    const docEq = /DocNumber = '([^']+)'/.exec(where)?.[1];
    if (docEq) rows = rows.filter((r) => r.DocNumber === docEq);
    const nameEq = /(?<!Doc)Name = '([^']+)'/.exec(where)?.[1];
    if (nameEq) rows = rows.filter((r) => r.Name === nameEq);
    const order = m[3] ?? "Id";
    rows.sort((a, b) =>
      order === "Id" ? Number(a.Id) - Number(b.Id) : ts(a) - ts(b) || Number(a.Id) - Number(b.Id),
    );
    const start = Number(m[4] ?? 1);
    const max = Number(m[5] ?? 100);
    const page = this.withLinks(rows.slice(start - 1, start - 1 + max), url ?? new URL("http://x/"));
    return HttpResponse.json({
      QueryResponse: page.length ? { [name]: page, startPosition: start, maxResults: page.length } : {},
      time: new Date().toISOString(),
    });
  }

  private cdc(url: URL) {
    const since = Date.parse(url.searchParams.get("changedSince") ?? "");
    const names = (url.searchParams.get("entities") ?? "").split(",") as QboEntityName[];
    const blocks = names.map((name) => {
      const live = [...(this.data[name]?.values() ?? [])].filter((r) => ts(r) >= since);
      const gone = (this.deleted[name] ?? []).filter((r) => ts(r) >= since);
      const rows = this.withLinks([...live, ...gone], url);
      return rows.length ? { [name]: rows, startPosition: 1, maxResults: rows.length } : {};
    });
    return HttpResponse.json({ CDCResponse: [{ QueryResponse: blocks }], time: new Date().toISOString() });
  }

  /** Where the fake answers (default Intuit's real hosts, for msw); a local server sets its own. */
  apiUrl = API;
  tokenUrl = TOKEN_URL;
  revokeUrl = REVOKE_URL;

  /** The same answers as a route table (served on a real port by test/support/fake-routes.ts). */
  routes(): Route[] {
    const routes: Route[] = [];
    this.build(routes);
    return routes;
  }

  handlers() {
    return this.build([]);
  }

  private build(routes: Route[]) {
    const http = routeBuilder(routes);
    const base = `${this.apiUrl}/v3/company/:realm`;
    const record = async (request: Request, realm: string) => {
      const url = new URL(request.url);
      const call: ApiCall = {
        method: request.method,
        path: url.pathname.replace(`/v3/company/${realm}`, ""),
        query: url.searchParams.get("query"),
      };
      if (request.method === "POST") call.body = await request.clone().json();
      this.calls.push(call);
      if (url.searchParams.get("minorversion") !== "75") throw new Error("minorversion 75 expected");
      if (!/^Bearer at-\d+$/.test(request.headers.get("authorization") ?? ""))
        throw new Error("no bearer token");
      return call;
    };
    const faulted = (call: ApiCall) => {
      const f = this.faults.shift();
      return f?.(call);
    };
    return [
      http.post(this.tokenUrl, async ({ request }) => {
        const form = new URLSearchParams(await request.text());
        const grant = form.get("grant_type") ?? "";
        const refreshToken = form.get("refresh_token") ?? undefined;
        this.tokenCalls.push({ grant, ...(refreshToken ? { refreshToken } : {}) });
        this.inFlight++;
        this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
        try {
          if (this.tokenDelayMs) await new Promise((r) => setTimeout(r, this.tokenDelayMs));
          if (grant === "authorization_code") {
            if (
              form.get("code") !== "good-code" ||
              form.get("redirect_uri") !== `${QBO_ENV.PUBLIC_URL}/connect/quickbooks/callback`
            )
              return HttpResponse.json(fixture("oauth-error-invalid-grant.oauth-jsclient.json"), {
                status: 400,
              });
            return HttpResponse.json(this.issue());
          }
          if (grant === "refresh_token" && refreshToken && this.validRefresh.delete(refreshToken))
            return HttpResponse.json(this.issue());
          return HttpResponse.json(fixture("oauth-error-invalid-grant.oauth-jsclient.json"), { status: 400 });
        } finally {
          this.inFlight--;
        }
      }),
      http.post(this.revokeUrl, async ({ request }) => {
        const body = (await request.json()) as { token?: string };
        this.revoked.push(String(body.token));
        return new HttpResponse(null, { status: 200 });
      }),
      http.get(`${base}/query`, async ({ request, params }) => {
        const call = await record(request, String(params.realm));
        return faulted(call) ?? this.query(call.query ?? "", new URL(request.url));
      }),
      http.get(`${base}/cdc`, async ({ request, params }) => {
        const call = await record(request, String(params.realm));
        return faulted(call) ?? this.cdc(new URL(request.url));
      }),
      http.get(`${base}/companyinfo/:id`, async ({ request, params }) => {
        const call = await record(request, String(params.realm));
        return faulted(call) ?? HttpResponse.json(fixture("companyinfo.creditpulse.json"));
      }),
      http.get(`${base}/preferences`, async ({ request, params }) => {
        const call = await record(request, String(params.realm));
        return faulted(call) ?? HttpResponse.json(fixture("preferences.creditpulse.json"));
      }),
      http.get(`${base}/customer/:id`, async ({ request, params }) => {
        const call = await record(request, String(params.realm));
        const c = this.data.Customer.get(String(params.id));
        return (
          faulted(call) ??
          (c
            ? HttpResponse.json({ Customer: c, time: new Date().toISOString() })
            : HttpResponse.json(fixture("error-400-duplicate-name.sandbox-2020.json"), { status: 400 }))
        );
      }),
      // Creating an invoice (late-payment charges), applied once per `requestid`.
      http.post(`${base}/invoice`, async ({ request, params }) => {
        const call = await record(request, String(params.realm));
        const fault = faulted(call);
        if (fault) return fault;
        const requestId = new URL(request.url).searchParams.get("requestid");
        if (requestId && this.requestIds.has(requestId))
          return HttpResponse.json(this.requestIds.get(requestId) as Record<string, unknown>);
        const body = call.body as Record<string, unknown> & { Line: { Amount: number }[] };
        if (!(body.CustomerRef as { value?: string } | undefined)?.value || !Array.isArray(body.Line))
          return HttpResponse.json(fixture("error-400-unsupported-property.sandbox-2020.json"), {
            status: 400,
          });
        const total = body.Line.reduce((n, l) => n + l.Amount, 0);
        const id = String(9000 + ++this.invoicesCreated);
        const made: Obj = {
          ...body,
          Id: id,
          SyncToken: "0",
          TotalAmt: total,
          Balance: total,
          MetaData: { LastUpdatedTime: new Date().toISOString() },
        };
        this.data.Invoice.set(id, made);
        const answer = { Invoice: made, time: new Date().toISOString() };
        if (requestId) this.requestIds.set(requestId, answer);
        return HttpResponse.json(answer);
      }),
      http.post(`${base}/customer`, async ({ request, params }) => {
        const call = await record(request, String(params.realm));
        const fault = faulted(call);
        if (fault) return fault;
        this.beforeSave?.();
        const body = call.body as Obj & { SyncToken: string; sparse?: boolean };
        const current = this.data.Customer.get(body.Id);
        if (!current)
          return HttpResponse.json(fixture("error-400-duplicate-name.sandbox-2020.json"), { status: 400 });
        if (current.SyncToken !== body.SyncToken)
          return HttpResponse.json(fixture("error-400-stale-synctoken.creditpulse.json"), { status: 400 });
        const { sparse: _sparse, ...fields } = body;
        const next = { ...current, ...fields, SyncToken: String(Number(current.SyncToken) + 1) };
        this.data.Customer.set(body.Id, next);
        return HttpResponse.json({ Customer: next, time: new Date().toISOString() });
      }),
    ];
  }
}

/** A fault for the next API call: a QBO status with a fixture body and headers. */
export const respond =
  (status: number, body: unknown, headers: Record<string, string> = {}): Fault =>
  () =>
    HttpResponse.json(body as Record<string, unknown>, { status, headers });

/** Deps for QuickBooks tests: fixed clock that fake sleeps advance, QBO settings, test hooks. */
export async function qboDeps(
  opts: QuickbooksServiceOptions & { now?: string; env?: Record<string, string> } = {},
) {
  const clock = fixedClock(opts.now ?? NOW);
  const sleeps: number[] = [];
  const deps = await testDeps({ clock, env: { ...QBO_ENV, ...opts.env } });
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  configureQuickbooks(deps, { sleep, random: () => 0.5, ...opts });
  const service = quickbooksFor(deps)!;
  return { deps, clock, sleeps, service };
}

/** An organisation with an active QuickBooks connection holding `rt-0` (as after the OAuth flow). */
export async function connectedOrg(deps: Deps, fake: FakeQbo, slug = "harbourside", realmId = fake.realmId) {
  const now = deps.clock.now();
  const { org } = await ensureOrg(
    deps.store.db,
    {
      slug,
      name: "Harbourside Joinery Ltd",
      baseCurrency: "GBP",
      timezone: "Europe/London",
      provider: "quickbooks",
    },
    now,
  );
  const tokens = { accessToken: "at-0", refreshToken: "rt-0", expiresAt: now + 3_600_000 };
  const connection = await createConnection(
    deps.store.db,
    { orgId: org.id, provider: "quickbooks", tenantId: realmId, tenantName: org.name },
    await sealTokens(deps.sealer, tokens),
    tokens.expiresAt,
    now,
  );
  return { org, connection };
}
