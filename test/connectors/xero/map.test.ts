import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { toConnectorError } from "../../../connectors/xero/client";
import {
  contactEmails,
  mapCredit,
  mapInvoice,
  mapPayment,
  parseXeroDate,
  parseXeroInstant,
  toMinor,
} from "../../../connectors/xero/map";
import { ianaTimeZone } from "../../../connectors/xero/timezones";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/xero/${name}`, import.meta.url), "utf8")) as Record<
    string,
    any
  >;

describe("Xero mapping (recorded shapes from Xero's OpenAPI examples)", () => {
  it("reads /Date()/ and ISO timestamps and calendar dates", () => {
    expect(parseXeroInstant("/Date(1518685950940+0000)/")).toBe(1518685950940);
    expect(parseXeroInstant("/Date(1552404447003)/")).toBe(1552404447003);
    expect(parseXeroInstant("2024-06-21T01:15:39.902")).toBe(Date.parse("2024-06-21T01:15:39.902Z"));
    expect(parseXeroDate("/Date(1539993600000+0000)/")).toBe("2018-10-20");
    expect(parseXeroDate("2018-10-20T00:00:00")).toBe("2018-10-20");
    expect(parseXeroDate("nonsense")).toBeUndefined();
    expect(toMinor(541.25, "USD")).toBe(54125);
    expect(toMinor("0.00", "NZD")).toBe(0);
    expect(toMinor(1.005, "NZD")).toBeUndefined();
    expect(toMinor(1200, "JPY")).toBe(1200);
  });

  it("maps the invoices list: statuses, amounts, due and paid dates", () => {
    const [voided, paid, open] = fixture("invoices-list.spec.json").Invoices.map(mapInvoice);
    expect(voided).toMatchObject({
      ok: { status: "void", number: "INV-0001", issueDate: "2018-10-20", dueDate: "2018-12-30" },
    });
    expect(paid).toMatchObject({
      ok: { status: "paid", amountPaidMinor: 4600, amountDueMinor: 0, currency: "NZD" },
    });
    expect((paid as { ok: { paidOn: string } }).ok.paidOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(open).toMatchObject({ ok: { status: "authorised" } });
    const single = mapInvoice(fixture("invoice-single.spec.json").Invoices[0]);
    expect(single).toMatchObject({ ok: { status: "paid", amountDueMinor: 0 } });
  });

  it("quarantine reasons: unknown currency, missing field, unknown status", () => {
    const inv = fixture("invoices-list.spec.json").Invoices[2];
    expect(mapInvoice({ ...inv, CurrencyCode: "ZZZ" })).toEqual({ error: "unknown currency ZZZ" });
    expect(mapInvoice({ ...inv, Contact: undefined })).toEqual({ error: "missing Contact.ContactID" });
    expect(mapInvoice({ ...inv, Status: "ARCHIVED" })).toEqual({ error: "unknown status ARCHIVED" });
  });

  it("emails: the contact's address plus contact persons marked IncludeInEmails", () => {
    const c = fixture("contact-single.spec.json").Contacts[0];
    const emails = contactEmails(c);
    expect(emails[0]).toBe(c.EmailAddress);
    for (const p of c.ContactPersons ?? [])
      expect(emails.includes(p.EmailAddress)).toBe(p.IncludeInEmails === true);
  });

  it("maps payments, credit notes, overpayments and prepayments with their allocations", () => {
    const [pay] = fixture("payments-list.spec.json").Payments;
    expect(mapPayment(pay)).toMatchObject({
      ok: { amountMinor: 4600, allocations: [{ amountMinor: 4600 }] },
    });
    const cn = fixture("creditnotes-list.spec.json").CreditNotes.find((x: any) => x.Type === "ACCRECCREDIT");
    expect(mapCredit("CreditNotes", cn)).toMatchObject({
      ok: { number: "CN-0005", totalMinor: 3450, remainingMinor: 3250 },
    });
    const op = fixture("overpayments-list.spec.json").Overpayments.find(
      (x: any) => x.Type === "RECEIVE-OVERPAYMENT",
    );
    expect(mapCredit("Overpayments", op)).toMatchObject({
      ok: { totalMinor: 2000, remainingMinor: 2000, status: "authorised" },
    });
    const pp = fixture("prepayments-list.spec.json").Prepayments[0];
    expect(mapCredit("Prepayments", pp)).toMatchObject({
      ok: { totalMinor: 345_000, number: "Prepayment INV-0011" },
    });
  });

  it("maps Xero's Windows timezone names to IANA zones", () => {
    const org = fixture("organisation.spec.json").Organisations[0];
    expect(ianaTimeZone(org.Timezone, org.CountryCode)).toBe("Pacific/Auckland");
    expect(ianaTimeZone("EASTERNSTANDARDTIME", "US")).toBe("America/New_York");
    expect(ianaTimeZone("GMTSTANDARDTIME", "GB")).toBe("Europe/London");
    expect(ianaTimeZone("SOMEWHERENEW", "AU")).toBe("Australia/Sydney");
    expect(ianaTimeZone(undefined, undefined)).toBe("UTC");
  });

  it("turns xero-node's JSON-string errors, axios errors and OAuth errors into ConnectorErrors", () => {
    const validation = fixture("error-400-validation-contact.spec.json");
    const asString = JSON.stringify({
      response: { statusCode: 400, body: validation, headers: {} },
      body: validation,
    });
    const e1 = toConnectorError(asString, 0);
    expect(e1.kind).toBe("invalid_data");
    expect(e1.message).toContain("already assigned to another contact");
    const e2 = toConnectorError(
      {
        response: {
          status: 429,
          data: {},
          headers: { "retry-after": "12", "x-rate-limit-problem": "minute" },
        },
      },
      0,
    );
    expect(e2).toMatchObject({ kind: "rate_limited", details: { retryAfterMs: 12_000, problem: "minute" } });
    expect(toConnectorError({ response: { status: 400, data: { error: "invalid_grant" } } }, 0).kind).toBe(
      "auth_revoked",
    );
    expect(toConnectorError({ code: "ECONNABORTED", message: "timeout of 20000ms exceeded" }, 0).kind).toBe(
      "transient",
    );
    expect(
      toConnectorError(JSON.stringify({ response: { statusCode: 503, body: "Service Unavailable" } }), 0)
        .kind,
    ).toBe("transient");
  });
});
