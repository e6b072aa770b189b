/**
 * Sending the weekly digest: for each owner and bookkeeper, build (pure) over their organisations, render
 * (liquidjs, escaped HTML), claim the (user, week) row, then send with the charts as inline PNG attachments.
 * A claimed row is sent again only when the send certainly failed (see runDigest).
 */
import { baseUrlOf } from "../base-url";
import type { Deps } from "../deps";
import { formatMoney } from "../format";
import { domainOf } from "../mail/address";
import { classifySendError, errorText, type Mailer } from "../mail/mailer";
import { dateInZone, isTimeZone } from "../model";
import { localMoment } from "../reminders/window";
import { digestRecipients, type User } from "../store/accounts";
import { claimDigest, type DigestOutcome, markDigest } from "../store/digest";
import { newId } from "../store/ids";
import { listOrgs, type Organisation } from "../store/orgs";
import { bundled, sandboxedLiquid } from "../templates/sandbox";
import { buildDigest, type DigestModel, isoWeek, type Money } from "./build";
import { loadDigestRows } from "./load";
import { barChartPng } from "./png";

export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
  attachments: { filename: string; cid: string; content: Buffer; contentType: string }[];
}

export async function renderDigest(
  model: DigestModel,
  baseUrl: string,
  locale = "en-GB",
): Promise<RenderedDigest> {
  // The digest's templates come from the in-memory bundle (templates/digest/*.liquid); nothing reads a file.
  const partials = bundled("digest");
  const html = sandboxedLiquid({ partials, html: true });
  const text = sandboxedLiquid({ partials, html: false });
  const src = async (name: string) => {
    const t = partials.get(name);
    if (t === undefined) throw new Error(`digest template ${name} not found`);
    return t;
  };
  const m = (x: Money) => formatMoney(x, locale);
  const signed = (minor: number, currency: string) =>
    `${minor > 0 ? "+" : minor < 0 ? "−" : "±"}${m({ minor: Math.abs(minor), currency })}`;
  const attachments: RenderedDigest["attachments"] = [];
  const orgs = model.orgs.map((o, i) => {
    let chartCid: string | null = null;
    if (!o.quiet && o.aging.some((a) => a.minor > 0)) {
      chartCid = `aging-${i}@creditpulse`;
      attachments.push({
        filename: `aging-${o.slug}.png`,
        cid: chartCid,
        content: barChartPng(o.aging.map((a) => a.minor)),
        contentType: "image/png",
      });
    }
    return {
      name: o.name,
      url: o.url,
      quiet: o.quiet,
      chart_cid: chartCid,
      aging_alt: o.aging
        .map((a) => `${a.label} ${m({ minor: a.minor, currency: o.baseCurrency })}`)
        .join(", "),
      overdue: o.overdue.map((t) => ({
        currency: t.currency,
        now: m({ minor: t.now, currency: t.currency }),
        change: signed(t.change, t.currency),
      })),
      newly_deteriorating: o.newlyDeteriorating,
      score_drops: o.scoreDrops,
      holds_placed: o.holdsPlaced,
      holds_released: o.holdsReleased,
      limit_breaches: o.limitBreaches.map((b) => ({
        name: b.name,
        url: b.url,
        owed: m(b.owed),
        limit: m(b.limit),
      })),
      top_overdue: o.topOverdue.map((t) => ({
        name: t.name,
        url: t.url,
        overdue: m(t.overdue),
        oldest_days: t.oldestDays,
      })),
      reminders: {
        sent: o.reminders.sent,
        invoices: o.reminders.invoices,
        paid_since: o.reminders.paidSince,
        url: o.reminders.url,
        left_for_review: o.reminders.leftForReview,
      },
      holds_awaiting: o.holdsAwaiting,
      connections: o.connectionsNeedingAttention,
      reconcile_mismatches: o.reconcileMismatches,
      cash_in: o.cashIn ? { expected: m(o.cashIn.expected), from_risky: m(o.cashIn.fromRisky) } : null,
    };
  });
  const scope = {
    week_of: model.weekOf,
    as_of: model.asOf,
    dashboard_url: `${baseUrl.replace(/\/+$/, "")}/`,
    orgs,
    quiet: orgs.filter((o) => o.quiet),
    attention_count: orgs.filter((o) => !o.quiet).length,
  };
  const subject = (await text.parseAndRender(await src("subject"), scope)).replace(/\s+/g, " ").trim();
  return {
    subject,
    html: await html.parseAndRender(await src("html"), { ...scope, subject }),
    text: `${(await text.parseAndRender(await src("text"), { ...scope, subject })).replace(/\n{3,}/g, "\n\n").trim()}\n`,
    attachments,
  };
}

export interface DigestResult {
  email: string;
  week: string;
  as_of: string;
  organisations: number;
  quiet: number;
  status: "sent" | "failed" | "skipped" | "dry_run";
  reason: string | null;
  digest?: DigestModel;
}

/** The user's timezone: their own, else their first organisation's, else UTC. */
export function userTimezone(user: User, orgs: Organisation[]): string {
  if (user.timezone && isTimeZone(user.timezone)) return user.timezone;
  return orgs[0]?.timezone ?? "UTC";
}

