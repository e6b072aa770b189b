import { describe, expect, it } from "vitest";
import { checkPayUrlTemplate, payOptionFor, payView, safeHttpUrl } from "../../src/reminders/pay-links";
import { buildFields, createReminderRenderer } from "../../src/reminders/render";

const base = { invoiceNumber: "INV-0042", amountDueMinor: 123_450, currency: "GBP" };

describe("how a customer pays", () => {
  it("prefers the ledger's own payable invoice", () => {
    expect(
      payOptionFor({
        ...base,
        providerUrl: "https://in.xero.com/abc123",
        importedUrl: "https://pay.example.com/x",
        template: "https://pay.example.com/{{ invoice_number }}",
        bankDetails: "Sort code 00-00-00",
      }),
    ).toEqual({ kind: "link", url: "https://in.xero.com/abc123" });
  });

  it("then an imported pay_url, then the organisation's template", () => {
    expect(payOptionFor({ ...base, importedUrl: "https://pay.example.com/x" })).toEqual({
      kind: "link",
      url: "https://pay.example.com/x",
    });
    expect(
      payOptionFor({
        ...base,
        invoiceNumber: "INV 1/2&x",
        template: "https://pay.example.com/p?ref={{ invoice_number }}&amount={{amount_due}}",
      }),
    ).toEqual({ kind: "link", url: "https://pay.example.com/p?ref=INV%201%2F2%26x&amount=1234.50" });
    expect(
      payOptionFor({
        ...base,
        currency: "JPY",
        amountDueMinor: 5000,
        template: "https://p.example/{{ amount_due }}",
      }),
    ).toEqual({ kind: "link", url: "https://p.example/5000" });
  });

  it("ignores links that are not http(s) and falls back to bank details", () => {
    expect(
      payOptionFor({
        ...base,
        providerUrl: "javascript:alert(1)",
        importedUrl: "/relative/path",
        bankDetails: "  Sort code 00-00-00, account 12345678  ",
      }),
    ).toEqual({ kind: "bank", details: "Sort code 00-00-00, account 12345678" });
    expect(payOptionFor({ ...base, template: "ftp://x/{{ invoice_number }}" })).toEqual({ kind: "none" });
  });

  it("accepts only absolute http(s) URLs", () => {
    expect(safeHttpUrl("https://pay.example.com/a b")).toBe("https://pay.example.com/a%20b");
    expect(safeHttpUrl("data:text/html,hi")).toBeNull();
    expect(safeHttpUrl("pay.example.com")).toBeNull();
  });
});

describe("pay-URL templates", () => {
  it.each([
    ["https://pay.example.com/{{ invoice_number }}?a={{ amount_due }}", null],
    [
      "https://pay.example.com/{{ customer_email }}",
      "unknown field {{ customer_email }}: use {{ invoice_number }} or {{ amount_due }}",
    ],
    ["https://pay.example.com/{{ invoice_number", "a {{ … }} field is not closed"],
    ["javascript:alert({{ invoice_number }})", "the link must start with https:// (or http://)"],
  ])("%s", (template, message) => {
    expect(checkPayUrlTemplate(template)).toBe(message);
  });
});

describe("payView: the listed invoices' links and bank details", () => {
  const inv = (id: string, payUrl: string | null = null) => ({
    id,
    number: id.toUpperCase(),
    payUrl,
    amountDueMinor: 10_000,
    currency: "GBP",
  });
  const bank = { payUrlTemplate: null, bankDetails: " Sort code 00-00-00 " };

  it("prefers the provider's online invoice, keeps only http(s) links, and gives bank details for the rest", () => {
    const v = payView(
      [inv("a", "https://qbo.example/a"), inv("b", "javascript:alert(1)"), inv("c", "data:text/html,x")],
      bank,
      new Map([
        ["a", "https://in.xero.com/a"],
        ["c", "javascript:alert(2)"],
      ]),
    );
    expect([...v.links]).toEqual([["a", "https://in.xero.com/a"]]);
    expect(v.bankDetails).toBe("Sort code 00-00-00");
  });

  it("shows no bank details when every invoice has a link, and none when the organisation has none", () => {
    expect(payView([inv("a", "https://pay.example/a")], bank).bankDetails).toBeNull();
    expect(payView([inv("a")], { payUrlTemplate: null, bankDetails: "  " })).toEqual({
      links: new Map(),
      bankDetails: null,
    });
  });

  it("fills the organisation's template for invoices without a link of their own", () => {
    const v = payView([inv("a"), inv("b", "https://own.example/b")], {
      payUrlTemplate: "https://pay.example/?i={{ invoice_number }}&a={{ amount_due }}",
      bankDetails: "x",
    });
    expect(v.links.get("a")).toBe("https://pay.example/?i=A&a=100.00");
    expect(v.links.get("b")).toBe("https://own.example/b");
    expect(v.bankDetails).toBeNull();
  });

  it("names a foreign field in a template", () => {
    expect(checkPayUrlTemplate("https://pay.example/{{ customer.email }}")).toMatch(/unknown field/);
  });
});

describe("bank details in the default layouts", () => {
  it("are escaped in HTML (line breaks kept), plain in text, and left out when every invoice has a link", async () => {
    const invoice = (id: string, payUrl: string | null) => ({
      invoice: {
        id,
        contactId: "c",
        number: id.toUpperCase(),
        issueDate: "2026-01-01",
        dueDate: "2026-02-01",
        currency: "GBP",
        totalMinor: 5000,
        amountCreditedMinor: 0,
        amountDueMinor: 5000,
        status: "authorised" as const,
        disputedAt: null,
        payUrl,
      },
      daysOverdue: 10,
    });
    const render = (list: ReturnType<typeof invoice>[]) =>
      createReminderRenderer().render(
        "overdue",
        buildFields({
          org: { name: "Acme", locale: "en-GB" },
          customer: { externalId: "C1", name: "Brightside", to: ["ap@brightside.example"] },
          sender: { email: null, phone: null },
          level: { level: 2, name: "Overdue", template: "overdue" },
          invoices: list,
          links: { customerPage: null, unsubscribe: null },
          today: "2026-02-11",
          pay: payView(
            list.map((p) => p.invoice),
            { payUrlTemplate: null, bankDetails: '<img src=x onerror="alert(1)">\nSort code 00-00-00' },
          ),
        }),
      );
    const r = await render([invoice("a", "https://pay.example/a"), invoice("b", null)]);
    expect(r.html).toContain('A<br><a href="https://pay.example/a">Pay now</a>');
    expect(r.html).toContain(
      "(invoices without a Pay now link):<br>&lt;img src=x onerror=&#34;alert(1)&#34;&gt;<br />\nSort code 00-00-00</p>",
    );
    expect(r.html).not.toContain("<img");
    expect(r.text).toContain(
      'Paying by bank transfer (invoices without a pay link):\n<img src=x onerror="alert(1)">',
    );
    const linked = await render([invoice("a", "https://pay.example/a")]);
    expect(linked.html).not.toContain("bank transfer");
    expect(linked.text).not.toContain("bank transfer");
  });
});
