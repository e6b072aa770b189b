/**
 * The settings page's mail settings (`#mail`, the section the onboarding checklist's "set the sender" links to):
 * sender name and address, reply-to, owner-notice recipients, BCC and the minimum amount worth chasing, each
 * showing the environment's value that applies when it is left empty; and "Send a test email".
 */
import { z } from "zod";
import { isValidAddress } from "../../mail/address";
import { parseTypedAmount } from "../../model";
import { errorsOf, Field, FormProblem, fieldAttrs, typed } from "../form";
import { text } from "../input";
import type { SectionProps } from "./settings-section";

/** Addresses typed separated by commas, semicolons, spaces or new lines. */
const addressList = (s: string) =>
  s
    .split(/[\s,;]+/)
    .map((a) => a.trim())
    .filter(Boolean);

/** What the mail form accepts; `currency` is the organisation's base currency (the minimum amount's). */
export function mailInput(currency: string) {
  return z
    .object({
      sender_name: text,
      sender_email: text,
      reply_to: text,
      notice_emails: text,
      bcc_emails: text,
      min_amount: text,
    })
    .transform((f, ctx) => {
      const issue = (field: string, message: string) =>
        ctx.addIssue({ code: "custom", path: [field], message });
      const one = (field: string, value: string) => {
        const v = value.trim();
        if (v && !isValidAddress(v)) issue(field, `“${v.slice(0, 80)}” is not an email address.`);
        return v || null;
      };
      const many = (field: string, value: string) => {
        const list = addressList(value);
        const bad = list.filter((a) => !isValidAddress(a));
        if (bad.length)
          issue(field, `Not an email address: ${bad.map((b) => `“${b.slice(0, 60)}”`).join(", ")}.`);
        else if (list.length > 10) issue(field, "At most 10 addresses.");
        return [...new Set(list)];
      };
      const name = f.sender_name.trim();
      if (name.length > 80) issue("sender_name", "Keep the sender name to 80 characters or fewer.");
      else if (/["<>\\]/.test(name)) issue("sender_name", "The sender name cannot contain quotes, < or >.");
      const amountText = f.min_amount.trim();
      let minAmountMinor: number | null = null;
      if (amountText) {
        const minor = parseTypedAmount(amountText, currency);
        if (minor === undefined)
          issue(
            "min_amount",
            `“${amountText.slice(0, 40)}” is not an amount: enter it in ${currency}, such as 10,000 or 10000.50.`,
          );
        else minAmountMinor = minor;
      }
      return {
        senderName: name || null,
        senderEmail: one("sender_email", f.sender_email),
        replyTo: one("reply_to", f.reply_to),
        noticeEmails: many("notice_emails", f.notice_emails),
        bccEmails: many("bcc_emails", f.bcc_emails),
        minAmountMinor,
      };
    });
}

export function MailSection(p: SectionProps) {
  const { view, base, readOnly: ro, failure } = p;
  const m = view.mail;
  const errors = errorsOf(failure, "mail");
  const value = (name: keyof typeof m.stored) => typed(failure, "mail", name, m.stored[name]);
  // Plain text inputs (inputmode="email" for the keyboard): the server checks addresses and says which is wrong.
  const field = (
    name: keyof typeof m.stored,
    label: string,
    hint: string,
    inputmode: "text" | "email" = "text",
  ) => (
    <Field id={`mail-${name}`} label={label} error={errors[name]} hint={hint}>
      <input
        id={`mail-${name}`}
        name={name}
        inputmode={inputmode}
        value={value(name)}
        disabled={ro}
        size={40}
        {...fieldAttrs(`mail-${name}`, errors[name])}
      />
    </Field>
  );
  return (
    <section aria-labelledby="mail-h" id="mail">
      <h2 id="mail-h">Mail settings</h2>
      {m.missing.length ? (
        <div class="problem" role="status" data-testid="mail-missing">
          <p>Reminders cannot be sent yet. Still needed:</p>
          <ul>
            {m.missing.map((x) => (
              <li>{x}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="muted">
          Reminders go from <strong>{m.applied.from}</strong>
          {m.applied.reply_to ? <> with replies to {m.applied.reply_to}</> : null}
          {m.applied.bcc.length ? <>, a blind copy to {m.applied.bcc.join(", ")}</> : null}.
        </p>
      )}
      <FormProblem failure={failure} form="mail" />
      {failure?.form === "mail-test" ? (
        <p class="problem" role="alert" id="mail-test-error">
          {failure.errors._form}
        </p>
      ) : null}
      <form method="post" action={`${base}/mail`} class="narrow">
        {field("sender_name", "Sender name", "Shown as who the email is from, such as “Acme Ltd accounts”.")}
        {field(
          "sender_email",
          "Sender address",
          `Empty: ${m.defaults.from ?? "MAIL_FROM (not set)"}.`,
          "email",
        )}
        {field(
          "reply_to",
          "Reply-to address",
          `Where customers' replies go. Empty: ${m.defaults.reply_to ?? "the sender"}.`,
          "email",
        )}
        {field(
          "notice_emails",
          "Owner notices to",
          `Credit holds and customers' actions; separate addresses with commas. Empty: ${m.defaults.owner_email ?? "nobody"}.`,
        )}
        {field(
          "bcc_emails",
          "BCC every reminder to",
          "A blind copy of each reminder and statement; separate with commas.",
        )}
        {field(
          "min_amount",
          `Minimum amount worth chasing (${m.currency})`,
          `Invoices with less due are not chased, such as 10,000 or 10000.50. Empty: ${m.defaults.min_amount}.`,
        )}
        {ro ? null : <button type="submit">Save mail settings</button>}
      </form>
      {ro ? null : (
        <form method="post" action={`${base}/mail/test`} class="inline">
          <button type="submit" class="secondary">
            Send a test email to me
          </button>
        </form>
      )}
    </section>
  );
}
