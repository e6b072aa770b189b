/**
 * The demo's customers: each one's profile, currency, identity, terms, invoicing rhythm and, for deteriorating
 * and defaulting customers, the date its behaviour changes.
 */
import { type CanonicalContact, currencyExponent, type IsoDate } from "../model";
import { addDays, addMonths, startOfMonth } from "./calendar";
import { createIdentityMaker, type Locale } from "./names";
import { DEMO_PROFILES, type DemoPaymentTerms, type DemoProfile, demoProfileMix } from "./profiles";
import type { Random } from "./random";
import { clamp, pad } from "./util";

/** Rough value of one unit of each currency in GBP terms, so a customer's invoices are similar in size. */
const UNITS_PER_GBP: Record<string, number> = { GBP: 1, EUR: 1.17, USD: 1.27 };

const LOCALE_BY_CURRENCY: Record<string, Locale> = { GBP: "gb", EUR: "fr", USD: "us" };

export type CustomerPlan = {
  index: number;
  externalId: string;
  profile: DemoProfile;
  changesOn: IsoDate | null;
  currency: string;
  contact: CanonicalContact;
  terms: DemoPaymentTerms;
  /** First and last dates the customer is invoiced. */
  from: IsoDate;
  until: IsoDate;
  /** Typical invoice net amount, in major units of the customer's currency. */
  typicalNet: number;
  invoicesPerMonth: number;
  /** Billed a fixed monthly amount on a fixed day (plus occasional one-off invoices). */
  retainerDay: number | null;
  /** Pays several invoices in one remittance when they fall due together. */
  batchPayer: boolean;
  vatRate: number;
  rng: Random;
};

export function planCustomers(
  rng: Random,
  count: number,
  baseCurrency: string,
  ledgerStart: IsoDate,
  asOf: IsoDate,
): CustomerPlan[] {
  const mix = demoProfileMix(count);
  const profiles = rng.shuffle(DEMO_PROFILES.flatMap((p) => Array.from({ length: mix[p] }, () => p)));

  // One currency per customer: most in the base currency, some in one or two others.
  const foreign = ["EUR", "USD", "GBP"].filter((c) => c !== baseCurrency).slice(0, 2);
  const currencies: string[] = Array.from({ length: count }, () => baseCurrency);
  const firstForeign = count >= 4 ? Math.max(1, Math.round(count * 0.12)) : 0;
  const secondForeign = count >= 8 ? Math.max(1, Math.round(count * 0.07)) : 0;
  const order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  order.slice(0, firstForeign).forEach((i) => {
    currencies[i] = foreign[0]!;
  });
  order.slice(firstForeign, firstForeign + secondForeign).forEach((i) => {
    currencies[i] = foreign[1]!;
  });

  const makeIdentity = createIdentityMaker();
  const width = Math.max(4, String(count).length);
  return profiles.map((profile, index) => {
    const c = rng.fork(`customer/${index}`);
    const currency = currencies[index]!;
    const locale = LOCALE_BY_CURRENCY[currency] ?? "gb";
    const identity = makeIdentity(c, locale);
    const externalId = `demo-contact-${pad(index + 1, width)}`;

    const terms = c.weighted<DemoPaymentTerms>([
      ["net30", 45],
      ["eom", 19],
      ["net14", 18],
      ["net60", 10],
      ["net7", 8],
    ]);
    const unitsPerGbp = UNITS_PER_GBP[currency] ?? 1;
    const typicalNet = clamp(c.logNormal(900, 1.0), 60, 60_000) * unitsPerGbp;
    const changes = profile === "deteriorating" || profile === "defaulting";
    const invoicesPerMonth = clamp(c.logNormal(1.4, 0.6), changes ? 1 : 0.35, 8);
    const retainerDay = c.chance(0.2) ? c.int(1, 5) : null;
    const vatRate = locale === "gb" ? 0.2 : 0;

    let changesOn: IsoDate | null = null;
    let from = ledgerStart;
    let until = asOf;
    if (profile === "deteriorating") {
      changesOn = startOfMonth(addMonths(asOf, -c.int(4, 9)));
    } else if (profile === "defaulting") {
      changesOn = addDays(startOfMonth(addMonths(asOf, -c.int(4, 8))), c.int(0, 27));
      // The account goes on stop a month or two after the payments dry up.
      until = addDays(changesOn, c.int(30, 75));
    } else if (profile !== "chronic_late") {
      // Some customers arrive during the two years, and a few leave.
      const joinedAfterMonths = c.chance(0.2) ? c.int(2, 16) : 0;
      from = addMonths(ledgerStart, joinedAfterMonths);
      if ((profile === "reliable" || profile === "early") && c.chance(0.08)) {
        until = addMonths(ledgerStart, c.int(Math.max(6, joinedAfterMonths + 4), 22));
      }
    }

    let creditLimitMinor: number | null = null;
    if (c.chance(0.35)) {
      const monthly = typicalNet * (1 + vatRate) * invoicesPerMonth;
      const limitMajor = Math.max(1000, Math.ceil((monthly * c.float(1.5, 4)) / 1000) * 1000);
      creditLimitMinor = limitMajor * 10 ** currencyExponent(currency);
    }

    const contact: CanonicalContact = {
      externalId,
      name: identity.name,
      emails: identity.emails,
      phone: identity.phone,
      creditLimitMinor,
      timezone: identity.timezone,
    };
    return {
      index,
      externalId,
      profile,
      changesOn,
      currency,
      contact,
      terms,
      from,
      until,
      typicalNet,
      invoicesPerMonth,
      retainerDay,
      batchPayer: c.chance(0.35),
      vatRate,
      rng: c,
    };
  });
}
