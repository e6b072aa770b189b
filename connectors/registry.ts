import type { Provider } from "../src/model";
import type { Connector } from "./connector";
import { csvConnector } from "./csv/index";

const connectors = new Map<Provider, Connector>([["csv", csvConnector]]);

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
