import type { Clock } from "../src/clock";
import type { Config } from "../src/config";
import type { Provider } from "../src/model";
import type { Connector } from "./connector";
import { csvConnector } from "./csv/index";
import { createXeroConnector, xeroConnector } from "./xero/index";

const connectors = new Map<Provider, Connector>([
  ["csv", csvConnector],
  ["xero", xeroConnector],
]);

/** Connectors this module made from config (replaced when the config changes); explicit registrations win. */
const autoMade = new WeakSet<Connector>([xeroConnector]);
let configuredWith: Config | undefined;

/** Registers a provider's connector (each provider module calls this once it is configured). */
export function registerConnector(connector: Connector): void {
  connectors.set(connector.provider, connector);
}

/** The connector for a provider; throws when that provider is not configured on this install. */
export function connectorFor(provider: Provider): Connector {
  const c = connectors.get(provider);
  if (!c) throw new Error(`no ${provider} connector is configured`);
  return c;
}

/**
 * Applies the install's settings (daily API budget, timeouts) to the connectors this module made. Cheap to
 * call often: it only rebuilds when handed a different config. Connectors registered explicitly are kept.
 */
export function configureConnectors(config: Config, clock?: Clock): void {
  if (configuredWith === config) return;
  configuredWith = config;
  const current = connectors.get("xero");
  if (!current || autoMade.has(current)) {
    const made = createXeroConnector({
      clock,
      limits: { perDay: config.XERO_DAILY_LIMIT },
      timeoutMs: config.XERO_TIMEOUT_MS,
      base: `${config.XERO_API_URL.replace(/\/+$/, "")}/api.xro/2.0`,
    });
    autoMade.add(made);
    connectors.set("xero", made);
  }
}
