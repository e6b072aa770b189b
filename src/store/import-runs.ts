/**
 * Long writers (the CSV import) without long locks. A first import builds the new organisation under a hidden
 * slug (`~import-...`: no user, listing, job or URL can reach it), committing in short transactions paced so
 * other writers get the database between them; a final short transaction gives it its real slug. A failed or
 * interrupted import is purged, so what users see is all or nothing. See README "CSV import".
 */
import { and, eq, isNull, like, lt, sql } from "drizzle-orm";
import type { Store } from "./db";
import { newId } from "./ids";
import { invoiceDisputes, invoices, organisations } from "./schema";

/** Slugs of organisations still being imported start with this; SLUG_RE never accepts it. */
export const HIDDEN_SLUG_PREFIX = "~import-";

export function hiddenSlug(): string {
  return `${HIDDEN_SLUG_PREFIX}${newId("org").slice(4)}`;
}

/**
 * Runs writes as a series of short transactions. Each `step` is one transaction; after it the pacer waits
 * `gapMs` so that another process's writer, sleeping in SQLite's busy handler (it retries after 1, 2, 5, 10,
 * 15, 20, 25, 25, 25 ms...), finds the lock free: with steps of at most ~100 ms and gaps of 25 ms a waiting
 * writer gets in within about `holdMs + gapMs`. When another connection has written since the last step
 * (`PRAGMA data_version` moved), steps shrink to `politeHoldMs` for two seconds, so a request making several
 * writes in a row (a sign-in) waits less for each. In-process writers queued on `store.atomically` get their
 * turn in the gap as well. `rows()` says how many rows the next step should take to last about the hold time.
 * The connection's WAL autocheckpoint is switched off while steps run and a passive checkpoint follows each step
 * (after the lock is released), so other connections never find a large WAL to checkpoint and the checkpoint's I/O
 * does not count as holding the lock; `finish()` restores the setting.
 */
export class WritePacer {
  private nextRows = 200;
  private lastVersion: number | undefined;
  private politeUntil = 0;
  /** The connection's own autocheckpoint setting, restored by `finish()`; undefined until the first step. */
  private checkpointEvery: number | undefined;
  constructor(
    private readonly store: Store,
    readonly holdMs = 80,
    readonly gapMs = 25,
    readonly politeHoldMs = 40,
    private readonly minRows = 20,
    private readonly maxRows = 5000,
  ) {}

  /** Gives the connection back its own autocheckpoint setting (call once the import is done, whatever happened). */
  async finish(): Promise<void> {
    if (!this.checkpointEvery) return;
    await this.store.runMany(`PRAGMA wal_autocheckpoint = ${Math.floor(this.checkpointEvery)}`, [[]]);
    this.checkpointEvery = undefined;
  }

  private hold(): number {
    return performance.now() < this.politeUntil ? Math.min(this.politeHoldMs, this.holdMs) : this.holdMs;
  }

  /** Rows for the next step: scaled from the last step's rows by how its time compared with the hold time. */
  rows(): number {
    return this.nextRows;
  }

  private async dataVersion(): Promise<number | undefined> {
    if (this.store.kind !== "sqlite") return undefined;
    const [rows] = await this.store.runMany("PRAGMA data_version", [[]]);
    return rows?.[0]?.[0] as number | undefined;
  }

  async step<T>(rows: number, work: () => Promise<T>): Promise<T> {
    const before = await this.dataVersion();
    if (this.lastVersion !== undefined && before !== this.lastVersion)
      this.politeUntil = performance.now() + 2000;
    if (this.checkpointEvery === undefined && this.store.kind === "sqlite") {
      // Checkpoint explicitly after each step instead of inside its COMMIT, so that the checkpoint's I/O (done
      // with the write lock already released) does not count as holding the lock when sizing steps.
      const [rows] = await this.store.runMany("PRAGMA wal_autocheckpoint", [[]]);
      this.checkpointEvery = Number(rows?.[0]?.[0] ?? 1000);
      await this.store.runMany("PRAGMA wal_autocheckpoint = 0", [[]]);
    }
    let t0 = 0;
    let out: T;
    let held = 0;
    try {
      out = await this.store.atomically(() => {
        // Timed from inside the transaction: waiting for the lock is not holding it.
        t0 = performance.now();
        return work();
      });
      held = Math.max(0.5, performance.now() - t0);
    } finally {
      if (this.checkpointEvery) await this.store.runMany("PRAGMA wal_checkpoint(PASSIVE)", [[]]);
    }
    this.lastVersion = await this.dataVersion();
    if (rows > 0) {
      const scaled = Math.round(rows * Math.min(1.5, this.hold() / held));
      this.nextRows = Math.max(this.minRows, Math.min(this.maxRows, scaled));
    }
    if (this.gapMs > 0) await new Promise((r) => setTimeout(r, this.gapMs));
    else await new Promise((r) => setImmediate(r));
    return out;
  }
}

