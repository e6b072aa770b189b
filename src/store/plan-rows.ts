/**
 * The rows reminder planning reads, by ONE loader for its two scopes: the whole organisation (a run's plan) and
 * one customer re-read after claiming (the re-check before anything is sent), so the two can never disagree on
 * what a row says. Every read goes through the column reader (store/columns.ts).
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { PlanContact, PlanInvoice } from "../model/reminders";
import { type ColumnArrays, readColumns } from "./columns";
import { parseEmails } from "./contacts";
import type { Db } from "./db";
import type { Organisation } from "./orgs";
import { contacts, creditHolds, holdProposals, invoices, reminders } from "./schema";
import { latestGrades } from "./scores";

export interface PlanRows {
  contacts: PlanContact[];
  invoices: PlanInvoice[];
  /** Highest day offset claimed per invoice (a level's stable identity; see reminders.offset_days). */
  claimedOffset: Map<string, number>;
  /**
   * Per contact with a credit limit, computed in SQL (planning sums it from `invoices` for the others, where it
   * does not matter).
   */
  outstandingBase?: Map<string, number>;
  /** `invoices` grouped by contact, when the loader has them so. */
  byContact?: Map<string, PlanInvoice[]>;
  /** Accepted reminders per invoice: [level offset, sent at]. */
  sentOffsets?: Map<string, [number, number][]>;
}

/**
 * What to load: the whole organisation, its open invoices that can have reached a level by `maxDueDate` (the
 * latest local date plus the longest lead of any policy); or one customer, all its open invoices, leaving out
 * the claims of `exceptEmailId` (the email being re-checked).
 */
export type PlanScope =
  | { asOf: string; maxDueDate: string; contactId?: undefined }
  | { asOf: string; contactId: string; exceptEmailId?: string };

const INVOICE = {
  id: invoices.id,
  contactId: invoices.contactId,
  number: invoices.number,
  issueDate: invoices.issueDate,
  dueDate: invoices.dueDate,
  currency: invoices.currency,
  totalMinor: invoices.totalMinor,
  amountCreditedMinor: invoices.amountCreditedMinor,
  amountDueMinor: invoices.amountDueMinor,
  status: invoices.status,
  disputedAt: invoices.disputedAt,
  payUrl: invoices.payUrl,
};

/** Contact columns planning reads, with what the contact owes in `baseCurrency` when it has a credit limit. */
const contactColumns = (baseCurrency: string) => ({
  id: contacts.id,
  externalId: contacts.externalId,
  name: contacts.name,
  /** As stored (JSON text): parseEmails reads the common case without JSON.parse. */
  emails: sql<string>`${contacts.emails}`,
  timezone: contacts.timezone,
  policyId: contacts.policyId,
  chasingPausedUntil: contacts.chasingPausedUntil,
  excluded: contacts.excluded,
  optedOut: contacts.optedOut,
  holdState: contacts.holdState,
  creditLimitMinor: contacts.creditLimitMinor,
  deleted: contacts.deleted,
  /** Amount due on open, undisputed base-currency invoices; only for contacts with a credit limit. */
  outstandingBase: sql<number | null>`case when ${contacts.creditLimitMinor} is null then null else (
      select coalesce(sum(i.amount_due_minor), 0) from invoices i
      where i.org_id = ${contacts.orgId} and i.contact_id = ${contacts.id} and i.status in ('authorised', 'submitted')
        and i.amount_due_minor > 0 and i.disputed_at is null and i.currency = ${baseCurrency}) end`,
});
type ContactColumns = ColumnArrays<ReturnType<typeof contactColumns>>;

/** Open invoices in scope. The status list is written out so SQLite can use the partial index on open invoices. */
function openInvoices(orgId: string, scope: PlanScope): SQL {
  return and(
    eq(invoices.orgId, orgId),
    sql`${invoices.status} in ('authorised', 'submitted') and ${invoices.amountDueMinor} > 0`,
    scope.contactId !== undefined
      ? eq(invoices.contactId, scope.contactId)
      : sql`${invoices.dueDate} <= ${scope.maxDueDate}`,
  )!;
}

/** An open invoice of the customer `c` (aliased `i`) exists (`dueBy`: due on or before it). */
const owesSomething = (dueBy?: string) =>
  sql`exists (select 1 from invoices i where i.org_id = ${contacts.orgId} and i.contact_id = ${contacts.id}
        and i.status in ('authorised', 'submitted') and i.amount_due_minor > 0
        ${dueBy === undefined ? sql`` : sql`and i.due_date <= ${dueBy}`})`;

interface HoldFacts {
  proposed: ReadonlySet<string>;
  declined: ReadonlyMap<string, number>;
  byHand: ReadonlySet<string>;
}

