/**
 * The team page: owners invite by email with a role (the email goes through a real SMTP inbox and the link is
 * also shown to copy), change roles, remove members, resend and revoke invitations; nobody else can, and an
 * organisation always keeps an owner. Every write has its audit row; refused writes leave nothing behind.
 */
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { createInvite, hashToken, type Role } from "../../src/store/accounts";
import { ensureOrg } from "../../src/store/orgs";
import { auditLog, invites, memberships, users } from "../../src/store/schema";
import { changeRole } from "../../src/store/team";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";
import { useInbox } from "../support/smtp";

const inbox = useInbox();
let deps: Deps;
let owner: TestSession;
let bookkeeper: TestSession;
let viewer: TestSession;
let otherOwner: TestSession;
let acmeId: string;

async function makeDeps(env: Record<string, string> = {}) {
  const d = await testDeps({
    env: { SMTP_URL: inbox.url, MAIL_FROM: "Creditpulse <team@creditpulse.test>", ...env },
  });
  const now = d.clock.now();
  const acme = await ensureOrg(
    d.store.db,
    { slug: "acme", name: "Acme Ltd", baseCurrency: "GBP", timezone: "Europe/London", provider: "csv" },
    now,
  );
  await ensureOrg(
    d.store.db,
    { slug: "globex", name: "Globex", baseCurrency: "USD", timezone: "UTC", provider: "csv" },
    now,
  );
  acmeId = acme.org.id;
  return d;
}

beforeEach(async () => {
  deps = await makeDeps();
  owner = await signIn(deps, { email: "owner@acme.test", role: "owner", orgs: ["acme"] });
  bookkeeper = await signIn(deps, { email: "books@acme.test", role: "bookkeeper", orgs: ["acme"] });
  viewer = await signIn(deps, { email: "viewer@acme.test", role: "viewer", orgs: ["acme"] });
  otherOwner = await signIn(deps, { email: "boss@globex.test", role: "owner", orgs: ["globex"] });
});
afterEach(async () => {
  await deps.store.close();
});

const FORM = { "content-type": "application/x-www-form-urlencoded", accept: "text/html" };
const post = (path: string, who: TestSession | null, fields: Record<string, string | string[]> = {}) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  return createApp(deps).request(path, {
    method: "POST",
    headers: who ? who.headers(FORM) : FORM,
    body: body.toString(),
  });
};
const get = (path: string, who: TestSession | null) =>
  createApp(deps).request(path, {
    headers: who ? { cookie: who.cookie, accept: "text/html" } : { accept: "text/html" },
  });

const auditRows = (action?: string) =>
  deps.store.db
    .select()
    .from(auditLog)
    .where(action ? eq(auditLog.action, action) : undefined);
