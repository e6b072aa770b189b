/** `creditpulse user add --email E --org <slug> --role R [--password-stdin]`: give someone access. */
import { type Command, Option } from "commander";
import { html } from "hono/html";
import { hashPassword, passwordProblem } from "../auth/password";
import { baseUrlOf } from "../base-url";
import { UserError } from "../errors";
import { createInvite, ensureUser, grant, ROLES, type Role, setPassword } from "../store/accounts";
import { type CommandContext, orgOption } from "./context";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function registerUser(program: Command, ctx: CommandContext): void {
  const user = program.command("user").description("Manage the people who can sign in");
  user
    .command("add")
    .description(
      "Give a person a role in an organisation: prints (and emails, when SMTP is set) an invite link",
    )
    .requiredOption("--email <address>", "their email address")
    .requiredOption("--org <slug>", "organisation")
    .addOption(
      new Option("--role <role>", "owner, bookkeeper or viewer").choices(ROLES).default("bookkeeper"),
    )
    .option("--password-stdin", "set their password from standard input instead of sending an invite")
    .action(async (opts: { email: string; org: string; role: Role; passwordStdin?: boolean }) => {
      const deps = await ctx.deps();
      const { db } = deps.store;
      if (!/^[^@\s]+@[^@\s]+$/.test(opts.email))
        throw new UserError("invalid", `not an email address: ${opts.email}`);
      const org = await orgOption(db, opts.org);
      const now = ctx.clock.now();
      if (opts.passwordStdin) {
        const password = (await (ctx.io.stdin ?? readStdin)()).replace(/\r?\n$/, "");
        const problem = passwordProblem(password);
        if (problem) throw new UserError("invalid", `password: ${problem}`);
        const { user: u, created } = await ensureUser(db, opts.email, now);
        await setPassword(db, u.id, await hashPassword(password), now);
        await grant(db, u.id, org.id, opts.role, now);
        ctx.out(
          `${created ? "Created" : "Updated"} ${u.email}: ${opts.role} of ${org.slug}. They can sign in now.`,
        );
        return;
      }
      const token = await createInvite(db, { email: opts.email, orgId: org.id, role: opts.role }, now);
      const link = `${baseUrlOf(deps.config)}/invite/${token}`;
      ctx.out(`Invite for ${opts.email.toLowerCase()} (${opts.role} of ${org.slug}), valid 7 days:`);
      ctx.out(link);
      const { config } = deps;
      if (config.SMTP_URL && config.MAIL_FROM) {
        const { createSmtpMailer } = await import("../mail/smtp-mailer");
        const mailer = createSmtpMailer({ url: config.SMTP_URL });
        try {
          await mailer.send({
            from: config.MAIL_FROM,
            to: [opts.email],
            subject: `You are invited to ${org.name} on Creditpulse`,
            text: `You have been given the ${opts.role} role for ${org.name} on Creditpulse.\n\nAccept the invitation (valid for 7 days):\n${link}\n`,
            messageId: `<invite-${token.slice(0, 16)}@creditpulse>`,
            date: new Date(now),
            html: String(
              await html`<p>You have been given the <strong>${opts.role}</strong> role for ${org.name} on Creditpulse.</p><p><a href="${link}">Accept the invitation</a> (valid for 7 days).</p>`,
            ),
          });
          ctx.out(`Emailed the invite to ${opts.email}.`);
        } catch (e) {
          ctx.err(
            `Could not email the invite (${e instanceof Error ? e.message : String(e)}); send the link yourself.`,
          );
        } finally {
          await mailer.close();
        }
      }
    });
}