/**
 * Open proposals, the latest time a person dismissed a proposal or released a hold, and the customers on a hold
 * a person placed by hand (only a person releases it), in scope.
 */
async function holdFacts(db: Db, orgId: string, contactId: string | undefined): Promise<HoldFacts> {
  // One customer: by its id alone (its indexes), as every per-customer read below.
  const of = (orgCol: AnySQLiteColumn, contactCol: AnySQLiteColumn) =>
    contactId !== undefined ? eq(contactCol, contactId) : eq(orgCol, orgId);
  const proposed = new Set<string>();
  await readColumns(
    db,
    {
      columns: { contactId: holdProposals.contactId },
      where: and(of(holdProposals.orgId, holdProposals.contactId), sql`${holdProposals.status} = 'proposed'`),
    },
    (c) => {
      for (const id of c.contactId) proposed.add(id);
    },
  );
  const declined = new Map<string, number>();
  const later = (c: { contactId: string[]; at: (number | null)[] }, n: number) => {
    for (let k = 0; k < n; k++) {
      const at = c.at[k] ?? 0;
      if (at > (declined.get(c.contactId[k]!) ?? 0)) declined.set(c.contactId[k]!, at);
    }
  };
  await readColumns(
    db,
    {
      columns: {
        contactId: holdProposals.contactId,
        at: sql<number | null>`max(${holdProposals.decidedAt})`,
      },
      where: and(
        of(holdProposals.orgId, holdProposals.contactId),
        sql`${holdProposals.status} = 'dismissed'`,
      ),
      groupBy: holdProposals.contactId,
    },
    later,
  );
  await readColumns(
    db,
    {
      columns: { contactId: creditHolds.contactId, at: sql<number | null>`max(${creditHolds.at})` },
      where: and(
        of(creditHolds.orgId, creditHolds.contactId),
        sql`${creditHolds.action} = 'release' and ${creditHolds.actor} is not null`,
      ),
      groupBy: creditHolds.contactId,
    },
    later,
  );
  const byHand = new Set<string>();
  await readColumns(
    db,
    {
      columns: { contactId: creditHolds.contactId },
      from: sql`${creditHolds} join ${contacts} on ${contacts.id} = ${creditHolds.contactId}`,
      where: and(
        of(creditHolds.orgId, creditHolds.contactId),
        sql`${contacts.holdState} = 'on_hold' and ${creditHolds.action} = 'place' and ${creditHolds.byHand} = 1
          and ${creditHolds}.rowid = (select h2.rowid from credit_holds h2
            where h2.contact_id = ${creditHolds.contactId} and h2.action = 'place'
            order by h2.at desc, h2.rowid desc limit 1)`,
      ),
    },
    (c) => {
      for (const id of c.contactId) byHand.add(id);
    },
  );
  return { proposed, declined, byHand };
}

/**
 * Rows for planning, in `scope`. For a whole organisation this is the hot path (100,000 customers must plan
 * within a few times a bare scan of their overdue invoices), so it reads as little as can matter:
 * - the open invoices in scope, ordered by customer so that they arrive grouped;
 * - the live customers owning one of them, and those on hold (they may be released) or with a credit limit and
 *   something open (they may go over it), and those with an open proposal and nothing else to plan for (so a
 *   paid-up proposal is withdrawn), with what they owe in the base currency summed in SQL when they have a
 *   credit limit; one customer is read whatever its state (the re-check sees it deleted);
 * - the highest day offset claimed per invoice, and the accepted reminders of the invoices in scope.
 */
