/**
 * Customers with overdue invoices, with what decides whether they can be chased: their addresses (and the one
 * they asked reminders to go to), opt-out, pause, exclusion, and per overdue invoice its amount, whether it is
 * disputed and until when the customer asked it to wait. The reminders page turns this into "cannot be chased,
 * because ..." (`whyNotChased`, src/reminders/chase.ts).
 */
import { sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import { readColumns } from "./columns";
import { parseEmails } from "./contacts";
import type { Db } from "./db";
import { contacts, customerPortal, invoices } from "./schema";

export interface OverdueCustomer {
  id: string;
  externalId: string;
  name: string;
  emails: string[];
  reminderEmail: string | null;
  excluded: boolean;
  optedOut: boolean;
  chasingPausedUntil: IsoDate | null;
  invoices: {
    id: string;
    number: string;
    currency: string;
    amountDueMinor: number;
    disputed: boolean;
    pausedUntil: IsoDate | null;
  }[];
}

/** The overdue invoices of live customers with what decides chasing, one row each, by customer. */
const overdueColumns = (today: IsoDate) => ({
  id: contacts.id,
  externalId: contacts.externalId,
  name: contacts.name,
  /** As stored (JSON text). */
  emails: sql<string>`${contacts.emails}`,
  reminderEmail: customerPortal.reminderEmail,
  excluded: contacts.excluded,
  optedOut: contacts.optedOut,
  chasingPausedUntil: contacts.chasingPausedUntil,
  invoiceId: invoices.id,
  number: invoices.number,
  currency: invoices.currency,
  amountDueMinor: invoices.amountDueMinor,
  disputed: sql<number>`${invoices.disputedAt} is not null`,
  pausedUntil: sql<string | null>`(select max(p.until) from invoice_pauses p
    where p.invoice_id = ${invoices.id} and p.until >= ${today})`,
});

export async function overdueCustomers(db: Db, orgId: string, today: IsoDate): Promise<OverdueCustomer[]> {
  const out: OverdueCustomer[] = [];
  await readColumns(
    db,
    {
      columns: overdueColumns(today),
      from: sql`${invoices} join ${contacts} on ${contacts.id} = ${invoices.contactId}
        left join ${customerPortal} on ${customerPortal.contactId} = ${contacts.id}`,
      where: sql`${invoices.orgId} = ${orgId} and ${invoices.status} in ('authorised', 'submitted')
        and ${invoices.amountDueMinor} > 0 and ${invoices.dueDate} < ${today} and ${contacts.deleted} = 0`,
      orderBy: sql`${contacts.name}, ${contacts.id}, ${invoices.dueDate}`,
    },
    (r, n) => {
      for (let k = 0; k < n; k++) {
        let c = out.at(-1);
        if (!c || c.id !== r.id[k]) {
          c = {
            id: r.id[k]!,
            externalId: r.externalId[k]!,
            name: r.name[k]!,
            emails: parseEmails(r.emails[k]!),
            reminderEmail: r.reminderEmail[k]!,
            excluded: r.excluded[k]!,
            optedOut: r.optedOut[k]!,
            chasingPausedUntil: r.chasingPausedUntil[k]!,
            invoices: [],
          };
          out.push(c);
        }
        c.invoices.push({
          id: r.invoiceId[k]!,
          number: r.number[k]!,
          currency: r.currency[k]!,
          amountDueMinor: r.amountDueMinor[k]!,
          disputed: r.disputed[k] !== 0,
          pausedUntil: r.pausedUntil[k]!,
        });
      }
    },
  );
  return out;
}
