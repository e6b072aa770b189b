/**
 * A small fake of Xero's Accounting API for the Workers suite, answering the Worker's own `fetch` (the tests
 * and the Worker share one isolate): GET /api.xro/2.0/<Collection> with paging, If-Modified-Since and IDs,
 * in Xero's recorded response shape. Every call is counted.
 */
export type XeroRecord = Record<string, unknown>;

const msDate = (ms: number) => `/Date(${ms}+0000)/`;
const dayDate = (iso: string) => msDate(Date.parse(`${iso}T00:00:00Z`));
const instantOf = (d: unknown) => Number(/\/Date\((\d+)/.exec(String(d))?.[1] ?? 0);

export function contactRecord(id: string, name: string, email: string, updated: number): XeroRecord {
  return {
    ContactID: id,
    ContactStatus: "ACTIVE",
    Name: name,
    EmailAddress: email,
    Addresses: [],
    Phones: [],
    UpdatedDateUTC: msDate(updated),
    ContactGroups: [],
    IsCustomer: true,
    IsSupplier: false,
    ContactPersons: [],
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
  updated: number;
}): XeroRecord {
  const paid = i.paid ?? 0;
  const due = Math.round((i.total - paid) * 100) / 100;
  return {
    Type: "ACCREC",
    InvoiceID: i.id,
    InvoiceNumber: i.number,
    Reference: "",
    AmountDue: due,
    AmountPaid: paid,
    AmountCredited: 0,
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
    Status: due === 0 ? "PAID" : "AUTHORISED",
    LineAmountTypes: "Exclusive",
    SubTotal: i.total,
    TotalTax: 0,
    Total: i.total,
    UpdatedDateUTC: msDate(i.updated),
    CurrencyCode: "GBP",
    CurrencyRate: 1,
    Payments: [],
    CreditNotes: [],
    Prepayments: [],
    Overpayments: [],
  };
}

const ID_FIELDS: Record<string, string> = { Contacts: "ContactID", Invoices: "InvoiceID" };

export interface FakeXero {
  data: Record<string, XeroRecord[]>;
  calls: { path: string; query: Record<string, string>; tenantId: string | null }[];
  restore(): void;
}

/** Replaces the isolate's fetch for api.xero.com; anything else goes to the real fetch. */
export function installFakeXero(accessToken: string): FakeXero {
  const real = globalThis.fetch;
  const fake: FakeXero = {
    data: { Contacts: [], Invoices: [] },
    calls: [],
    restore: () => {
      globalThis.fetch = real;
    },
  };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== "api.xero.com") return real(input, init);
    const key = url.pathname.replace("/api.xro/2.0/", "");
    const q = Object.fromEntries(url.searchParams);
    fake.calls.push({ path: key, query: q, tenantId: request.headers.get("xero-tenant-id") });
    if (request.headers.get("authorization") !== `Bearer ${accessToken}`)
      return Response.json({ Title: "Unauthorized", Status: 401 }, { status: 401 });
    let rows = [...(fake.data[key] ?? [])];
    const since = request.headers.get("if-modified-since");
    if (since) rows = rows.filter((r) => instantOf(r.UpdatedDateUTC) >= Date.parse(since));
    if (q.IDs) {
      const ids = new Set(q.IDs.split(","));
      rows = rows.filter((r) => ids.has(String(r[ID_FIELDS[key] ?? ""])));
    }
    rows.sort((a, b) => instantOf(a.UpdatedDateUTC) - instantOf(b.UpdatedDateUTC));
    const pageSize = Math.min(1000, Number(q.pageSize ?? 100));
    const page = Math.max(1, Number(q.page ?? 1));
    const pageRows = q.page || q.pageSize ? rows.slice((page - 1) * pageSize, page * pageSize) : rows;
    return Response.json(
      {
        Id: crypto.randomUUID(),
        Status: "OK",
        ProviderName: "Creditpulse tests",
        DateTimeUTC: msDate(Date.now()),
        pagination: { page, pageSize, pageCount: Math.ceil(rows.length / pageSize), itemCount: rows.length },
        [key]: pageRows,
      },
      {
        headers: {
          "x-minlimit-remaining": "59",
          "x-daylimit-remaining": "4999",
          "x-appminlimit-remaining": "9999",
        },
      },
    );
  }) as typeof fetch;
  return fake;
}
