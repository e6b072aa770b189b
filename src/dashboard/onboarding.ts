/**
 * The first-run checklist on `/`: connect Xero, connect QuickBooks, import a file, set the sender, invite your
 * team. Each item is done or not from the install's real state (connections, imported organisations, mail
 * settings, members and invitations), with the page where it is done. Reads only.
 */
import type { Deps } from "../deps";
import { onboardingFacts } from "../store/onboarding";

export type ChecklistKey = "xero" | "quickbooks" | "import" | "sender" | "team";

export interface ChecklistItem {
  key: ChecklistKey;
  label: string;
  done: boolean;
  /** Where it is done (or seen). */
  href: string;
  /** A line on what done means, or what is missing. */
  hint: string;
}

export interface Checklist {
  /** Shown to owners, and to people who belong to no organisation yet (a fresh install's first owner). */
  show: boolean;
  items: ChecklistItem[];
  done: number;
}

export async function checklistFor(deps: Deps, userId: string, firstSlug?: string): Promise<Checklist> {
  const f = await onboardingFacts(deps.store.db, userId);
  const c = deps.config;
  const mailEnv = Boolean(c.MAIL_FROM && (c.SMTP_URL || c.POSTMARK_SERVER_TOKEN));
  const settings = firstSlug ? `/orgs/${firstSlug}/settings#mail` : "/";
  const items: ChecklistItem[] = [
    {
      key: "xero",
      label: "Connect Xero",
      done: f.connected.includes("xero"),
      href: "/connect/xero",
      hint: c.xeroConfigured
        ? "Sign in to Xero and choose the organisations"
        : "Register the app first: the steps are one click away",
    },
    {
      key: "quickbooks",
      label: "Connect QuickBooks",
      done: f.connected.includes("quickbooks"),
      href: "/connect/quickbooks",
      hint: c.quickbooksConfigured
        ? "Sign in to QuickBooks Online and choose the company"
        : "Register the app first: the steps are one click away",
    },
    {
      key: "import",
      label: "Import a file",
      done: f.csvOrgs > 0,
      href: "/import",
      hint: "Invoices (and payments, customers) as CSV from any other system",
    },
    {
      key: "sender",
      label: "Set the sender",
      done: f.sendersStored > 0 || mailEnv,
      href: settings,
      hint:
        f.sendersStored > 0
          ? "A sender address is saved in the mail settings"
          : mailEnv
            ? `Mail goes out as ${c.MAIL_FROM}`
            : "The name and address your reminders come from",
    },
    {
      key: "team",
      label: "Invite your team",
      done: f.otherMembers > 0 || f.invitations > 0,
      href: "/team",
      hint: "Bookkeepers and colleagues, each with their own sign-in and role",
    },
  ];
  return {
    show: f.owned > 0 || f.orgs === 0,
    items,
    done: items.filter((i) => i.done).length,
  };
}