const roleOf = async (email: string, orgId = acmeId) => {
  const [r] = await deps.store.db
    .select({ role: memberships.role })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(users.email, email), eq(memberships.orgId, orgId)));
  return r?.role;
};
const linkIn = (text: string) => /https?:\/\/[^\s"<]+\/invite\/[A-Za-z0-9_-]+/.exec(text)?.[0];

describe("who may do what on the team page", () => {
  it("every member sees their organisations' teams; only owners get the forms; signed out goes to sign in", async () => {
    const out = await get("/team", null);
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login?next=%2Fteam");

    const mine = await (await get("/team", owner)).text();
    expect(mine).toContain('action="/team/invite"');
    expect(mine).toContain("books@acme.test");
    expect(mine).toContain(`name="_csrf" value="${owner.csrf}"`);
    expect(mine).not.toContain("boss@globex.test");
    for (const s of [viewer, bookkeeper]) {
      const html = await (await get("/team", s)).text();
      expect(html).toContain("owner@acme.test"); // the list
      expect(html).not.toContain('action="/team/invite"');
      expect(html).not.toContain("/remove");
    }
    const other = await (await get("/team", otherOwner)).text();
    expect(other).not.toContain("Acme Ltd");
    expect(other).not.toContain("books@acme.test");
  });

  it("refuses every write to viewers, bookkeepers (403), another organisation's owner (404) and the signed out, writing nothing", async () => {
    const [bk] = await deps.store.db.select().from(users).where(eq(users.email, "books@acme.test"));
    const token = await createInvite(
      deps.store.db,
      { email: "x@acme.test", orgId: acmeId, role: "viewer" },
      deps.clock.now(),
    );
    const id = hashToken(token);
    const routes: [string, Record<string, string>][] = [
      ["/team/invite", { email: "new@acme.test", role: "viewer", orgs: "acme" }],
      [`/team/acme/members/${bk!.id}/role`, { role: "viewer" }],
      [`/team/acme/members/${bk!.id}/remove`, {}],
      [`/team/acme/invites/${id}/resend`, {}],
      [`/team/acme/invites/${id}/revoke`, {}],
    ];
    const before = (await auditRows()).length;
    for (const [path, fields] of routes) {
      for (const [who, status] of [
        [viewer, 403],
        [bookkeeper, 403],
        [otherOwner, 404],
        [null, 403], // no session, so no CSRF token it could have
      ] as const) {
        const res = await post(path, who, fields);
        expect(res.status, `${path} as ${who === null ? "signed out" : "member"}`).toBe(status);
      }
    }
    expect((await auditRows()).length).toBe(before);
    expect(await roleOf("books@acme.test")).toBe("bookkeeper");
    expect(await deps.store.db.select().from(invites)).toHaveLength(1);
    expect(inbox.messages).toHaveLength(0);
  });

  it("a signed-in owner's write without the CSRF token is refused", async () => {
    const res = await createApp(deps).request("/team/invite", {
      method: "POST",
      headers: { cookie: owner.cookie, ...FORM },
      body: new URLSearchParams({ email: "new@acme.test", role: "viewer", orgs: "acme" }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await deps.store.db.select().from(invites)).toHaveLength(0);
  });
});

describe("inviting", () => {
  it("emails the invitation and shows the link; the invitee sets a password and sees only that organisation", async () => {
    const res = await post("/team/invite", owner, {
      email: " New.Person@Example.com ",
      role: "bookkeeper",
      orgs: "acme",
    });
    expect(res.status).toBe(200);
    const page = await res.text();
    const shown = linkIn(page);
    expect(shown).toMatch(/^http:\/\/127\.0\.0\.1:3000\/invite\//); // HOST:PORT from the configuration (no server here)
    expect(page).toContain("We emailed the invitation to new.person@example.com");
    expect(page).toContain('id="invite-link"');

    expect(inbox.messages).toHaveLength(1);
    const mail = inbox.messages[0]!;
    expect(mail.envelope.to).toEqual(["new.person@example.com"]);
    expect(mail.parsed.subject).toBe("You are invited to Acme Ltd on Creditpulse");
    expect(mail.parsed.text).toContain("owner@acme.test has given you the bookkeeper role for Acme Ltd");
    expect(linkIn(mail.parsed.text ?? "")).toBe(shown);

    // Only the hash of the token is stored.
    const [row] = await deps.store.db.select().from(invites);
    const token = shown!.split("/invite/")[1]!;
    expect(row!.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
    const [audit] = await auditRows("team.invited");
    expect(audit).toMatchObject({ orgId: acmeId, actor: `user:${owner.userId}` });
    expect(audit!.detail).toMatchObject({
      email: "new.person@example.com",
      role: "bookkeeper",
      by: "owner@acme.test",
    });

    // Accepting: a password, a session, the organisation; the link then stops working.
    const app = createApp(deps);
    const form = await app.request(`/invite/${token}`);
    const cookies = form.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const accepted = await app.request(`/invite/${token}`, {
      method: "POST",
      headers: { cookie: cookies, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, password: "a long new password" }).toString(),
    });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get("location")).toBe("/orgs/acme");
    expect(await roleOf("new.person@example.com")).toBe("bookkeeper");
    expect(await auditRows("team.joined")).toHaveLength(1);
    expect((await app.request(`/invite/${token}`)).status).toBe(404);
    // The team page now lists them as a member, not as an open invitation.
    const team = await (await get("/team", owner)).text();
    expect(team).toContain("new.person@example.com");
    expect(team).not.toContain("Open invitations");
  });

  it("one invitation to several organisations the owner owns: accepting it grants each", async () => {
    const both = await signIn(deps, { email: "both@corp.test", role: "owner" });
    const res = await post("/team/invite", both, {
      email: "helper@corp.test",
      role: "viewer",
      orgs: ["acme", "globex"],
    });
    expect(res.status).toBe(200);
    expect(inbox.messages).toHaveLength(1);
    expect(inbox.messages[0]!.parsed.subject).toBe("You are invited to Acme Ltd, Globex on Creditpulse");
    const token = linkIn(await res.text())!.split("/invite/")[1]!;
    expect(await auditRows("team.invited")).toHaveLength(2);
    const app = createApp(deps);
    const form = await app.request(`/invite/${token}`);
    const cookies = form.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const formHtml = await form.text();
    expect(formHtml).toContain("<h1>Join Acme Ltd, Globex</h1>");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(formHtml)![1]!;
    const ok = await app.request(`/invite/${token}`, {
      method: "POST",
      headers: { cookie: cookies, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, password: "another long password" }).toString(),
    });
    expect(ok.status).toBe(303);
    const [globex] = await deps.store.db.select().from(auditLog).where(eq(auditLog.action, "team.invited"));
    expect(await roleOf("helper@corp.test")).toBe("viewer");
    const orgIds = (await auditRows("team.joined")).map((r) => r.orgId).sort();
    expect(orgIds).toHaveLength(2);
    expect(globex).toBeDefined();
  });

  it("a bad value comes back beside its field with the input kept (422), and nothing is written or sent", async () => {
    const cases: [Record<string, string | string[]>, string, RegExp][] = [
      [{ email: "not-an-email", role: "viewer", orgs: "acme" }, "email-problem", /not an email address/],
      [
        { email: `${"a".repeat(300)}@example.com`, role: "viewer", orgs: "acme" },
        "email-problem",
        /not an email address/,
      ],
      [
        { email: "<script>alert(1)</script>@x.test", role: "viewer", orgs: "acme" },
        "email-problem",
        /not an email address/,
      ],
      [
        { email: "ok@example.com", role: "admin", orgs: "acme" },
        "role-problem",
        /owner, bookkeeper or viewer/,
      ],
      [{ email: "ok@example.com", role: "viewer" }, "orgs-problem", /at least one organisation/],
      [
        { email: "books@acme.test", role: "viewer", orgs: "acme" },
        "email-problem",
        /already bookkeeper of Acme Ltd/,
      ],
    ];
    for (const [fields, problemId, message] of cases) {
      const res = await post("/team/invite", owner, fields);
      expect(res.status, JSON.stringify(fields).slice(0, 80)).toBe(422);
      const html = await res.text();
      expect(html).toMatch(new RegExp(`id="${problemId}"[^>]*>[^<]*`));
      expect(html).toMatch(message);
      expect(html).toContain(`aria-describedby="${problemId}"`);
      expect(html).not.toContain("<script>alert(1)</script>");
      if (typeof fields.email === "string" && fields.email.length < 100 && !fields.email.includes("<"))
        expect(html).toContain(`value="${fields.email}"`);
    }
    expect(await deps.store.db.select().from(invites)).toHaveLength(0);
    expect(await auditRows("team.invited")).toHaveLength(0);
    expect(inbox.messages).toHaveLength(0);
    // An open invitation is not duplicated: resend it instead.
    expect(
      (await post("/team/invite", owner, { email: "x@y.test", role: "viewer", orgs: "acme" })).status,
    ).toBe(200);
    const again = await post("/team/invite", owner, { email: "X@Y.test", role: "owner", orgs: "acme" });
    expect(again.status).toBe(422);
    expect(await again.text()).toContain("already has an open invitation");
    // An oversized body never reaches the form.
    const huge = await post("/team/invite", owner, {
      email: "a@b.test",
      role: "viewer",
      orgs: "acme",
      pad: "x".repeat(1_100_000),
    });
    expect(huge.status).toBe(413);
  });

  it("when the mail server refuses, the invitation still exists and the page says to send the link yourself", async () => {
    inbox.failWith(550, "rcpt", "No such mailbox");
    const res = await post("/team/invite", owner, {
      email: "gone@example.com",
      role: "viewer",
      orgs: "acme",
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/could not be sent \([^)]*No such mailbox/);
    expect(linkIn(html)).toBeDefined();
    expect(await deps.store.db.select().from(invites)).toHaveLength(1);
  });

  it("links use PUBLIC_URL when it is set", async () => {
    await deps.store.close();
    deps = await makeDeps({ PUBLIC_URL: "https://credit.example.com/" });
    const o = await signIn(deps, { email: "o@acme.test", role: "owner", orgs: ["acme"] });
    const res = await post("/team/invite", o, { email: "p@example.com", role: "viewer", orgs: "acme" });
    expect(linkIn(await res.text())).toMatch(/^https:\/\/credit\.example\.com\/invite\//);
    expect(linkIn(inbox.messages[0]!.parsed.text ?? "")).toMatch(/^https:\/\/credit\.example\.com\/invite\//);
  });
});

describe("resend and revoke", () => {
  it("resend emails a new link and the old one stops working; revoke kills the link; both are audited", async () => {
    const first = await post("/team/invite", owner, {
      email: "late@example.com",
      role: "viewer",
      orgs: "acme",
    });
    const oldToken = linkIn(await first.text())!.split("/invite/")[1]!;
    const id = hashToken(oldToken);
    const resent = await post(`/team/acme/invites/${id}/resend`, owner);
    expect(resent.status).toBe(200);
    const newLink = linkIn(await resent.text())!;
    expect(newLink).not.toContain(oldToken);
    expect(inbox.messages).toHaveLength(2);
    expect(linkIn(inbox.messages[1]!.parsed.text ?? "")).toBe(newLink);
    const app = createApp(deps);
    expect((await app.request(`/invite/${oldToken}`)).status).toBe(404);
    expect((await app.request(new URL(newLink).pathname)).status).toBe(200);
    expect(await auditRows("team.invite_resent")).toHaveLength(1);

    const newId = hashToken(newLink.split("/invite/")[1]!);
    const revoked = await post(`/team/acme/invites/${newId}/revoke`, owner);
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get("location")).toBe("/team?done=revoked");
    expect((await app.request(new URL(newLink).pathname)).status).toBe(404);
    expect(await auditRows("team.invite_revoked")).toHaveLength(1);
    // Revoking it again: refused on the page, no second audit row.
    const twice = await post(`/team/acme/invites/${newId}/revoke`, owner);
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain("accepted, revoked or has expired");
    expect(await auditRows("team.invite_revoked")).toHaveLength(1);
  });
});

describe("roles and removal", () => {
  const idOf = async (email: string) =>
    (await deps.store.db.select().from(users).where(eq(users.email, email)))[0]!.id;

  it("an owner changes a role and removes a member, each with its audit row", async () => {
    const bk = await idOf("books@acme.test");
    const res = await post(`/team/acme/members/${bk}/role`, owner, { role: "viewer" });
    expect(res.status).toBe(303);
    expect(await roleOf("books@acme.test")).toBe("viewer");
    const [changed] = await auditRows("team.role_changed");
    expect(changed!.detail).toMatchObject({
      email: "books@acme.test",
      from: "bookkeeper",
      to: "viewer",
      by: "owner@acme.test",
    });
    expect(changed!.actor).toBe(`user:${owner.userId}`);

    const removed = await post(`/team/acme/members/${bk}/remove`, owner);
    expect(removed.status).toBe(303);
    expect(await roleOf("books@acme.test")).toBeUndefined();
    expect(await auditRows("team.member_removed")).toHaveLength(1);
    // They no longer reach the organisation.
    expect((await get("/orgs/acme", bookkeeper)).status).toBe(404);
    const bad = await post(`/team/acme/members/${await idOf("viewer@acme.test")}/role`, owner, {
      role: "superuser",
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Choose owner, bookkeeper or viewer.");
  });

  it("the last owner can neither be demoted nor removed; with two owners, one may step down", async () => {
    const me = owner.userId;
    for (const [path, fields] of [
      [`/team/acme/members/${me}/role`, { role: "viewer" }],
      [`/team/acme/members/${me}/remove`, {}],
    ] as const) {
      const res = await post(path, owner, fields);
      expect(res.status).toBe(409);
      const html = await res.text();
      expect(html).toContain("Acme Ltd needs at least one owner");
      expect(html).toContain('role="alert"');
    }
    expect(await roleOf("owner@acme.test")).toBe("owner");
    expect(await auditRows("team.role_changed")).toHaveLength(0);
    expect(await auditRows("team.member_removed")).toHaveLength(0);

    const bk = await idOf("books@acme.test");
    expect((await post(`/team/acme/members/${bk}/role`, owner, { role: "owner" })).status).toBe(303);
    expect((await post(`/team/acme/members/${me}/role`, owner, { role: "viewer" })).status).toBe(303);
    expect(await roleOf("owner@acme.test")).toBe("viewer");
  });

  it("two owners demoting each other at the same moment leave one owner", async () => {
    const bk = await idOf("books@acme.test");
    await post(`/team/acme/members/${bk}/role`, owner, { role: "owner" });
    const [a, b] = await Promise.all([
      post(`/team/acme/members/${bk}/role`, owner, { role: "viewer" }),
      post(`/team/acme/members/${owner.userId}/role`, bookkeeper, { role: "viewer" }),
    ]);
    // Whichever lands second finds its author no longer an owner (403) or the other the last owner (409).
    expect(a.status === 303 || b.status === 303).toBe(true);
    expect([a.status, b.status].filter((x) => x !== 303)).toHaveLength(1);
    // The store's guard on its own: the check and the change are one statement.
    await post(`/team/acme/members/${bk}/role`, owner, { role: "owner" });
    await post(`/team/acme/members/${owner.userId}/role`, bookkeeper, { role: "owner" });
    const now = deps.clock.now();
    const outcomes = await Promise.all([
      changeRole(deps.store, { id: owner.userId, email: "owner@acme.test" }, acmeId, bk, "viewer", now),
      changeRole(deps.store, { id: bk, email: "books@acme.test" }, acmeId, owner.userId, "viewer", now),
    ]);
    expect(outcomes.sort()).toEqual(["done", "last_owner"]);
    const owners = await deps.store.db
      .select()
      .from(memberships)
      .where(and(eq(memberships.orgId, acmeId), eq(memberships.role, "owner" as Role)));
    expect(owners).toHaveLength(1);
  });
});
