/**
 * The connection context the reminder engine talks to the organisation's ledger with (credit-hold write-back,
 * online invoice links): the connection's ids and the run's token keeper. A CSV ledger has no connection.
 */
import { type ConnectionContext, ConnectorError } from "../../connectors/connector";
import { connectionForOrg } from "../store/connections";
import type { Organisation } from "../store/orgs";
import type { ReminderDeps } from "./run-types";

export async function ledgerContext(
  deps: Pick<ReminderDeps, "store" | "tokens">,
  org: Organisation,
): Promise<ConnectionContext> {
  if (org.provider === "csv") {
    return {
      orgId: org.id,
      connectionId: "",
      tenantId: "",
      accessToken: async () => {
        throw new ConnectorError("invalid_data", "a CSV ledger has no access token");
      },
    };
  }
  const conn = await connectionForOrg(deps.store.db, org.id);
  if (!conn)
    throw new ConnectorError("auth_revoked", `organisation ${org.slug} has no ${org.provider} connection`);
  return {
    orgId: org.id,
    connectionId: conn.id,
    tenantId: conn.tenantId,
    accessToken: () =>
      deps.tokens
        ? deps.tokens.accessToken(conn.id)
        : Promise.reject(new ConnectorError("transient", "no token keeper is wired for ledger write-back")),
  };
}
