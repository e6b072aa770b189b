import { afterEach, beforeEach } from "vitest";
import type { Store } from "../../src/store/db";
import { openSqliteStore } from "../../src/store/sqlite";
import { lateBound } from "./smtp";

/** A fresh in-memory store with the committed migrations applied. */
export function testStore(): Store {
  return openSqliteStore(":memory:");
}

/** A fresh store for each test of the file, closed after it. Call it at the top level of the file. */
export function useTestStore(): Store {
  let store: Store | undefined;
  beforeEach(() => {
    store = testStore();
  });
  afterEach(async () => {
    await store?.close();
  });
  return lateBound(() => store, "the test store");
}
