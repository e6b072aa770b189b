/**
 * Plausible, fictional customer identities for the demo ledger: company names built from word lists,
 * addresses on the reserved `.example` domain, and telephone numbers from ranges regulators reserve for
 * drama and fiction (Ofcom 020 7946 0xxx / 0113 496 0xxx / 0161 496 0xxx / 07700 900xxx, ARCEP 01 99 00 xx xx,
 * North American 555-01xx), so no generated number or address reaches a real business.
 */
import type { Random } from "./random";

const PLACES = [
  "Abbey",
  "Ashford",
  "Barrow",
  "Beacon",
  "Bramley",
  "Brook",
  "Calder",
  "Castle",
  "Cedar",
  "Chiltern",
  "Clifton",
  "Cotswold",
  "Crown",
  "Dale",
  "Derwent",
  "Eden",
  "Elm",
  "Fenland",
  "Forge",
  "Glen",
  "Granite",
  "Harbour",
  "Hawthorn",
  "Heather",
  "Highfield",
  "Kestrel",
  "Kingsway",
  "Lakeside",
  "Linden",
  "Marsh",
  "Meadow",
  "Mercia",
  "Millbrook",
  "Moorland",
  "Northgate",
  "Oakridge",
  "Orchard",
  "Pennine",
  "Priory",
  "Quayside",
  "Redwood",
  "Riverside",
  "Rowan",
  "Saxon",
  "Severn",
  "Silverdale",
  "Southbank",
  "Stonebridge",
  "Summit",
  "Tamar",
  "Thames",
  "Trent",
  "Valley",
  "Wessex",
  "Westfield",
  "Willow",
  "Windmill",
  "Wolds",
  "Wren",
  "Yew Tree",
] as const;

const SURNAMES = [
  "Adeyemi",
  "Ahmed",
  "Baker",
  "Bennett",
  "Campbell",
  "Carter",
  "Chen",
  "Clarke",
  "Davies",
  "Doyle",
  "Evans",
  "Fletcher",
  "Foster",
  "Gallagher",
  "Green",
  "Hall",
  "Harris",
  "Hughes",
  "Jackson",
  "Kaur",
  "Khan",
  "Kowalski",
  "Lewis",
  "Lloyd",
  "Macdonald",
  "Marshall",
  "Mason",
  "Morgan",
  "Murphy",
  "Nowak",
  "Okafor",
  "Owen",
  "Parker",
  "Patel",
  "Price",
  "Reid",
  "Roberts",
  "Robinson",
  "Shah",
  "Singh",
  "Stewart",
  "Taylor",
  "Thomas",
  "Turner",
  "Walker",
  "Ward",
  "Watson",
  "Webb",
  "Wright",
  "Young",
] as const;

const FIRST_NAMES = [
  "Aisha",
  "Amelia",
  "Ben",
  "Chloe",
  "Daniel",
  "Emma",
  "Fatima",
  "George",
  "Grace",
  "Hannah",
  "Harry",
  "Isla",
  "Jack",
  "James",
  "Leah",
  "Liam",
  "Maya",
  "Mohammed",
  "Noah",
  "Olivia",
  "Priya",
  "Ravi",
  "Sam",
  "Sophie",
  "Tom",
  "Zara",
] as const;

const TRADES = [
  "Architects",
  "Bakery",
  "Brewing",
  "Builders",
  "Catering",
  "Cleaning Services",
  "Construction",
  "Consulting",
  "Dental Care",
  "Design",
  "Distribution",
  "Electrical",
  "Engineering",
  "Events",
  "Fabrications",
  "Facilities",
  "Farm Supplies",
  "Fitness",
  "Florists",
  "Foods",
  "Freight",
  "Garden Centre",
  "Glazing",
  "Haulage",
  "Healthcare",
  "Hotels",
  "Interiors",
  "Joinery",
  "Landscaping",
  "Legal",
  "Logistics",
  "Manufacturing",
  "Marine",
  "Media",
  "Motors",
  "Nurseries",
  "Packaging",
  "Pharmacy",
  "Plumbing",
  "Print",
  "Properties",
  "Recruitment",
  "Roofing",
  "Scaffolding",
  "Security",
  "Software",
  "Surveyors",
  "Textiles",
  "Timber",
  "Veterinary",
] as const;

const FRENCH_NAMES = [
  "Bernard",
  "Dubois",
  "Durand",
  "Fontaine",
  "Garnier",
  "Girard",
  "Lambert",
  "Laurent",
  "Lefebvre",
  "Leroy",
  "Martin",
  "Mercier",
  "Moreau",
  "Petit",
  "Roux",
  "Simon",
] as const;

const FRENCH_TRADES = [
  "Boulangerie",
  "Conseil",
  "Distribution",
  "Emballages",
  "Immobilier",
  "Industrie",
  "Logistique",
  "Menuiserie",
  "Restauration",
  "Services",
  "Textiles",
  "Transports",
] as const;

const US_PLACES = [
  "Atlantic",
  "Bayview",
  "Cascade",
  "Frontier",
  "Granite State",
  "Great Lakes",
  "Hudson",
  "Keystone",
  "Liberty",
  "Lone Star",
  "Midwest",
  "Pacific",
  "Prairie",
  "Redwood",
  "Summit",
] as const;

