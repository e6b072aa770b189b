import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";

describe("configuration", () => {
  it("has working defaults for a fresh machine", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ CREDITPULSE_DB: "./data/creditpulse.db", PORT: 3000, xeroConfigured: false });
  });

  it("names every bad setting", () => {
    try {
      loadConfig({ PORT: "eighty", SMTP_URL: "http://mail", QBO_ENVIRONMENT: "staging" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/PORT/);
      expect(msg).toMatch(/SMTP_URL: must start with smtp/);
      expect(msg).toMatch(/QBO_ENVIRONMENT/);
    }
  });

  it("refuses half a pair of OAuth credentials", () => {
    expect(() => loadConfig({ XERO_CLIENT_ID: "abc" })).toThrow(
      /XERO_CLIENT_ID \/ XERO_CLIENT_SECRET: set both or neither/,
    );
  });

  it("treats empty values as unset, as .env files write them", () => {
    expect(loadConfig({ PORT: "", SMTP_URL: "" }).PORT).toBe(3000);
  });
});