export interface DigestRunOptions {
  now: number;
  /** Build as of this date for everyone (the CLI); otherwise each user's local date, only when it is due. */
  asOf?: string;
  dryRun?: boolean;
  /** Only users whose local time is Monday at DIGEST_HOUR (the hourly job). */
  dueOnly?: boolean;
  /** Used when given (tests, and the jobs: SMTP or the HTTP provider); otherwise one is made from SMTP_URL. */
  mailer?: Mailer;
  /** Only this user (the digest job's message); default every recipient. */
  userId?: string;
}

/**
 * Claims each (user, week) before sending, so nobody gets a week's digest twice. A send the server certainly
 * did not take is marked "failed" and claimed again by the next run; one the server refused for good is
 * "rejected"; one whose outcome is unknown (the connection was lost after the message was sent) is
 * "needs_review": like a claim left by a run that stopped, it is never sent again automatically.
 */
export async function runDigest(deps: Deps, opts: DigestRunOptions): Promise<DigestResult[]> {
  const { db } = deps.store;
  const { config, log } = deps;
  const base = baseUrlOf(config);
  const allOrgs = new Map((await listOrgs(db)).map((o) => [o.id, o]));
  const results: DigestResult[] = [];
  const canSend = Boolean((config.SMTP_URL || opts.mailer) && config.MAIL_FROM);
  if (!opts.dryRun && !canSend) throw new Error("SMTP_URL and MAIL_FROM must be set to send the digest");
  let mailer: Mailer | null = null;
  if (!opts.dryRun && canSend) {
    if (opts.mailer) mailer = opts.mailer;
    else {
      const { createSmtpMailer } = await import("../mail/smtp-mailer");
      mailer = createSmtpMailer({ url: config.SMTP_URL! });
    }
  }
  try {
    for (const { user, orgIds } of await digestRecipients(db)) {
      if (opts.userId && user.id !== opts.userId) continue;
      const orgs = orgIds.map((id) => allOrgs.get(id)).filter((o): o is Organisation => Boolean(o));
      if (orgs.length === 0) continue;
      const tz = userTimezone(user, orgs);
      if (opts.dueOnly) {
        const local = localMoment(opts.now, tz);
        if (local.weekday !== 1 || Math.floor(local.minutes / 60) !== config.DIGEST_HOUR) continue;
      }
      const asOf = opts.asOf ?? dateInZone(opts.now, tz);
      const week = isoWeek(asOf);
      const rows = [];
      for (const org of orgs)
        rows.push(await loadDigestRows(db, org, opts.asOf ?? dateInZone(opts.now, org.timezone)));
      const model = buildDigest(rows, asOf, base, opts.now);
      const base1 = {
        email: user.email,
        week,
        as_of: asOf,
        organisations: orgs.length,
        quiet: model.quietCount,
      };
      if (opts.dryRun || !mailer) {
        results.push({ ...base1, status: "dry_run", reason: null, digest: model });
        continue;
      }
      // A week's row is claimed once; only a send that certainly failed ("failed") may be claimed again.
      if (!(await claimDigest(db, user.id, week, asOf, opts.now))) {
        results.push({ ...base1, status: "skipped", reason: "already sent (or left for review) this week" });
        continue;
      }
      const mark = (set: DigestOutcome) => markDigest(db, user.id, week, set);
      let r: RenderedDigest;
      try {
        r = await renderDigest(model, base, orgs[0]?.locale);
      } catch (err) {
        await mark({ status: "failed", lastError: errorText(err) });
        results.push({ ...base1, status: "failed", reason: errorText(err) });
        log.error({ err, user: user.id, week }, "digest failed to render");
        continue;
      }
      const from = config.MAIL_FROM!;
      try {
        const sent = await mailer.send({
          from,
          to: [user.email],
          subject: r.subject,
          html: r.html,
          text: r.text,
          messageId: `<${newId("eml")}@${domainOf(from)}>`,
          date: new Date(opts.now),
          attachments: r.attachments,
        });
        await mark({ status: "sent", sentAt: opts.now, messageId: sent.messageId });
        results.push({ ...base1, status: "sent", reason: null });
        log.info({ user: user.id, week, organisations: orgs.length }, "digest sent");
      } catch (err) {
        const kind = classifySendError(err);
        const status = kind === "retry" ? "failed" : kind === "rejected" ? "rejected" : "needs_review";
        await mark({ status, lastError: errorText(err) });
        const reason =
          kind === "retry"
            ? `the SMTP server did not accept it (${errorText(err)}); the next run retries`
            : kind === "rejected"
              ? `rejected by the SMTP server (${errorText(err)})`
              : `outcome unknown (${errorText(err)}); left for review, never resent automatically`;
        results.push({ ...base1, status: "failed", reason });
        log.error({ user: user.id, week, outcome: kind, error: errorText(err) }, "digest not delivered");
      }
    }
  } finally {
    if (mailer && !opts.mailer) await mailer.close();
  }
  return results;
}
