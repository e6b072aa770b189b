/**
 * An in-process Xero for tests and the benchmark: msw 2 handlers for identity.xero.com (OpenID discovery,
 * JWKS, token, revocation) and api.xero.com (/connections and the Accounting API), serving records shaped like
 * the recorded responses in test/fixtures/xero (field names, /Date()/ timestamps, pagination blocks).
 *
 * It behaves like Xero where the connector depends on it: If-Modified-Since, page/pageSize with a pagination
 * block, IDs / Statuses / simple `where` filters, single-use refresh tokens, rate-limit headers counted on the
 * injected clock, and it answers 429 (with Retry-After and X-Rate-Limit-Problem) when a limit is exceeded.
 * `faults` lets a test fail the next calls on purpose.
 */
import { exportJWK, generateKeyPair, type KeyLike, SignJWT } from "jose";
import { HttpResponse } from "msw";
import type { Clock } from "../../../src/clock";
import { type Route, routeBuilder } from "../../support/fake-routes";

export const CLIENT_ID = "TESTCLIENTID0000000000000000000";
export const CLIENT_SECRET = "test-client-secret-0000000000000000000000000";
export const WEBHOOK_KEY = "test-webhook-key-0123456789abcdefghijklmnopqrstuv";
const REAL_IDENTITY = "https://identity.xero.com";
const REAL_API = "https://api.xero.com";

// biome-ignore lint/suspicious/noExplicitAny: records are Xero JSON.
export type XeroRecord = Record<string, any>;

export const msDate = (ms: number) => `/Date(${ms}+0000)/`;
export const dayDate = (iso: string) => msDate(Date.parse(`${iso}T00:00:00Z`));

export interface Tenant {
  id: string;
  connectionId: string;
  name: string;
  organisation: XeroRecord;
}

export interface ApiCall {
  method: string;
  path: string;
  query: Record<string, string>;
  ifModifiedSince: string | null;
  tenantId: string | null;
  at: number;
}

export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Only calls whose path starts with this. */
  path?: string;
}

export interface TenantData {
  Contacts: XeroRecord[];
  Invoices: XeroRecord[];
  Payments: XeroRecord[];
  CreditNotes: XeroRecord[];
  Overpayments: XeroRecord[];
  Prepayments: XeroRecord[];
  ContactGroups: XeroRecord[];
  history: { path: string; details: string }[];
}

const ID_FIELDS: Record<string, string> = {
  Contacts: "ContactID",
  Invoices: "InvoiceID",
  Payments: "PaymentID",
  CreditNotes: "CreditNoteID",
  Overpayments: "OverpaymentID",
  Prepayments: "PrepaymentID",
};

export function emptyTenantData(): TenantData {
  return {
    Contacts: [],
    Invoices: [],
    Payments: [],
    CreditNotes: [],
    Overpayments: [],
    Prepayments: [],
    ContactGroups: [],
    history: [],
  };
}

/** An organisation record shaped like GET /Organisation (see organisation.spec.json). */
export function organisationRecord(o: {
  id: string;
  name: string;
  currency?: string;
  timezone?: string;
  country?: string;
}): XeroRecord {
  return {
    Name: o.name,
    LegalName: o.name,
    BaseCurrency: o.currency ?? "NZD",
    CountryCode: o.country ?? "NZ",
    IsDemoCompany: false,
    OrganisationStatus: "ACTIVE",
    Timezone: o.timezone ?? "NEWZEALANDSTANDARDTIME",
    OrganisationID: o.id,
    Version: o.country ?? "NZ",
  };
}

export function contactRecord(c: {
  id: string;
  name: string;
  email?: string;
  persons?: { email: string; include: boolean }[];
  updated: number;
  status?: string;
}): XeroRecord {
  return {
    ContactID: c.id,
    ContactStatus: c.status ?? "ACTIVE",
    Name: c.name,
    ...(c.email ? { EmailAddress: c.email } : {}),
    Addresses: [],
    Phones: [{ PhoneType: "DEFAULT", PhoneNumber: "555 0100", PhoneAreaCode: "09" }],
    UpdatedDateUTC: msDate(c.updated),
    ContactGroups: [],
    IsCustomer: true,
    IsSupplier: false,
    ContactPersons: (c.persons ?? []).map((p, i) => ({
      FirstName: `Person${i}`,
      LastName: "Test",
      EmailAddress: p.email,
      IncludeInEmails: p.include,
    })),
    HasAttachments: false,
    HasValidationErrors: false,
  };
}

