import { describe, expect, it } from "vitest";
import { signToken, verifyToken } from "../../src/signed";
import { sealerFromSecret } from "../../src/store/secrets";

describe("secrets at rest", () => {
  it("seals tokens so the stored text reveals nothing and unseals them back", async () => {
    const sealer = await sealerFromSecret("a".repeat(40));
    const sealed = await sealer.seal('{"refreshToken":"rt-123"}');
    expect(sealed).not.toContain("rt-123");
    expect(await sealer.unseal(sealed)).toBe('{"refreshToken":"rt-123"}');
    expect(await sealer.seal("x")).not.toBe(await sealer.seal("x")); // fresh IV each time
  });

  it("refuses to unseal with another key or after tampering", async () => {
    const a = await sealerFromSecret("a".repeat(40));
    const b = await sealerFromSecret("b".repeat(40));
    const sealed = await a.seal("secret");
    await expect(b.unseal(sealed)).rejects.toThrow();
    // Flip one bit of the first ciphertext byte: a whole byte changes, whatever the random IV and ciphertext are.
    const [version, iv, ct] = sealed.split(".");
    const bytes = Buffer.from(ct!, "base64url");
    bytes[0] = bytes[0]! ^ 1;
    const tampered = `${version}.${iv}.${bytes.toString("base64url")}`;
    expect(tampered).not.toBe(sealed);
    await expect(a.unseal(tampered)).rejects.toThrow();
  });
});

describe("signed tokens", () => {
  const secret = "s".repeat(40);
  it("round-trips a payload until it expires", async () => {
    const t = await signToken(secret, "link", { c: "cus_1" }, 2_000);
    expect(await verifyToken(secret, "link", t, 1_000)).toEqual({ ok: true, payload: { c: "cus_1" } });
    expect(await verifyToken(secret, "link", t, 3_000)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a token signed for another purpose, with another key, or edited", async () => {
    const t = await signToken(secret, "link", { c: "cus_1" }, 2_000);
    expect((await verifyToken(secret, "oauth-state", t, 1_000)).ok).toBe(false);
    expect((await verifyToken("o".repeat(40), "link", t, 1_000)).ok).toBe(false);
    const [, exp, sig] = t.split(".");
    const forged = `${Buffer.from(JSON.stringify({ c: "cus_2" })).toString("base64url")}.${exp}.${sig}`;
    expect(await verifyToken(secret, "link", forged, 1_000)).toEqual({ ok: false, reason: "bad_signature" });
    expect((await verifyToken(secret, "link", "garbage", 1_000)).ok).toBe(false);
  });
});
