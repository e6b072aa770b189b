/**
 * What every section of the settings page gets. The page (settings.tsx) renders its SECTIONS list in order; a
 * new section is its own component file plus one line in that list (its routes go in its own routes file,
 * mounted in src/http/dashboard.tsx).
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { settingsPage } from "../../dashboard/settings";
import type { Deps } from "../../deps";
import type { OrgAccess } from "../../store/accounts";
import type { AppEnv } from "../auth";
import type { FormFailure } from "../form";

export type SettingsView = Awaited<ReturnType<typeof settingsPage>>;

export interface SectionProps {
  c: Context<AppEnv>;
  deps: Deps;
  access: OrgAccess;
  view: SettingsView;
  /** `/orgs/<slug>/settings`: forms post under it. */
  base: string;
  /** A viewer: show, never offer a change. */
  readOnly: boolean;
  /** The form that was just posted with a problem (or a policy draft being edited), if any. */
  failure?: FormFailure;
}

export type SettingsSection = (props: SectionProps) => Child | Promise<Child>;
