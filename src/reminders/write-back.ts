/**
 * Wires the reminder engine's credit-hold write-back to the ledger: the organisation's connector and a token
 * keeper for its connection. CSV organisations need neither (their holds stay in the store).
 */
import type { Deps } from "../deps";
import type { Organisation } from "../store/orgs";
import { connectorForConnection } from "../sync/context";
import { tokenKeeperFor } from "../sync/tokens";
import type { ReminderDeps } from "./run-types";

export function writeBackFor(deps: Deps, org: Organisation): Pick<ReminderDeps, "connectorFor" | "tokens"> {
  if (org.provider === "csv") return {};
  const connector = connectorForConnection(deps, { provider: org.provider });
  return { connectorFor: () => connector, tokens: tokenKeeperFor(deps, connector) };
}
