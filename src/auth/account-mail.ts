/**
 * The emails about people's accounts (invitations, password resets), sent through the install's mail
 * transport (src/mail/mailer-for.ts). A failure is reported to the caller, never thrown: the invite or reset
 * exists either way, and its link is shown to whoever asked for it where that is safe (invites).
 */
import { html } from "hono/html";
import type { Deps } from "../deps";
import { domainOf } from "../mail/address";
import { errorText } from "../mail/mailer";
import { withMailer } from "../mail/mailer-for";

export type MailOutcome =
  | { status: "sent" }
  | { status: "not_configured" }
  | { status: "failed"; reason: string };

interface AccountMail {
  to: string;
  subject: string;
  /** Paragraphs of plain text; the link is added as its own line (text) and as a button-like link (html). */
  lines: string[];
  link: string;
  linkText: string;
  kind: "invite" | "reset";
}

export async function sendAccountMail(
  deps: Pick<Deps, "config" | "clock" | "log">,
  mail: AccountMail,
): Promise<MailOutcome> {
  const from = deps.config.MAIL_FROM ?? "";
  try {
    const sent = await withMailer(deps.config, false, async (mailer) => {
      await mailer!.send({
        from,
        to: [mail.to],
        subject: mail.subject,
        text: `${mail.lines.join("\n\n")}\n\n${mail.linkText}:\n${mail.link}\n`,
        html: String(
          await html`${mail.lines.map((l) => html`<p>${l}</p>`)}<p><a href="${mail.link}">${mail.linkText}</a></p>`,
        ),
        messageId: `<${mail.kind}-${crypto.randomUUID()}@${domainOf(from)}>`,
        date: new Date(deps.clock.now()),
      });
      return true;
    });
    return sent ? { status: "sent" } : { status: "not_configured" };
  } catch (err) {
    deps.log.warn({ event: `${mail.kind}.mail_failed`, err: errorText(err) }, "account email not sent");
    return { status: "failed", reason: errorText(err) };
  }
}
