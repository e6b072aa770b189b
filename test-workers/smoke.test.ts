import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("serves the health check from D1", async () => {
  const res = await exports.default.fetch("http://creditpulse.test/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});
