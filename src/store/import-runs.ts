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
 * 15, 20, 25, 25, 25 ms...), finds the lock free: with steps of at most ~`holdMs` and gaps of 25 ms a waiting
 * writer gets in within about `holdMs + gapMs`. In-process writers queued on `store.atomically` get their
 * turn in the gap as well. `rows()` says how many rows the next step should take to last about `holdMs`.
 */
export class WritePacer {
  private msPerRow = 0.2;
  constructor(
    private readonly store: Store,
    readonly holdMs = 80,
    readonly gapMs = 25,
    private readonly minRows = 50,
    private readonly maxRows = 5000,
  ) {}

  rows(): number {
    return Math.max(this.minRows, Math.min(this.maxRows, Math.floor(this.holdMs / this.msPerRow)));
  }

  async step<T>(rows: number, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await this.store.atomically(work);
    const ms = performance.now() - t0;
    if (rows > 0) this.msPerRow = 0.5 * this.msPerRow + 0.5 * Math.max(0.001, ms / rows);
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

/** Marks the hidden organisation as still being worked on (so it is not taken for a dead import's). */
export async function touchHiddenOrg(store: Store, orgId: string, now: number): Promise<void> {
  await store.db.update(organisations).set({ updatedAt: now }).where(eq(organisations.id, orgId));
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
