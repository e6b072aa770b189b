/**
 * Credit holds after the plan: applies a run's (or a person's) hold decision once (conditional update), writes
 * it back to the ledger through the connector, and tells the owner (and, for proposals, the bookkeepers).
 * A failed write-back or notice is recorded and finished by a later run; the hold itself is never lost.
 */
import { ConnectorError } from "../../connectors/connector";
import { connectorFor } from "../../connectors/registry";
import { formatDate } from "../format";
import { domainOf } from "../mail/address";
import { classifySendError, errorText, type Mailer } from "../mail/mailer";
import { orgMail } from "../mail/org-mail";
import { dateInZone, daysBetween } from "../model";
import { baseUrlOf } from "../portal/token";
import { audit } from "../store/audit";
import {
  type CreditHoldRow,
  claimOwnerNotice,
  latestHold,
  recordOwnerNotice,
  recordWriteback,
  transitionHold,
} from "../store/hold-events";
import {
  approverEmails,
  claimProposalNotice,
  closeProposal,
  createProposal,
  type HoldProposalRow,
  recordProposalNotice,
} from "../store/holds";
import type { Organisation } from "../store/orgs";
import { loadPlanRows } from "../store/plan-rows";
import { loadTemplateOverrides, type ReminderSettings } from "../store/reminder-settings";
import { ledgerContext } from "./ledger-context";
import type { PlannedHold } from "./plan";
import { buildFields, createReminderRenderer, type ReminderFields, type RenderedMail } from "./render";
import type { HoldResult, ReminderDeps } from "./run-types";
import { reportTemplateFailure } from "./template-failure";

