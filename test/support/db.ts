import type { Store } from "../../src/store/db";
import { openSqliteStore } from "../../src/store/sqlite";

/** A fresh in-memory store with the committed migrations applied. */
export function testStore(): Store {
  return openSqliteStore(":memory:");
}
