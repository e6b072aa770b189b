/**
 * Customers with overdue invoices, with what decides whether they can be chased: their addresses (and the one
 * they asked reminders to go to), opt-out, pause, exclusion, and per overdue invoice its amount, whether it is
 * disputed and until when the customer asked it to wait. The reminders page turns this into "cannot be chased,
 * because ..." (src/http/pages/chase.ts).
 */
import { sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import type { Db } from "./db";

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

type Row = [
  id: string,
  externalId: string,
  name: string,
  emails: string,
  reminderEmail: string | null,
  excluded: number,
  optedOut: number,
  pausedUntil: string | null,
  invoiceId: string,
  number: string,
  currency: string,
  amountDue: number,
  disputed: number,
  invoicePausedUntil: string | null,
];

export async function overdueCustomers(db: Db, orgId: string, today: IsoDate): Promise<OverdueCustomer[]> {
  const rows = await db.values<Row>(sql`
    select c.id, c.external_id, c.name, c.emails, cp.reminder_email, c.excluded, c.opted_out, c.chasing_paused_until,
           i.id, i.number, i.currency, i.amount_due_minor, i.disputed_at is not null,
           (select max(p.until) from invoice_pauses p where p.invoice_id = i.id and p.until >= ${today})
    from invoices i
      join contacts c on c.id = i.contact_id
      left join customer_portal cp on cp.contact_id = c.id
    where i.org_id = ${orgId} and i.status in ('authorised', 'submitted') and i.amount_due_minor > 0
      and i.due_date < ${today} and c.deleted = 0
    order by c.name, c.id, i.due_date`);
  const out: OverdueCustomer[] = [];
  for (const r of rows) {
    let c = out.at(-1);
    if (!c || c.id !== r[0]) {
      let emails: string[] = [];
      try {
        const v: unknown = JSON.parse(r[3]);
        if (Array.isArray(v)) emails = v.filter((x): x is string => typeof x === "string");
      } catch {}
      c = {
        id: r[0],
        externalId: r[1],
        name: r[2],
        emails,
        reminderEmail: r[4],
        excluded: r[5] !== 0,
        optedOut: r[6] !== 0,
        chasingPausedUntil: r[7],
        invoices: [],
      };
      out.push(c);
    }
    c.invoices.push({
      id: r[8],
      number: r[9],
      currency: r[10],
      amountDueMinor: r[11],
      disputed: r[12] !== 0,
      pausedUntil: r[13],
    });
  }
  return out;
}
