/**
 * The settings page's Payment section (`/orgs/<slug>/settings`, and on its own at `/orgs/<slug>/settings/payment`):
 * the pay-URL template and the bank details customers see for invoices without a pay-now link. A value that
 * cannot be saved re-renders the same form (422) with the message beside its field and the member's text kept.
 * A sample PDF statement shows the saved settings as customers will see them. src/dashboard/payment.ts checks,
 * saves and renders the sample.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import {
  MAX_BANK_DETAILS_CHARS,
  MAX_PAY_URL_TEMPLATE_CHARS,
  type PaymentForm,
  type PaymentFormErrors,
  paymentSettingsOf,
  sampleStatementPdf,
  savePayment,
} from "../../dashboard/payment";
import type { Deps } from "../../deps";
import type { OrgAccess } from "../../store/accounts";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { signed } from "../components";
import { FieldError, type FieldErrors, FormProblem, fieldAttrs } from "../form";
import { memberOf, parseInput, text } from "../input";
import { Layout, OrgNav } from "../layout";

const paymentInput = z.object({ pay_url_template: text, bank_details: text });

/** The form itself: the same markup on the settings page and when a value is refused. */
function PaymentFields(props: {
  slug: string;
  values: PaymentForm;
  errors?: PaymentFormErrors;
  ro: boolean;
}) {
  const { values, errors = {}, ro } = props;
  const problem = (field: keyof PaymentForm) => <FieldError id={field} error={errors[field]} above />;
  const aria = (field: keyof PaymentForm) => fieldAttrs(field, errors[field]);
  return (
    <section aria-labelledby="pay-h" id="payment">
      <h2 id="pay-h">Payment</h2>
      <p class="muted">
        How customers pay, in reminders, on the customers' page and on PDF statements. A pay-now link from the
        ledger comes first (Xero's online invoice, QuickBooks' invoice link, a CSV <code>pay_url</code>); else
        the link below; else the bank details.
      </p>
      <form method="post" action={`/orgs/${props.slug}/settings/payment`}>
        <p class="field">
          <label for="pay_url_template">Pay-now link for invoices without one (optional)</label>
          {problem("pay_url_template")}
          <input
            id="pay_url_template"
            name="pay_url_template"
            type="text"
            inputmode="url"
            size={60}
            maxlength={MAX_PAY_URL_TEMPLATE_CHARS}
            placeholder="https://pay.example.com/?invoice={{ invoice_number }}&amount={{ amount_due }}"
            value={values.pay_url_template}
            disabled={ro}
            {...aria("pay_url_template")}
          />
        </p>
        <p class="muted">
          https:// (or http://) only. Fields: <code>{"{{ invoice_number }}"}</code> and{" "}
          <code>{"{{ amount_due }}"}</code> (a plain decimal such as 1234.50), URL-encoded.
        </p>
        <p class="field">
          <label for="bank_details">Bank details (optional)</label>
          {problem("bank_details")}
          <textarea
            id="bank_details"
            name="bank_details"
            rows={4}
            maxlength={MAX_BANK_DETAILS_CHARS}
            disabled={ro}
            {...aria("bank_details")}
          >
            {values.bank_details}
          </textarea>
        </p>
        {ro ? null : <button type="submit">Save payment settings</button>}
      </form>
      <p>
        <a href={`/orgs/${props.slug}/settings/payment/statement-preview.pdf`}>
          Preview a sample PDF statement
        </a>{" "}
        <span class="muted">(a sample customer, with the saved settings)</span>
      </p>
    </section>
  );
}

/** The settings page's Payment section, read from the store. */
export async function PaymentSection(props: { deps: Deps; access: OrgAccess }) {
  const { org, role } = props.access;
  const s = await paymentSettingsOf(props.deps, org);
  return (
    <PaymentFields
      slug={org.slug}
      values={{ pay_url_template: s.payUrlTemplate ?? "", bank_details: s.bankDetails ?? "" }}
      ro={role === "viewer"}
    />
  );
}

function paymentPage(c: Context<AppEnv>, access: OrgAccess, values: PaymentForm, errors?: PaymentFormErrors) {
  const { org } = access;
  return c.html(
    <Layout title={`Payment settings · ${org.name}`} {...signed(c)}>
      <h1>{org.name}: payment settings</h1>
      <OrgNav slug={org.slug} current="settings" />
      <FormProblem
        failure={errors && { form: "payment", values: { ...values }, errors: errors as FieldErrors }}
        form="payment"
      />
      <PaymentFields slug={org.slug} values={values} errors={errors} ro={access.role === "viewer"} />
    </Layout>,
    errors ? 422 : 200,
  );
}

export function paymentRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/orgs/:slug/settings/payment", async (c) => {
    const access = await orgAccess(c, deps);
    const s = await paymentSettingsOf(deps, access.org);
    return paymentPage(c, access, {
      pay_url_template: s.payUrlTemplate ?? "",
      bank_details: s.bankDetails ?? "",
    });
  });

  app.get("/orgs/:slug/settings/payment/statement-preview.pdf", async (c) => {
    const access = await orgAccess(c, deps);
    const pdf = await sampleStatementPdf(deps, access.org);
    return c.body(new Uint8Array(pdf), 200, {
      "content-type": "application/pdf",
      "content-disposition": 'inline; filename="statement-preview.pdf"',
      "cache-control": "no-store",
    });
  });

  app.post("/orgs/:slug/settings/payment", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const input = parseInput(paymentInput, await c.req.parseBody());
    const errors = await savePayment(deps, access.org, input, memberOf(c));
    if (errors) return paymentPage(c, access, input, errors);
    return c.redirect(`/orgs/${access.org.slug}/settings?done=payment_saved#payment`, 303);
  });

  return app;
}
