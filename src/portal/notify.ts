/**
 * Tells the organisation's owner what a customer did on the customers' page. The owner is the reminder
 * engine's owner address (reminder settings, else OWNER_EMAIL). Without an owner address or SMTP the notice
 * is recorded in the audit log as skipped; a failed send is recorded too (the action itself always stands).
 */
import { html } from "hono/html";
import type { Config } from "../config";
import type { Logger } from "../log";
import { domainOf } from "../mail/address";
import { classifySendError, errorText, type Mailer } from "../mail/mailer";
import { orgMail } from "../mail/org-mail";
import { audit, CUSTOMER_ACTIONS } from "../store/audit";
import type { Store } from "../store/db";
import { newId } from "../store/ids";
import type { Organisation } from "../store/orgs";
import { loadReminderSettings } from "../store/reminder-settings";

export interface NoticeDeps {
  store: Store;
  config: Config;
  log: Logger;
  /** Used when given (tests); otherwise one is made from SMTP_URL for the notice and closed after. */
  mailer?: Mailer;
}

export interface OwnerNotice {
  org: Organisation;
  contact: { id: string; externalId: string; name: string };
  invoiceId?: string | null;
  /** What happened, in a few words ("says invoice INV-1 is paid"). */
  headline: string;
  /** Label/value lines: the facts the customer gave. */
  facts: [string, string][];
}

/** One line: no header-breaking characters in a subject. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").trim();

/** The notice's subject, text and HTML (hono's `html` escapes every value the customer or the ledger gave). */
export async function ownerNoticeMail(n: OwnerNotice) {
  const subject = oneLine(`${n.contact.name} ${n.headline}`);
  const intro = `${n.contact.name} (customer ${n.contact.externalId}) ${n.headline} on your customers' page.`;
  const text = `${[intro, "", ...n.facts.map(([k, v]) => `${k}: ${v}`), "", "This is on the customer's timeline in Creditpulse."].join("\n")}\n`;
  const rows = n.facts.map(
    ([k, v]) =>
      html`<tr><th style="text-align:left;padding:4px 8px;">${k}</th><td style="padding:4px 8px;">${v}</td></tr>`,
  );
  const page =
    await html`<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;"><p>${intro}</p><table>${rows}</table><p style="color:#6b7785;font-size:13px;">This is on the customer's timeline in Creditpulse (${n.org.name}).</p></body></html>`;
  return { subject, text, html: String(page) };
}

export type NoticeOutcome = "sent" | "skipped" | "failed";

export async function notifyOwner(deps: NoticeDeps, n: OwnerNotice, now: number): Promise<NoticeOutcome> {
  const { store, config, log } = deps;
  const settings = await loadReminderSettings(store.db, n.org);
  const mailSettings = orgMail(settings, config);
  const to = mailSettings.notice;
  const base = {
    orgId: n.org.id,
    contactId: n.contact.id,
    invoiceId: n.invoiceId ?? null,
    actor: "customer",
  };
  const smtpReady = Boolean(
    (deps.mailer || config.SMTP_URL || config.POSTMARK_SERVER_TOKEN) && mailSettings.from,
  );
  if (to.length === 0 || !smtpReady) {
    await audit(
      store.db,
      {
        ...base,
        action: CUSTOMER_ACTIONS.ownerNoticeSkipped,
        detail: {
          headline: n.headline,
          reason:
            to.length === 0
              ? "the organisation has no owner address"
              : deps.mailer || config.SMTP_URL || config.POSTMARK_SERVER_TOKEN
                ? "no sender address is set (mail settings or MAIL_FROM)"
                : "SMTP_URL and MAIL_FROM are not set",
        },
      },
      now,
    );
    return "skipped";
  }
  const mail = await ownerNoticeMail(n);
  const from = mailSettings.from!;
  let mailer = deps.mailer;
  let own = false;
  if (!mailer) {
    const { transportFor } = await import("../mail/mailer-for");
    mailer = (await transportFor(config, { timeoutMs: 10_000, pool: false }))!;
    own = true;
  }
  try {
    const sent = await mailer.send({
      from,
      to,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      messageId: `<${newId("eml")}@${domainOf(from)}>`,
      date: new Date(now),
    });
    await audit(
      store.db,
      {
        ...base,
        action: CUSTOMER_ACTIONS.ownerNotified,
        detail: { headline: n.headline, to: to.join(", "), messageId: sent.messageId },
      },
      now,
    );
    return "sent";
  } catch (err) {
    // Never resent automatically either way; "unknown" means it may have arrived (left for review).
    const outcome = classifySendError(err);
    log.warn(
      { org: n.org.slug, outcome, error: errorText(err) },
      "owner notice of a customer action not delivered",
    );
    await audit(
      store.db,
      {
        ...base,
        action: CUSTOMER_ACTIONS.ownerNoticeFailed,
        detail: { headline: n.headline, to: to.join(", "), error: errorText(err), outcome },
      },
      now,
    );
    return "failed";
  } finally {
    if (own) await mailer.close();
  }
}
