/**
 * The CSV "connector": the ledger is whatever the user imports (src/import/csv-import.ts), so there is nothing
 * to pull, and credit holds live in the store alone.
 */
import type { Connector } from "../connector";

export const csvConnector: Connector = {
  provider: "csv",
  // A CSV ledger has nothing to pull: imports bring the data.
  async *pull() {},
  async placeHold() {
    return { written: false, detail: "CSV ledger: the hold is recorded in Creditpulse only" };
  },
  async releaseHold() {
    return { written: false, detail: "CSV ledger: the release is recorded in Creditpulse only" };
  },
};
