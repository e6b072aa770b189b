/** `creditpulse user add --email E --org <slug> --role R [--password-stdin]`: give someone access. */
import { type Command, Option } from "commander";
import { hashPassword, passwordProblem } from "../auth/password";
import { addWithPassword, inviteFromCommandLine } from "../auth/team";
import { UserError } from "../errors";
import { ROLES, type Role } from "../store/accounts";
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
      if (!/^[^@\s]+@[^@\s]+$/.test(opts.email))
        throw new UserError("invalid", `not an email address: ${opts.email}`);
      const org = await orgOption(deps.store.db, opts.org);
      if (opts.passwordStdin) {
        const password = (await (ctx.io.stdin ?? readStdin)()).replace(/\r?\n$/, "");
        const problem = passwordProblem(password);
        if (problem) throw new UserError("invalid", `password: ${problem}`);
        const { user: u, created } = await addWithPassword(deps, {
          email: opts.email,
          role: opts.role,
          org,
          passwordHash: await hashPassword(password),
        });
        ctx.out(
          `${created ? "Created" : "Updated"} ${u.email}: ${opts.role} of ${org.slug}. They can sign in now.`,
        );
        return;
      }
      const r = await inviteFromCommandLine(deps, { email: opts.email, role: opts.role, org });
      ctx.out(`Invite for ${r.email} (${opts.role} of ${org.slug}), valid 7 days:`);
      ctx.out(r.link);
      if (!deps.config.PUBLIC_URL)
        ctx.err("The link uses HOST and PORT: set PUBLIC_URL to the address people open the dashboard at.");
      if (r.mail.status === "sent") ctx.out(`Emailed the invite to ${r.email}.`);
      else if (r.mail.status === "failed")
        ctx.err(`Could not email the invite (${r.mail.reason}); send the link yourself.`);
    });
}