export function invoiceRecord(i: {
  id: string;
  contactId: string;
  number: string;
  date: string;
  due: string;
  total: number;
  paid?: number;
  credited?: number;
  status?: string;
  currency?: string;
  updated: number;
  type?: string;
}): XeroRecord {
  const paid = i.paid ?? 0;
  const credited = i.credited ?? 0;
  const due = Math.round((i.total - paid - credited) * 100) / 100;
  return {
    Type: i.type ?? "ACCREC",
    InvoiceID: i.id,
    InvoiceNumber: i.number,
    Reference: "",
    AmountDue: due,
    AmountPaid: paid,
    AmountCredited: credited,
    IsDiscounted: false,
    HasAttachments: false,
    HasErrors: false,
    Contact: {
      ContactID: i.contactId,
      Name: "",
      Addresses: [],
      Phones: [],
      ContactGroups: [],
      ContactPersons: [],
    },
    DateString: `${i.date}T00:00:00`,
    Date: dayDate(i.date),
    DueDateString: `${i.due}T00:00:00`,
    DueDate: dayDate(i.due),
    Status: i.status ?? (due === 0 ? "PAID" : "AUTHORISED"),
    LineAmountTypes: "Exclusive",
    SubTotal: i.total,
    TotalTax: 0,
    Total: i.total,
    UpdatedDateUTC: msDate(i.updated),
    CurrencyCode: i.currency ?? "NZD",
    ...(due === 0 && i.status !== "VOIDED" ? { FullyPaidOnDate: dayDate(i.due) } : {}),
  };
}

export function paymentRecord(p: {
  id: string;
  invoiceId: string;
  contactId: string;
  amount: number;
  date: string;
  updated: number;
  status?: string;
  currency?: string;
}): XeroRecord {
  return {
    PaymentID: p.id,
    Date: dayDate(p.date),
    BankAmount: p.amount,
    Amount: p.amount,
    Reference: "",
    CurrencyRate: 1,
    PaymentType: "ACCRECPAYMENT",
    Status: p.status ?? "AUTHORISED",
    UpdatedDateUTC: msDate(p.updated),
    HasAccount: true,
    IsReconciled: false,
    Account: { AccountID: "562555f2-8cde-4ce9-8203-0363922537a4", Code: "090" },
    Invoice: {
      Type: "ACCREC",
      InvoiceID: p.invoiceId,
      InvoiceNumber: "",
      Contact: { ContactID: p.contactId, Name: "" },
      CurrencyCode: p.currency ?? "NZD",
    },
    HasValidationErrors: false,
  };
}

export function creditNoteRecord(c: {
  id: string;
  contactId: string;
  number: string;
  date: string;
  total: number;
  allocations: { invoiceId: string; amount: number; date: string }[];
  updated: number;
  currency?: string;
}): XeroRecord {
  const allocated = c.allocations.reduce((n, a) => n + a.amount, 0);
  const remaining = Math.round((c.total - allocated) * 100) / 100;
  return {
    CreditNoteID: c.id,
    CreditNoteNumber: c.number,
    ID: c.id,
    Type: "ACCRECCREDIT",
    Reference: "",
    RemainingCredit: remaining,
    Allocations: c.allocations.map((a, n) => ({
      AllocationID: `${c.id.slice(0, 30)}${String(n).padStart(6, "0")}`,
      Amount: a.amount,
      Date: dayDate(a.date),
      Invoice: { InvoiceID: a.invoiceId, InvoiceNumber: "" },
    })),
    Contact: { ContactID: c.contactId, Name: "" },
    DateString: `${c.date}T00:00:00`,
    Date: dayDate(c.date),
    Status: remaining === 0 ? "PAID" : "AUTHORISED",
    LineAmountTypes: "Exclusive",
    SubTotal: c.total,
    TotalTax: 0,
    Total: c.total,
    UpdatedDateUTC: msDate(c.updated),
    CurrencyCode: c.currency ?? "NZD",
  };
}