const PURGE_ORDER = [
  "payment_allocations",
  "credit_note_allocations",
  "payments",
  "credit_notes",
  "invoice_disputes",
  "invoices",
  "contacts",
  "audit_log",
  // First-user setup makes its user owner of every organisation, hidden ones included (they would own it once
  // published); a purged import takes those memberships with it.
  "memberships",
] as const;

/** Deletes an organisation still hidden under an import slug and everything written under it, in short steps. */
export async function purgeHiddenOrg(store: Store, orgId: string, pacer: WritePacer): Promise<void> {
  const [org] = await store.db
    .select({ slug: organisations.slug })
    .from(organisations)
    .where(eq(organisations.id, orgId));
  if (!org?.slug.startsWith(HIDDEN_SLUG_PREFIX)) return;
  for (const table of PURGE_ORDER) {
    for (;;) {
      const limit = pacer.rows();
      const deleted = await pacer.step(limit, () =>
        store.runMany(
          `DELETE FROM "${table}" WHERE rowid IN (SELECT rowid FROM "${table}" WHERE org_id = ? LIMIT ?) RETURNING 1`,
          [[orgId, limit]],
        ),
      );
      if ((deleted[0]?.length ?? 0) < limit) break;
    }
  }
  await store.atomically(() =>
    store
      .runMany(`DELETE FROM dashboard_summaries WHERE org_id = ?`, [[orgId]])
      .then(() =>
        store.runMany(`DELETE FROM organisations WHERE id = ? AND slug LIKE '~import-%'`, [[orgId]]),
      ),
  );
}

/** Hidden organisations left by imports that died before `before` (epoch ms): a crash leaves nothing visible. */
export async function staleHiddenOrgs(store: Store, before: number): Promise<string[]> {
  const rows = await store.db
    .select({ id: organisations.id })
    .from(organisations)
    .where(and(like(organisations.slug, `${HIDDEN_SLUG_PREFIX}%`), lt(organisations.updatedAt, before)));
  return rows.map((r) => r.id);
}

/**
 * Gives the hidden organisation its real slug, inside the caller's transaction. False when another
 * organisation took that slug meanwhile.
 */
export async function publishHiddenOrg(
  store: Store,
  orgId: string,
  slug: string,
  now: number,
): Promise<boolean> {
  const taken = await store.db
    .select({ id: organisations.id })
    .from(organisations)
    .where(eq(organisations.slug, slug));
  if (taken.length) return false;
  await store.db
    .update(organisations)
    .set({ slug, createdAt: now, updatedAt: now })
    .where(eq(organisations.id, orgId));
  return true;
}

/**
 * Applies the `disputed` column of imported invoices, the way disputes are stored everywhere (`disputed_at`:
 * disputed invoices are neither chased nor counted). `yes`: marked disputed now unless already disputed.
 * `no`: cleared, unless the dispute was raised on the customers' page and is still open (only a bookkeeper
 * resolves those). Returns the external ids whose flag changed.
 */
export async function applyImportedDisputes(
  store: Store,
  orgId: string,
  yes: string[],
  no: string[],
  now: number,
): Promise<Set<string>> {
  const changed = new Set<string>();
  const max = Math.max(1, store.maxParams - 2);
  for (let i = 0; i < yes.length; i += max) {
    const part = yes.slice(i, i + max);
    const rows = await store.db
      .update(invoices)
      .set({ disputedAt: now })
      .where(
        and(
          eq(invoices.orgId, orgId),
          isNull(invoices.disputedAt),
          sql`${invoices.externalId} in (${sql.join(
            part.map((p) => sql`${p}`),
            sql`, `,
          )})`,
        ),
      )
      .returning({ externalId: invoices.externalId });
    for (const r of rows) changed.add(r.externalId);
  }
  for (let i = 0; i < no.length; i += max) {
    const part = no.slice(i, i + max);
    const rows = await store.db
      .update(invoices)
      .set({ disputedAt: null })
      .where(
        and(
          eq(invoices.orgId, orgId),
          sql`${invoices.disputedAt} is not null`,
          sql`${invoices.externalId} in (${sql.join(
            part.map((p) => sql`${p}`),
            sql`, `,
          )})`,
          sql`not exists (select 1 from ${invoiceDisputes} d where d.invoice_id = ${invoices.id} and d.resolved_at is null)`,
        ),
      )
      .returning({ externalId: invoices.externalId });
    for (const r of rows) changed.add(r.externalId);
  }
  return changed;
}