/** Applies hold decisions and finishes their write-back and owner notice (now, or on a later run). */
export function createHoldWorker(
  deps: Pick<ReminderDeps, "store" | "config" | "log" | "mailer" | "connectorFor" | "tokens">,
  org: Organisation,
  settings: ReminderSettings,
  now: number,
) {
  const { store, config, log } = deps;
  const { db } = store;
  const mail = orgMail(settings, config);
  const owners = mail.notice;
  const from = mail.from;
  const lookup = deps.connectorFor ?? connectorFor;

  const connectionContext = () => ledgerContext(deps, org);

  /** The audit entry of a hold step, by the reminder engine. */
  function auditHold(contactId: string, action: string, detail: Record<string, unknown>) {
    return audit(db, { orgId: org.id, contactId, actor: "reminders", action, detail }, now);
  }

  async function contactOf(contactId: string) {
    const rows = await loadPlanRows(db, org, { asOf: dateInZone(now, org.timezone), contactId });
    return rows;
  }

  function noteFor(ev: CreditHoldRow, externalId: string): { contactExternalId: string; note: string } {
    const date = dateInZone(ev.at, org.timezone);
    return {
      contactExternalId: externalId,
      note:
        ev.action === "place"
          ? `Credit hold placed by Creditpulse on ${date}: ${ev.reason}.`
          : `Credit hold released by Creditpulse on ${date}: ${ev.reason}.`,
    };
  }

  async function writeBack(ev: CreditHoldRow, externalId: string): Promise<string> {
    const latest = await latestHold(db, ev.contactId);
    if (latest && latest.id !== ev.id) {
      await recordWriteback(db, ev.id, "superseded", `superseded by ${latest.id}`);
      return "A later hold change superseded this one in the ledger.";
    }
    try {
      const connector = lookup(org.provider);
      const ctx = await connectionContext();
      const note = noteFor(ev, externalId);
      const res =
        ev.action === "place" ? await connector.placeHold(ctx, note) : await connector.releaseHold(ctx, note);
      await recordWriteback(db, ev.id, res.written ? "written" : "not_applicable", res.detail ?? null);
      await auditHold(ev.contactId, res.written ? "credit_hold.written_back" : "credit_hold.store_only", {
        holdEventId: ev.id,
        action: ev.action,
        detail: res.detail ?? null,
      });
      return res.written
        ? `The ${ev.action === "place" ? "hold" : "release"} was written to ${org.provider === "xero" ? "Xero" : "QuickBooks"}.`
        : (res.detail ?? "The hold is recorded in Creditpulse only.");
    } catch (err) {
      const text = errorText(err);
      const kind = err instanceof ConnectorError ? err.kind : "error";
      await recordWriteback(db, ev.id, "failed", `${kind}: ${text}`);
      await auditHold(ev.contactId, "credit_hold.writeback_failed", {
        holdEventId: ev.id,
        action: ev.action,
        kind,
        error: text,
      });
      log.warn(
        { org: org.slug, holdEventId: ev.id, kind, error: text },
        "credit hold write-back failed; will retry",
      );
      return `Writing it to the ledger failed (${text}); Creditpulse will retry.`;
    }
  }

  /**
   * The merge fields of an owner notice about a customer (its undisputed open invoices listed oldest due first
   * when `withInvoices`), or null when the customer is gone.
   */
  async function noticeFields(
    contactId: string,
    levelName: string,
    withInvoices: boolean,
    hold: NonNullable<ReminderFields["hold"]>,
  ): Promise<ReminderFields | null> {
    const rows = await contactOf(contactId);
    const c = rows.contacts[0];
    if (!c) return null;
    const local = dateInZone(now, org.timezone);
    const invoices = withInvoices
      ? rows.invoices
          .filter((i) => i.disputedAt === null)
          .sort((a, b) => (a.dueDate < b.dueDate ? -1 : 1))
          .map((invoice) => ({ invoice, daysOverdue: daysBetween(invoice.dueDate, local) }))
      : [];
    return buildFields({
      org: { name: org.name, locale: org.locale },
      customer: { externalId: c.externalId, name: c.name, to: c.emails as string[] },
      sender: { email: settings.senderEmail, phone: settings.senderPhone },
      level: { level: 0, name: levelName, template: "owner" },
      invoices,
      links: { customerPage: null, unsubscribe: null },
      today: local,
      hold,
    });
  }

  /**
   * Renders an owner notice. A template that fails is recorded (`failed`: nothing was sent, so the notice waits
   * for the next run, after the template is fixed) and reported; the result is then null.
   */
  async function renderNotice(
    template: string,
    fields: ReminderFields,
    contactId: string,
    failed: () => Promise<void>,
  ): Promise<RenderedMail | null> {
    const renderer = createReminderRenderer({ overrides: await loadTemplateOverrides(db, org.id) });
    try {
      return await renderer.render(template, fields);
    } catch (err) {
      await failed();
      await reportTemplateFailure(deps, org, template, err, now, contactId);
      return null;
    }
  }

  /** Sends a rendered owner notice; its message id is made from the hold event's (or proposal's) id. */
  function sendNotice(mailer: Mailer, from: string, to: string[], id: string, r: RenderedMail) {
    return mailer.send({
      from,
      to,
      subject: r.subject,
      html: r.html,
      text: r.text,
      messageId: `<${id}@${domainOf(from)}>`,
      date: new Date(now),
    });
  }

  async function notifyOwner(ev: CreditHoldRow, writeback: string) {
    if (owners.length === 0 || !deps.mailer || !from) {
      if (ev.ownerNotice === "pending" && owners.length === 0)
        await recordOwnerNotice(db, ev.id, "none", now);
      return;
    }
    if (!(await claimOwnerNotice(db, ev.id, now))) return;
    const fields = await noticeFields(
      ev.contactId,
      ev.action === "place" ? "Credit hold" : "Hold released",
      ev.action === "place",
      {
        action: ev.action,
        reason: ev.reason,
        date_formatted: formatDate(dateInZone(ev.at, org.timezone), org.locale),
        writeback,
        review_url: `${baseUrlOf(config)}/orgs/${org.slug}/holds`,
      },
    );
    if (!fields) return;
    const template = ev.action === "place" ? "owner-hold" : "owner-release";
    const r = await renderNotice(template, fields, ev.contactId, () =>
      recordOwnerNotice(db, ev.id, "failed", now),
    );
    if (!r) return;
    try {
      const sent = await sendNotice(deps.mailer, from, owners, ev.id, r);
      await recordOwnerNotice(db, ev.id, "sent", now);
      await auditHold(ev.contactId, "credit_hold.owner_notified", {
        holdEventId: ev.id,
        to: owners.join(", "),
        messageId: sent.messageId,
      });
    } catch (err) {
      // Retry only what the server certainly did not take; anything that may have been accepted is left for
      // review (never resent automatically).
      const kind = classifySendError(err);
      await recordOwnerNotice(db, ev.id, kind === "retry" ? "failed" : "needs_review", now);
      await auditHold(
        ev.contactId,
        kind === "retry" ? "credit_hold.owner_notice_failed" : "credit_hold.owner_notice_needs_review",
        { holdEventId: ev.id, to: owners.join(", "), outcome: kind, error: errorText(err) },
      );
      log.warn(
        { org: org.slug, holdEventId: ev.id, outcome: kind, error: errorText(err) },
        "owner notice not delivered",
      );
    }
  }

  async function finish(ev: CreditHoldRow): Promise<void> {
    const rows = await contactOf(ev.contactId);
    const externalId = rows.contacts[0]?.externalId ?? ev.contactId;
    let writeback = "";
    if (ev.writebackStatus === "pending" || ev.writebackStatus === "failed")
      writeback = await writeBack(ev, externalId);
    else writeback = ev.writebackDetail ?? "";
    if (ev.ownerNotice === "pending" || ev.ownerNotice === "failed") await notifyOwner(ev, writeback);
  }

  /** Tells the owner and bookkeepers about a proposed hold, with a link to approve or dismiss it. */
  async function notifyProposal(p: HoldProposalRow): Promise<void> {
    const to = [...new Set([...owners, ...(await approverEmails(db, org.id))])];
    if (to.length === 0) {
      await recordProposalNotice(db, p.id, "none");
      return;
    }
    if (!deps.mailer || !from) return;
    if (!(await claimProposalNotice(db, p.id))) return;
    const fields = await noticeFields(p.contactId, "Credit hold proposed", true, {
      action: "propose",
      reason: p.reason,
      date_formatted: formatDate(dateInZone(p.proposedAt, org.timezone), org.locale),
      writeback: "Nothing is written to the ledger until you approve.",
      review_url: `${baseUrlOf(config)}/orgs/${org.slug}/holds`,
    });
    if (!fields) return;
    const r = await renderNotice("owner-hold-proposed", fields, p.contactId, () =>
      recordProposalNotice(db, p.id, "failed"),
    );
    if (!r) return;
    try {
      const sent = await sendNotice(deps.mailer, from, to, p.id, r);
      await recordProposalNotice(db, p.id, "sent");
      await auditHold(p.contactId, "credit_hold.proposal_notified", {
        proposalId: p.id,
        to,
        messageId: sent.messageId,
      });
    } catch (err) {
      if (classifySendError(err) === "retry") await recordProposalNotice(db, p.id, "failed");
      log.warn(
        { org: org.slug, proposalId: p.id, error: errorText(err) },
        "hold proposal notice not delivered",
      );
    }
  }

  /** Places or releases a hold (a run's decision or a person's), then writes it back and tells the owner. */
  async function change(
    contactId: string,
    action: "place" | "release",
    reason: string,
    by?: { actor: string; byHand?: boolean; detail?: Record<string, unknown> },
  ): Promise<CreditHoldRow | undefined> {
    const ev = await transitionHold(
      store,
      {
        orgId: org.id,
        contactId,
        action,
        reason,
        ownerNotice: owners.length > 0,
        ...(by ? { actor: by.actor, byHand: by.byHand ?? false, detail: by.detail } : {}),
      },
      now,
    );
    if (!ev) return undefined;
    log.info(
      { org: org.slug, contact: contactId, action, by: by?.actor ?? "reminders" },
      "credit hold changed",
    );
    await finish(ev);
    return ev;
  }

  return {
    finish,
    notifyProposal,
    change,
    async apply(h: PlannedHold): Promise<HoldResult["action"] | null> {
      if (h.action === "propose") {
        const p = await createProposal(
          store,
          { orgId: org.id, contactId: h.contact.id, reason: h.reason, notice: true },
          now,
        );
        if (!p) return null;
        log.info({ org: org.slug, customer: h.contact.externalId }, "credit hold proposed");
        await notifyProposal(p);
        return "proposed";
      }
      if (h.action === "withdraw") {
        const p = await closeProposal(
          store,
          { orgId: org.id, contactId: h.contact.id, status: "withdrawn", by: "reminders", reason: h.reason },
          now,
        );
        return p ? "withdrawn" : null;
      }
      const ev = await change(h.contact.id, h.action, h.reason);
      if (!ev) return null;
      // Automatic mode: a proposal left from approve mode is closed by the placement.
      if (h.action === "place")
        await closeProposal(
          store,
          {
            orgId: org.id,
            contactId: h.contact.id,
            status: "approved",
            by: "automatic",
            reason: h.reason,
            holdEventId: ev.id,
          },
          now,
        );
      return h.action === "place" ? "placed" : "released";
    },
  };
}