export function overpaymentRecord(o: {
  id: string;
  contactId: string;
  date: string;
  total: number;
  remaining: number;
  updated: number;
  kind?: "Overpayments" | "Prepayments";
}): XeroRecord {
  const kind = o.kind ?? "Overpayments";
  return {
    [kind === "Overpayments" ? "OverpaymentID" : "PrepaymentID"]: o.id,
    ID: o.id,
    Type: kind === "Overpayments" ? "RECEIVE-OVERPAYMENT" : "RECEIVE-PREPAYMENT",
    Reference: "bank transfer",
    RemainingCredit: o.remaining,
    Allocations: [],
    Contact: { ContactID: o.contactId, Name: "" },
    DateString: `${o.date}T00:00:00`,
    Date: dayDate(o.date),
    Status: o.remaining === 0 ? "PAID" : "AUTHORISED",
    LineAmountTypes: "NoTax",
    SubTotal: o.total,
    TotalTax: 0,
    Total: o.total,
    UpdatedDateUTC: msDate(o.updated),
    CurrencyCode: "NZD",
  };
}

/** A deterministic GUID-shaped id. */
export function guid(prefix: number, n: number): string {
  const hex = (prefix * 1_000_000_000 + n).toString(16).padStart(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const instantOf = (v: unknown) => {
  const m = /^\/Date\((-?\d+)/.exec(String(v ?? ""));
  return m ? Number(m[1]) : 0;
};

/** Parses the simple `Field=="value"` filters the connector sends. */
function whereFilter(where: string | undefined): (r: XeroRecord) => boolean {
  if (!where) return () => true;
  const m = /^\s*([A-Za-z.]+)\s*==\s*"([^"]*)"\s*$/.exec(where);
  if (!m) throw new Error(`fake Xero does not understand where=${where}`);
  const [, field, value] = m;
  return (r) => field!.split(".").reduce<unknown>((o, k) => (o as XeroRecord | undefined)?.[k], r) === value;
}

export interface FakeXeroOptions {
  clock: Clock;
  tenants?: Tenant[];
  /** Calls per tenant per rolling minute before answering 429 (Xero: 60). */
  perMinute?: number;
  perDay?: number;
  concurrent?: number;
  /** Access token lifetime in seconds (Xero: 1800). */
  expiresIn?: number;
  /** Milliseconds each API answer takes (real time), so concurrency can be observed. */
  latencyMs?: number;
  /** Where the fake answers (default Xero's real hosts, for msw); a local server passes its own. */
  identityUrl?: string;
  apiUrl?: string;
}

export type FakeXero = Awaited<ReturnType<typeof createFakeXero>>;

export async function createFakeXero(opts: FakeXeroOptions) {
  const clock = opts.clock;
  const IDENTITY = opts.identityUrl ?? REAL_IDENTITY;
  const API = opts.apiUrl ?? REAL_API;
  const routes: Route[] = [];
  const http = routeBuilder(routes);
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const tenants: Tenant[] = opts.tenants ?? [
    {
      id: "fe79f7dd-b6d4-4a92-ba7b-538af6289c58",
      connectionId: "7cb59f93-2964-421d-bb5e-a0f7a4572a44",
      name: "Demo Company (NZ)",
      organisation: organisationRecord({
        id: "fe79f7dd-b6d4-4a92-ba7b-538af6289c58",
        name: "Demo Company (NZ)",
      }),
    },
  ];
  const data = new Map<string, TenantData>(tenants.map((t) => [t.id, emptyTenantData()]));
  const state = {
    calls: [] as ApiCall[],
    tokenCalls: [] as { grant: string; at: number }[],
    revoked: [] as string[],
    disconnected: [] as string[],
    faults: [] as Fault[],
    /** Refresh tokens Xero would still accept. */
    liveRefreshTokens: new Set<string>(),
    liveAccessTokens: new Set<string>(),
    issued: 0,
    inFlight: 0,
    peakInFlight: 0,
    /** 429s the fake had to send because a limit was exceeded (not injected faults). */
    violations: 0,
    perTenantStarts: new Map<string, number[]>(),
    dayCount: new Map<string, number>(),
    codes: new Set<string>(["good-code"]),
    /** Answers already given per Idempotency-Key (Xero replays them for a repeated PUT/POST). */
    idempotent: new Map<string, unknown>(),
    invoicesCreated: 0,
  };
  const perMinute = opts.perMinute ?? 60;
  const perDay = opts.perDay ?? 5000;
  const concurrent = opts.concurrent ?? 5;

  async function idToken() {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      email: "owner@example.com",
      given_name: "Test",
      family_name: "Owner",
      xero_userid: "u1",
    })
      .setProtectedHeader({ alg: "RS256", kid: "test-key" })
      .setIssuer(IDENTITY)
      .setAudience(CLIENT_ID)
      .setSubject("user-1")
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey as KeyLike);
  }

  async function issueTokens(withIdToken: boolean) {
    state.issued++;
    const access = `access-${state.issued}`;
    const refresh = `refresh-${state.issued}`;
    state.liveAccessTokens.add(access);
    state.liveRefreshTokens.add(refresh);
    return {
      ...(withIdToken ? { id_token: await idToken() } : {}),
      access_token: access,
      expires_in: opts.expiresIn ?? 1800,
      token_type: "Bearer",
      refresh_token: refresh,
      scope:
        "openid profile email offline_access accounting.invoices accounting.payments.read accounting.contacts accounting.settings.read",
    };
  }

  function basicAuthOk(request: Request) {
    const auth = request.headers.get("authorization") ?? "";
    return auth === `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`;
  }

  function rateHeaders(tenantId: string): Record<string, string> {
    const starts = state.perTenantStarts.get(tenantId) ?? [];
    return {
      "X-MinLimit-Remaining": String(Math.max(0, perMinute - starts.length)),
      "X-DayLimit-Remaining": String(Math.max(0, perDay - (state.dayCount.get(tenantId) ?? 0))),
      "X-AppMinLimit-Remaining": "9999",
    };
  }

  /** Counts the call; answers 429 when it breaks a limit (which a well-behaved client never does). */
  function admit(tenantId: string): Response | undefined {
    const now = clock.now();
    const starts = (state.perTenantStarts.get(tenantId) ?? []).filter((t) => t > now - 60_000);
    state.perTenantStarts.set(tenantId, starts);
    const day = state.dayCount.get(tenantId) ?? 0;
    let problem: string | undefined;
    if (day >= perDay) problem = "day";
    else if (starts.length >= perMinute) problem = "minute";
    else if (state.inFlight >= concurrent) problem = "concurrent";
    if (problem) {
      state.violations++;
      const retry =
        problem === "day"
          ? 3600 * 5
          : problem === "minute"
            ? Math.ceil((starts[0]! + 60_000 - now) / 1000)
            : 1;
      return new HttpResponse(null, {
        status: 429,
        headers: { "Retry-After": String(retry), "X-Rate-Limit-Problem": problem, ...rateHeaders(tenantId) },
      });
    }
    starts.push(now);
    state.dayCount.set(tenantId, day + 1);
    return undefined;
  }

  function authorised(request: Request): boolean {
    const auth = request.headers.get("authorization") ?? "";
    return auth.startsWith("Bearer ") && state.liveAccessTokens.has(auth.slice(7));
  }

  const unauthorised = () =>
    HttpResponse.json(
      { Type: null, Title: "Unauthorized", Status: 401, Detail: "AuthenticationUnsuccessful" },
      { status: 401 },
    );

  /**
   * A contact as Xero lists it: with Balances.AccountsReceivable worked out from the tenant's ledger now
   * (Outstanding = open sales invoices' AmountDue less unused credit; Overdue = AmountDue of those past due).
   */
  function withBalances(t: TenantData, c: XeroRecord): XeroRecord {
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    const mine = (r: XeroRecord) => r.Contact?.ContactID === c.ContactID;
    const cents = (n: number) => Math.round(n * 100);
    const open = t.Invoices.filter(
      (i) => mine(i) && (i.Type ?? "ACCREC") === "ACCREC" && ["AUTHORISED", "SUBMITTED"].includes(i.Status),
    );
    const due = open.reduce((n, i) => n + cents(Number(i.AmountDue)), 0);
    const overdue = open
      .filter((i) => String(i.DueDateString ?? "").slice(0, 10) < today)
      .reduce((n, i) => n + cents(Number(i.AmountDue)), 0);
    const credit = [...t.CreditNotes, ...t.Overpayments, ...t.Prepayments]
      .filter((r) => mine(r) && r.Status === "AUTHORISED")
      .reduce((n, r) => n + cents(Number(r.RemainingCredit ?? 0)), 0);
    if (due === 0 && credit === 0 && !open.length && !c.Balances) return c;
    return {
      ...c,
      Balances: {
        AccountsReceivable: { Outstanding: (due - credit) / 100, Overdue: overdue / 100 },
        AccountsPayable: { Outstanding: 0, Overdue: 0 },
      },
    };
  }

  function list(t: TenantData, key: keyof typeof ID_FIELDS, url: URL, request: Request) {
    const q = Object.fromEntries(url.searchParams);
    let rows = [...(t[key as keyof TenantData] as XeroRecord[])];
    if (key === "Contacts") rows = rows.map((c) => withBalances(t, c));
    const since = request.headers.get("if-modified-since");
    if (since) {
      const s = Date.parse(since);
      rows = rows.filter((r) => instantOf(r.UpdatedDateUTC) >= s);
    }
    if (q.IDs) {
      const ids = new Set(q.IDs.split(","));
      rows = rows.filter((r) => ids.has(r[ID_FIELDS[key]!]));
    }
    if (q.Statuses) {
      const st = new Set(q.Statuses.split(","));
      rows = rows.filter((r) => st.has(r.Status));
    }
    rows = rows.filter(whereFilter(q.where));
    if (q.includeArchived !== "true" && key === "Contacts")
      rows = rows.filter((r) => r.ContactStatus !== "ARCHIVED");
    rows.sort((a, b) => instantOf(a.UpdatedDateUTC) - instantOf(b.UpdatedDateUTC));
    const pageSize = Math.min(1000, Number(q.pageSize ?? 100));
    const page = Math.max(1, Number(q.page ?? 1));
    const itemCount = rows.length;
    const pageRows = q.page || q.pageSize ? rows.slice((page - 1) * pageSize, page * pageSize) : rows;
    return {
      Id: crypto.randomUUID(),
      Status: "OK",
      ProviderName: "Creditpulse tests",
      DateTimeUTC: msDate(clock.now()),
      pagination: { page, pageSize, pageCount: Math.ceil(itemCount / pageSize), itemCount },
      [key]: pageRows,
    };
  }

  async function api(request: Request, handler: (t: TenantData, url: URL) => Promise<Response> | Response) {
    const url = new URL(request.url);
    const tenantId = request.headers.get("xero-tenant-id");
    state.calls.push({
      method: request.method,
      path: url.pathname.replace("/api.xro/2.0", ""),
      query: Object.fromEntries(url.searchParams),
      ifModifiedSince: request.headers.get("if-modified-since"),
      tenantId,
      at: clock.now(),
    });
    state.inFlight++;
    state.peakInFlight = Math.max(state.peakInFlight, state.inFlight);
    try {
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      const fault = state.faults.findIndex((f) => !f.path || url.pathname.includes(f.path));
      if (fault >= 0) {
        const f = state.faults.splice(fault, 1)[0]!;
        return HttpResponse.json(
          (f.body ?? { Title: "fault", Status: f.status }) as Record<string, unknown>,
          {
            status: f.status,
            headers: f.headers,
          },
        );
      }
      if (!authorised(request)) return unauthorised();
      const t = tenantId ? data.get(tenantId) : undefined;
      if (!t)
        return HttpResponse.json(
          { Title: "Forbidden", Status: 403, Detail: "AuthorizationUnsuccessful" },
          { status: 403 },
        );
      state.inFlight--;
      const limited = admit(tenantId!);
      state.inFlight++;
      if (limited) return limited;
      const res = await handler(t, url);
      for (const [k, v] of Object.entries(rateHeaders(tenantId!))) res.headers.set(k, v);
      return res;
    } finally {
      state.inFlight--;
    }
  }

  const A = `${API}/api.xro/2.0`;
  const onlineInvoiceUrls = new Map<string, string>();
  const handlers = [
    http.get(`${IDENTITY}/.well-known/openid-configuration`, () =>
      HttpResponse.json({
        issuer: IDENTITY,
        authorization_endpoint: "https://login.xero.com/identity/connect/authorize",
        token_endpoint: `${IDENTITY}/connect/token`,
        userinfo_endpoint: `${IDENTITY}/connect/userinfo`,
        end_session_endpoint: `${IDENTITY}/connect/endsession`,
        revocation_endpoint: `${IDENTITY}/connect/revocation`,
        jwks_uri: `${IDENTITY}/.well-known/openid-configuration/jwks`,
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        id_token_signing_alg_values_supported: ["RS256"],
        subject_types_supported: ["public"],
      }),
    ),
    http.get(`${IDENTITY}/.well-known/openid-configuration/jwks`, () => HttpResponse.json({ keys: [jwk] })),
    http.post(`${IDENTITY}/connect/token`, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      const grant = form.get("grant_type") ?? "";
      state.tokenCalls.push({ grant, at: clock.now() });
      if (!basicAuthOk(request)) return HttpResponse.json({ error: "invalid_client" }, { status: 400 });
      if (grant === "authorization_code") {
        const code = form.get("code") ?? "";
        if (!state.codes.has(code)) return HttpResponse.json({ error: "invalid_grant" }, { status: 400 });
        state.codes.delete(code);
        return HttpResponse.json(await issueTokens(true));
      }
      if (grant === "refresh_token") {
        const rt = form.get("refresh_token") ?? "";
        if (!state.liveRefreshTokens.has(rt))
          return HttpResponse.json({ error: "invalid_grant" }, { status: 400 });
        state.liveRefreshTokens.delete(rt); // single use
        return HttpResponse.json(await issueTokens(false));
      }
      return HttpResponse.json({ error: "unsupported_grant_type" }, { status: 400 });
    }),
    http.post(`${IDENTITY}/connect/revocation`, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      const token = form.get("token") ?? "";
      state.revoked.push(token);
      state.liveRefreshTokens.delete(token);
      return new HttpResponse(null, { status: 200 });
    }),
    http.get(`${API}/connections`, ({ request }) => {
      if (!authorised(request)) return unauthorised();
      return HttpResponse.json(
        tenants.map((t) => ({
          id: t.connectionId,
          authEventId: "d99ecdfe-0000-0000-0000-000000000000",
          tenantId: t.id,
          tenantType: "ORGANISATION",
          tenantName: t.name,
          createdDateUtc: "2026-11-20T09:00:00.0000000",
          updatedDateUtc: "2026-11-20T09:00:00.0000000",
        })),
      );
    }),
    http.delete(`${API}/connections/:id`, ({ request, params }) => {
      if (!authorised(request)) return unauthorised();
      state.disconnected.push(String(params.id));
      return new HttpResponse(null, { status: 204 });
    }),
    http.get(`${A}/Organisation`, ({ request }) =>
      api(request, (_t, _url) => {
        const tenant = tenants.find((x) => x.id === request.headers.get("xero-tenant-id"))!;
        return HttpResponse.json({
          Id: crypto.randomUUID(),
          Status: "OK",
          Organisations: [tenant.organisation],
        });
      }),
    ),
    ...(["Contacts", "Invoices", "Payments", "CreditNotes", "Overpayments", "Prepayments"] as const).map(
      (key) =>
        http.get(`${A}/${key}`, ({ request }) =>
          api(request, (t, url) => HttpResponse.json(list(t, key, url, request))),
        ),
    ),
    // Creating sales invoices (late-payment charges): Xero's PUT /Invoices, replayed for a repeated
    // Idempotency-Key. The new invoice is listed by GET /Invoices (a `where=Reference=="…"` finds it).
    http.put(`${A}/Invoices`, ({ request }) =>
      api(request, async (t) => {
        const key = request.headers.get("idempotency-key");
        if (key && state.idempotent.has(key))
          return HttpResponse.json(state.idempotent.get(key) as Record<string, unknown>);
        const body = (await request.json()) as XeroRecord;
        const made = (body.Invoices as XeroRecord[]).map((i) => {
          const total = (i.LineItems as XeroRecord[]).reduce(
            (n, l) => n + Math.round(Number(l.UnitAmount) * Number(l.Quantity ?? 1) * 100),
            0,
          );
          state.invoicesCreated++;
          const n = t.Invoices.length + 1;
          return {
            ...invoiceRecord({
              id: crypto.randomUUID(),
              contactId: i.Contact.ContactID,
              number: `INV-${String(n).padStart(4, "0")}`,
              date: i.Date,
              due: i.DueDate,
              total: total / 100,
              status: i.Status ?? "DRAFT",
              currency: i.CurrencyCode,
              updated: clock.now(),
              type: i.Type,
            }),
            Reference: i.Reference ?? "",
            LineItems: i.LineItems,
          };
        });
        t.Invoices.push(...made);
        const answer = { Id: crypto.randomUUID(), Status: "OK", Invoices: made };
        if (key) state.idempotent.set(key, answer);
        return HttpResponse.json(answer);
      }),
    ),
    http.get(`${A}/ContactGroups`, ({ request }) =>
      api(request, (t, url) => {
        const f = whereFilter(url.searchParams.get("where") ?? undefined);
        return HttpResponse.json({
          Id: crypto.randomUUID(),
          Status: "OK",
          ContactGroups: t.ContactGroups.filter(f),
        });
      }),
    ),
    http.put(`${A}/ContactGroups`, ({ request }) =>
      api(request, async (t) => {
        const body = (await request.json()) as XeroRecord;
        const made = (body.ContactGroups as XeroRecord[]).map((g) => ({
          ContactGroupID: crypto.randomUUID(),
          Name: g.Name,
          Status: "ACTIVE",
          Contacts: [],
          HasValidationErrors: false,
        }));
        t.ContactGroups.push(...made);
        return HttpResponse.json({ Id: crypto.randomUUID(), Status: "OK", ContactGroups: made });
      }),
    ),
    http.put(`${A}/ContactGroups/:id/Contacts`, ({ request, params }) =>
      api(request, async (t) => {
        const group = t.ContactGroups.find((g) => g.ContactGroupID === params.id);
        if (!group) return HttpResponse.json({ Message: "not found" }, { status: 404 });
        const body = (await request.json()) as XeroRecord;
        for (const c of body.Contacts as XeroRecord[])
          if (!group.Contacts.some((x: XeroRecord) => x.ContactID === c.ContactID))
            group.Contacts.push({ ContactID: c.ContactID });
        return HttpResponse.json({ Id: crypto.randomUUID(), Status: "OK", Contacts: group.Contacts });
      }),
    ),
    http.delete(`${A}/ContactGroups/:id/Contacts/:contactId`, ({ request, params }) =>
      api(request, (t) => {
        const group = t.ContactGroups.find((g) => g.ContactGroupID === params.id);
        const before = group?.Contacts.length ?? 0;
        if (group)
          group.Contacts = group.Contacts.filter((c: XeroRecord) => c.ContactID !== params.contactId);
        if (!group || group.Contacts.length === before)
          return HttpResponse.json({ Message: "The contact was not found in the group" }, { status: 404 });
        return new HttpResponse(null, { status: 204 });
      }),
    ),
    // An invoice's online invoice (the shape of invoice-online-invoice.spec.json): Xero has one for approved sales
    // invoices; a draft, deleted or voided invoice (or a bill) is refused with a validation error, an unknown id
    // is not found. `onlineInvoiceUrls` lets a test set an invoice's URL (default: derived from its id).
    http.get(`${A}/Invoices/:id/OnlineInvoice`, ({ request, params }) =>
      api(request, (t) => {
        const inv = t.Invoices.find((i) => i.InvoiceID === params.id);
        if (!inv)
          return HttpResponse.json(
            { Type: null, Title: "Resource not found", Status: 404, Detail: "Invoice not found" },
            { status: 404 },
          );
        if ((inv.Type ?? "ACCREC") !== "ACCREC" || !["AUTHORISED", "PAID"].includes(inv.Status))
          return HttpResponse.json(
            {
              ErrorNumber: 10,
              Type: "ValidationException",
              Message: "A validation exception occurred",
              Elements: [
                {
                  ValidationErrors: [
                    { Message: "Online invoice is only available for approved sales invoices" },
                  ],
                },
              ],
            },
            { status: 400 },
          );
        const url =
          onlineInvoiceUrls.get(String(params.id)) ??
          `https://in.xero.com/${Buffer.from(String(params.id)).toString("base64url").slice(0, 40)}`;
        return HttpResponse.json({
          Id: crypto.randomUUID(),
          Status: "OK",
          ProviderName: "Creditpulse tests",
          DateTimeUTC: msDate(clock.now()),
          OnlineInvoices: [{ OnlineInvoiceUrl: url }],
        });
      }),
    ),
    ...(["Contacts", "Invoices"] as const).map((kind) =>
      http.put(`${A}/${kind}/:id/History`, ({ request, params }) =>
        api(request, async (t) => {
          const body = (await request.json()) as XeroRecord;
          const details = String(body.HistoryRecords?.[0]?.Details ?? "");
          if (details.length > 2500)
            return HttpResponse.json(
              { ErrorNumber: 10, Type: "ValidationException", Message: "Details too long" },
              { status: 400 },
            );
          t.history.push({ path: `/${kind}/${params.id}`, details });
          return HttpResponse.json({
            Id: crypto.randomUUID(),
            Status: "OK",
            HistoryRecords: [{ DateUTC: msDate(clock.now()), Details: details, ValidationErrors: [] }],
          });
        }),
      ),
    ),
  ];

  return {
    handlers,
    /** The same answers as a route table (served on a real port by test/support/fake-routes.ts). */
    routes,
    state,
    tenants,
    /** Online invoice URLs by InvoiceID, served by GET /Invoices/{id}/OnlineInvoice (default: one from the id). */
    onlineInvoiceUrls,
    data: (tenantId = tenants[0]!.id) => data.get(tenantId)!,
    /** Tokens as if a user had consented (for tests that skip the OAuth flow). */
    async grant() {
      const t = await issueTokens(false);
      return { accessToken: t.access_token, refreshToken: t.refresh_token };
    },
    /** The Xero user removed the app: every token stops working. */
    revokeAll() {
      state.liveAccessTokens.clear();
      state.liveRefreshTokens.clear();
    },
    apiCalls: (path?: string) => state.calls.filter((c) => !path || c.path === path),
    resetCounters() {
      state.calls = [];
      state.tokenCalls = [];
      state.peakInFlight = 0;
      state.violations = 0;
    },
    /** Largest number of calls the fake saw for one tenant in any rolling minute (by the injected clock). */
    maxPerMinute(tenantId = tenants[0]!.id) {
      const times = state.calls.filter((c) => c.tenantId === tenantId).map((c) => c.at);
      let best = 0;
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        while (times[i]! - times[j]! >= 60_000) j++;
        best = Math.max(best, i - j + 1);
      }
      return best;
    },
  };
}