/** An invoice as stored, with its live payments, for comparing a re-import with the store before writing. */
export interface LiveInvoice {
  contactExternalId: string;
  number: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  totalMinor: number;
  amountPaidMinor: number;
  amountCreditedMinor: number;
  amountDueMinor: number;
  status: string;
  paidOn: string | null;
  payUrl: string | null;
  providerUpdatedAt: number | null;
  disputedAt: number | null;
  payments: {
    externalId: string;
    contactExternalId: string | null;
    date: string;
    currency: string;
    amountMinor: number;
    providerUpdatedAt: number | null;
    allocationMinor: number;
    allocationDate: string;
  }[];
}

function chunked<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Reads invoices of an organisation by external id, with their non-deleted payments (read only). */
export async function liveInvoices(
  store: Store,
  orgId: string,
  externalIds: string[],
): Promise<Map<string, LiveInvoice>> {
  const out = new Map<string, LiveInvoice>();
  const byId = new Map<string, LiveInvoice>();
  for (const part of chunked(externalIds, Math.max(1, store.maxParams - 1))) {
    const [rows] = await store.runMany(
      `SELECT i.id, i.external_id, c.external_id, i.number, i.issue_date, i.due_date, i.currency, i.total_minor,
              i.amount_paid_minor, i.amount_credited_minor, i.amount_due_minor, i.status, i.paid_on, i.pay_url,
              i.provider_updated_at, i.disputed_at
         FROM invoices i JOIN contacts c ON c.id = i.contact_id
        WHERE i.org_id = ? AND i.external_id IN (${part.map(() => "?").join(",")})`,
      [[orgId, ...part]],
    );
    for (const r of rows ?? []) {
      const inv: LiveInvoice = {
        contactExternalId: r[2] as string,
        number: r[3] as string,
        issueDate: r[4] as string,
        dueDate: r[5] as string,
        currency: r[6] as string,
        totalMinor: r[7] as number,
        amountPaidMinor: r[8] as number,
        amountCreditedMinor: r[9] as number,
        amountDueMinor: r[10] as number,
        status: r[11] as string,
        paidOn: r[12] as string | null,
        payUrl: r[13] as string | null,
        providerUpdatedAt: r[14] as number | null,
        disputedAt: r[15] as number | null,
        payments: [],
      };
      out.set(r[1] as string, inv);
      byId.set(r[0] as string, inv);
    }
  }
  for (const part of chunked([...byId.keys()], Math.max(1, store.maxParams))) {
    const [rows] = await store.runMany(
      `SELECT a.invoice_id, p.external_id, pc.external_id, p.date, p.currency, p.amount_minor, p.provider_updated_at,
              a.amount_minor, a.date
         FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
         LEFT JOIN contacts pc ON pc.id = p.contact_id
        WHERE a.invoice_id IN (${part.map(() => "?").join(",")}) AND p.deleted = 0`,
      [part],
    );
    for (const r of rows ?? [])
      byId.get(r[0] as string)?.payments.push({
        externalId: r[1] as string,
        contactExternalId: r[2] as string | null,
        date: r[3] as string,
        currency: r[4] as string,
        amountMinor: r[5] as number,
        providerUpdatedAt: r[6] as number | null,
        allocationMinor: r[7] as number,
        allocationDate: r[8] as string,
      });
  }
  return out;
}

export interface LiveContact {
  name: string;
  /** As stored (JSON text). */
  emailsJson: string;
  phone: string | null;
  deleted: boolean;
  creditLimitMinor: number | null;
  timezone: string | null;
  providerUpdatedAt: number | null;
}

/** Reads contacts of an organisation by external id (read only). */
export async function liveContacts(
  store: Store,
  orgId: string,
  externalIds: string[],
): Promise<Map<string, LiveContact>> {
  const out = new Map<string, LiveContact>();
  for (const part of chunked(externalIds, Math.max(1, store.maxParams - 1))) {
    const [rows] = await store.runMany(
      `SELECT external_id, name, emails, phone, deleted, credit_limit_minor, timezone, provider_updated_at
         FROM contacts WHERE org_id = ? AND external_id IN (${part.map(() => "?").join(",")})`,
      [[orgId, ...part]],
    );
    for (const r of rows ?? [])
      out.set(r[0] as string, {
        name: r[1] as string,
        emailsJson: r[2] as string,
        phone: r[3] as string | null,
        deleted: r[4] !== 0,
        creditLimitMinor: r[5] as number | null,
        timezone: r[6] as string | null,
        providerUpdatedAt: r[7] as number | null,
      });
  }
  return out;
}

/** The organisation's ledger version (bumped by triggers on every ledger write, whoever makes it). */
export async function orgLedgerVersion(store: Store, orgId: string): Promise<number | undefined> {
  const [o] = await store.db
    .select({ v: organisations.ledgerVersion })
    .from(organisations)
    .where(eq(organisations.id, orgId));
  return o?.v;
}
