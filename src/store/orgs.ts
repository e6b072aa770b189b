import { asc, eq, notLike } from "drizzle-orm";
import type { Provider } from "../model";
import type { Db } from "./db";
import { newId } from "./ids";
import { organisations } from "./schema";

export type Organisation = typeof organisations.$inferSelect;

export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export async function findOrgBySlug(db: Db, slug: string): Promise<Organisation | undefined> {
  const rows = await db.select().from(organisations).where(eq(organisations.slug, slug)).limit(1);
  return rows[0];
}

/** Every organisation, by name; one still being imported (hidden slug `~import-...`) is not listed yet. */
export async function listOrgs(db: Db): Promise<Organisation[]> {
  return db
    .select()
    .from(organisations)
    .where(notLike(organisations.slug, "~import-%"))
    .orderBy(asc(organisations.name));
}

export interface NewOrganisation {
  slug: string;
  name: string;
  baseCurrency: string;
  timezone: string;
  country?: string | null;
  locale?: string;
  provider: Provider;
  isDemo?: boolean;
}

/** Creates the organisation, or returns the existing one with that slug (a re-run is a no-op). */
export async function ensureOrg(
  db: Db,
  org: NewOrganisation,
  now: number,
): Promise<{ org: Organisation; created: boolean }> {
  const inserted = await db
    .insert(organisations)
    .values({
      id: newId("org"),
      slug: org.slug,
      name: org.name,
      baseCurrency: org.baseCurrency,
      timezone: org.timezone,
      country: org.country ?? null,
      locale: org.locale ?? "en-GB",
      provider: org.provider,
      isDemo: org.isDemo ?? false,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing({ target: organisations.slug })
    .returning();
  if (inserted[0]) return { org: inserted[0], created: true };
  const existing = await findOrgBySlug(db, org.slug);
  if (!existing) throw new Error(`organisation ${org.slug} vanished while being created`);
  return { org: existing, created: false };
}