export async function loadPlanRows(
  db: Db,
  org: Pick<Organisation, "id" | "baseCurrency">,
  scope: PlanScope,
): Promise<PlanRows> {
  const one = scope.contactId;
  const grades = await latestGrades(db, org.id, scope.asOf, one);
  const open = openInvoices(org.id, scope);

  const planInvoices: PlanInvoice[] = [];
  const byContact = new Map<string, PlanInvoice[]>();
  await readColumns(db, { columns: INVOICE, where: open, orderBy: invoices.contactId }, (c, n) => {
    let run: PlanInvoice[] | undefined;
    let runContact = "";
    for (let k = 0; k < n; k++) {
      const inv: PlanInvoice = {
        id: c.id[k]!,
        contactId: c.contactId[k]!,
        number: c.number[k]!,
        issueDate: c.issueDate[k]!,
        dueDate: c.dueDate[k]!,
        currency: c.currency[k]!,
        totalMinor: c.totalMinor[k]!,
        amountCreditedMinor: c.amountCreditedMinor[k]!,
        amountDueMinor: c.amountDueMinor[k]!,
        status: c.status[k]!,
        disputedAt: c.disputedAt[k]!,
        payUrl: c.payUrl[k]!,
      };
      planInvoices.push(inv);
      // Grouped by the ORDER BY; a customer seen again (not expected) joins its list.
      if (run === undefined || inv.contactId !== runContact) {
        runContact = inv.contactId;
        run = byContact.get(runContact);
        if (!run) {
          run = [];
          byContact.set(runContact, run);
        }
      }
      run.push(inv);
    }
  });

  const holds = await holdFacts(db, org.id, one);
  const planContacts: PlanContact[] = [];
  const outstandingBase = new Map<string, number>();
  const add = (c: ContactColumns, n: number) => {
    for (let k = 0; k < n; k++) {
      const id = c.id[k]!;
      planContacts.push({
        id,
        externalId: c.externalId[k]!,
        name: c.name[k]!,
        emails: parseEmails(c.emails[k]!),
        timezone: c.timezone[k]!,
        policyId: c.policyId[k]!,
        chasingPausedUntil: c.chasingPausedUntil[k]!,
        excluded: c.excluded[k]!,
        optedOut: c.optedOut[k]!,
        holdState: c.holdState[k]!,
        creditLimitMinor: c.creditLimitMinor[k]!,
        deleted: c.deleted[k]!,
        grade: grades.get(id) ?? null,
        holdProposed: holds.proposed.has(id),
        holdDeclinedAt: holds.declined.get(id) ?? null,
        holdByHand: holds.byHand.has(id),
      });
      const owed = c.outstandingBase[k]!;
      if (owed !== null) outstandingBase.set(id, owed);
    }
  };
  const columns = contactColumns(org.baseCurrency);
  const live = sql`${contacts.orgId} = ${org.id} and ${contacts.deleted} = 0`;
  if (one !== undefined) {
    await readColumns(db, { columns, where: and(eq(contacts.orgId, org.id), eq(contacts.id, one)) }, add);
  } else {
    const notReachable = sql`not ${owesSomething(scope.maxDueDate)}`;
    // Customers owing something in scope.
    await readColumns(
      db,
      {
        columns,
        where: sql`${contacts.id} in (select ${invoices.contactId} from ${invoices} where ${open}) and ${live}`,
      },
      add,
    );
    // On hold, or with a credit limit and something open, and nothing in scope.
    await readColumns(
      db,
      {
        columns,
        where: sql`${live} and (${contacts.holdState} = 'on_hold' or ${contacts.creditLimitMinor} is not null)
          and (${contacts.holdState} = 'on_hold' or ${owesSomething()}) and ${notReachable}`,
      },
      add,
    );
    // With an open proposal and nothing else to plan for (so a paid-up proposal is withdrawn).
    await readColumns(
      db,
      {
        columns,
        where: sql`${contacts.id} in (select ${holdProposals.contactId} from ${holdProposals}
            where ${holdProposals.orgId} = ${org.id} and ${holdProposals.status} = 'proposed')
          and ${live} and ${contacts.holdState} <> 'on_hold' and ${contacts.creditLimitMinor} is null
          and ${notReachable}`,
      },
      add,
    );
  }

  // Claims and accepted reminders: one customer's by its id alone (its index).
  const mine = one !== undefined ? eq(reminders.contactId, one) : eq(reminders.orgId, org.id);
  const claimedOffset = new Map<string, number>();
  await readColumns(
    db,
    {
      columns: { invoiceId: reminders.invoiceId, offsetDays: sql<number>`max(${reminders.offsetDays})` },
      where: and(
        mine,
        sql`${reminders.status} <> 'failed'`,
        scope.contactId !== undefined && scope.exceptEmailId !== undefined
          ? sql`${reminders.emailId} <> ${scope.exceptEmailId}`
          : undefined,
      ),
      groupBy: reminders.invoiceId,
    },
    (c, n) => {
      for (let k = 0; k < n; k++) claimedOffset.set(c.invoiceId[k]!, c.offsetDays[k]!);
    },
  );
  const sentOffsets = new Map<string, [number, number][]>();
  await readColumns(
    db,
    {
      columns: { invoiceId: reminders.invoiceId, offsetDays: reminders.offsetDays, sentAt: reminders.sentAt },
      where: and(
        mine,
        sql`${reminders.status} = 'sent' and ${reminders.sentAt} is not null
          and ${reminders.invoiceId} in (select ${invoices.id} from ${invoices} where ${open})`,
      ),
    },
    (c, n) => {
      for (let k = 0; k < n; k++) {
        const invoiceId = c.invoiceId[k]!;
        const sent: [number, number] = [c.offsetDays[k]!, c.sentAt[k]!];
        const list = sentOffsets.get(invoiceId);
        if (list) list.push(sent);
        else sentOffsets.set(invoiceId, [sent]);
      }
    },
  );
  return {
    contacts: planContacts,
    invoices: planInvoices,
    byContact,
    claimedOffset,
    outstandingBase,
    sentOffsets,
  };
}
