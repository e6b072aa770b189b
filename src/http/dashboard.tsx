/**
 * Server-rendered dashboard pages (usable without JavaScript) and the JSON API under /api/ over the same data,
 * one module per page under ./pages (the credit holds and reminders pages are mounted by app.ts beside these).
 * Every organisation is looked up through the user's memberships: any other gives 404. Changes are POST forms
 * (CSRF checked by authMiddleware), need bookkeeper or owner, and are written with their audit rows by the
 * domain functions in src/dashboard.
 */
import { Hono } from "hono";
import type { Deps } from "../deps";
import type { AppEnv } from "./auth";
import { chargesRoutes } from "./pages/charges";
import { customerRoutes } from "./pages/customer";
import { customerChangeRoutes } from "./pages/customer-changes";
import { exportRoutes } from "./pages/exports";
import { importRoutes } from "./pages/import";
import { organisationRoutes } from "./pages/organisation";
import { portfolioRoutes } from "./pages/portfolio";
import { settingsRoutes } from "./pages/settings";
import { chargesSettingsRoutes } from "./pages/settings-charges";
import { mailSettingsRoutes } from "./pages/settings-mail-routes";
import { paymentRoutes } from "./pages/settings-payment";
import { policyRoutes } from "./pages/settings-policy-routes";
import { templateRoutes } from "./pages/templates";

export function dashboardRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.route("/", portfolioRoutes(deps));
  app.route("/", organisationRoutes(deps));
  app.route("/", exportRoutes(deps));
  app.route("/", customerRoutes(deps));
  app.route("/", customerChangeRoutes(deps));
  app.route("/", settingsRoutes(deps));
  app.route("/", chargesSettingsRoutes(deps));
  app.route("/", chargesRoutes(deps));
  app.route("/", policyRoutes(deps));
  app.route("/", mailSettingsRoutes(deps));
  app.route("/", templateRoutes(deps));
  app.route("/", paymentRoutes(deps));
  app.route("/", importRoutes(deps));
  return app;
}
