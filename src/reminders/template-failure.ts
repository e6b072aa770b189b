/**
 * Reporting a reminder or notice template that failed to render (the run's and the hold worker's).
 */
import { errorText } from "../mail/mailer";
import { audit } from "../store/audit";
import type { Organisation } from "../store/orgs";
import { TemplateRenderError } from "./render";
import type { ReminderDeps } from "./run-types";

/**
 * A template that failed to render: logged and written to the organisation's audit log (once per template
 * part and run), so the owner sees it on the timeline; the email is reported failed and nothing is sent.
 */
export async function reportTemplateFailure(
  deps: Pick<ReminderDeps, "store" | "log">,
  org: Organisation,
  template: string,
  err: unknown,
  now: number,
  contactId: string,
  reported: Set<string> = new Set(),
): Promise<void> {
  const key = err instanceof TemplateRenderError ? err.key : template;
  const detail = err instanceof TemplateRenderError ? err.detail : errorText(err);
  deps.log.error({ org: org.slug, template: key, error: detail }, "reminder template failed to render");
  if (reported.has(key)) return;
  reported.add(key);
  await audit(
    deps.store.db,
    {
      orgId: org.id,
      contactId,
      actor: "reminders",
      action: "reminder.template_failed",
      detail: {
        template: key,
        error: detail.slice(0, 500),
        overridden: err instanceof TemplateRenderError ? err.overridden : false,
      },
    },
    now,
  );
}