export type Locale = "gb" | "fr" | "us";

export type CompanyIdentity = {
  name: string;
  /** Lowercase, hyphenated, unique: used as the email domain label. */
  slug: string;
  emails: string[];
  phone: string | null;
  timezone: string | null;
};

/** Lowercase ASCII, words joined by hyphens ("Müller & Söhne" -> "muller-sohne"). */
export function slugify(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function baseName(rng: Random, locale: Locale): string {
  if (locale === "fr") {
    return rng.chance(0.5)
      ? `${rng.pick(FRENCH_TRADES)} ${rng.pick(FRENCH_NAMES)}`
      : `${rng.pick(FRENCH_NAMES)} ${rng.pick(FRENCH_TRADES)}`;
  }
  if (locale === "us") {
    return rng.chance(0.6)
      ? `${rng.pick(US_PLACES)} ${rng.pick(TRADES)}`
      : `${rng.pick(SURNAMES)} ${rng.pick(TRADES)}`;
  }
  return rng.weighted<() => string>([
    [() => `${rng.pick(PLACES)} ${rng.pick(TRADES)}`, 5],
    [() => `${rng.pick(SURNAMES)} ${rng.pick(TRADES)}`, 3],
    [
      () => {
        const a = rng.pick(SURNAMES);
        let b = rng.pick(SURNAMES);
        while (b === a) b = rng.pick(SURNAMES);
        return `${a} & ${b}`;
      },
      2,
    ],
  ])();
}

function legalSuffix(rng: Random, locale: Locale, base: string): string {
  if (locale === "fr")
    return rng.weighted([
      ["SAS", 5],
      ["SARL", 4],
      ["SA", 1],
    ]);
  if (locale === "us")
    return rng.weighted([
      ["Inc.", 5],
      ["LLC", 4],
      ["Corp.", 1],
    ]);
  if (base.includes("&")) return rng.pick(["LLP", "Ltd"]);
  return rng.weighted([
    ["Ltd", 12],
    ["Limited", 2],
    ["plc", 1],
    ["& Co", 1],
  ]);
}

function phoneNumber(rng: Random, locale: Locale): string {
  const digits = (n: number) => String(rng.int(0, 10 ** n - 1)).padStart(n, "0");
  if (locale === "fr") return `+33 1 99 00 ${digits(2)} ${digits(2)}`;
  if (locale === "us") return `+1 ${rng.pick(["212", "312", "415", "617", "646"])} 555 01${digits(2)}`;
  return rng.weighted<() => string>([
    [() => `+44 20 7946 0${digits(3)}`, 5],
    [() => `+44 113 496 0${digits(3)}`, 2],
    [() => `+44 161 496 0${digits(3)}`, 2],
    [() => `+44 7700 900${digits(3)}`, 2],
  ])();
}

function timezoneFor(rng: Random, locale: Locale): string | null {
  if (locale === "fr") return "Europe/Paris";
  if (locale === "us")
    return rng.weighted([
      ["America/New_York", 3],
      ["America/Chicago", 2],
      ["America/Los_Angeles", 1],
    ]);
  // Home customers mostly inherit the organisation's timezone.
  return rng.chance(0.25) ? "Europe/London" : null;
}

/**
 * Makes company identities whose names (and so email domains) are unique within one ledger. Tries fresh
 * word combinations first and numbers a name only when the lists are exhausted.
 */
export function createIdentityMaker(): (rng: Random, locale: Locale) => CompanyIdentity {
  const taken = new Set<string>();
  return (rng, locale) => {
    let base = baseName(rng, locale);
    for (let tries = 0; taken.has(slugify(base)) && tries < 30; tries++) base = baseName(rng, locale);
    if (taken.has(slugify(base))) {
      const stem = base;
      for (let n = 2; taken.has(slugify(base)); n++) base = `${stem} ${n}`;
    }
    const slug = slugify(base);
    taken.add(slug);
    const suffix = legalSuffix(rng, locale, base);
    const name = suffix === "& Co" ? `${base} & Co` : `${base} ${suffix}`;

    const mailbox = rng.weighted([
      ["accounts", 6],
      ["finance", 2],
      ["ap", 1],
      ["invoices", 1],
      ["payables", 1],
    ]);
    const emails = [`${mailbox}@${slug}.example`];
    if (rng.chance(0.3)) {
      const person = `${rng.pick(FIRST_NAMES)}.${rng.pick(SURNAMES)}`.toLowerCase();
      emails.push(`${person}@${slug}.example`);
    }
    const phone = rng.chance(0.9) ? phoneNumber(rng, locale) : null;
    return { name, slug, emails, phone, timezone: timezoneFor(rng, locale) };
  };
}

/** A name for the demo organisation itself, labelled so nobody mistakes it for real books. */
export function organisationName(rng: Random): string {
  return `${rng.pick(PLACES)} ${rng.pick(["Supplies", "Wholesale", "Trading", "Services"])} Ltd (demo)`;
}
