/**
 * The reminder templates a member edits on the settings page: the stored text of each part (else the
 * product's), a preview rendered for a sample customer, and saving, which refuses a template that does not
 * render for every sample customer and writes the template with its audit row together.
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import {
  createReminderRenderer,
  productTemplate,
  type RenderedMail,
  TemplateRenderError,
} from "../reminders/render";
import type { Organisation } from "../store/orgs";
import { loadTemplateOverrides, setTemplateOverride, type TemplatePart } from "../store/reminder-settings";
import { MAX_TEMPLATE_CHARS } from "../templates/sandbox";
import { auditMemberChange, type Member } from "./member";
import { sampleFields, templateSamples } from "./template-samples";

/** The templates the settings page offers to edit. */
export const TEMPLATE_NAMES = ["courtesy", "overdue", "firm", "firmer", "final", "credit-hold", "statement"];

export const TEMPLATE_PARTS: readonly TemplatePart[] = ["subject", "html", "text"];

/**
 * The templates a policy level may send: the product's, and any the organisation wrote itself (a template with
 * all its parts stored under its own name). What the policy editor offers and accepts.
 */
export async function templateChoices(deps: Deps, org: Organisation): Promise<string[]> {
  const overrides = await loadTemplateOverrides(deps.store.db, org.id);
  const own = new Set<string>();
  for (const key of overrides.keys()) {
    const name = key.slice(0, key.lastIndexOf("."));
    if (
      name !== "layout" &&
      !TEMPLATE_NAMES.includes(name) &&
      TEMPLATE_PARTS.every((p) => overrides.has(`${name}.${p}`))
    )
      own.add(name);
  }
  return [...TEMPLATE_NAMES, ...[...own].sort()];
}

interface TemplateText {
  name: string;
  part: TemplatePart;
  body: string;
}

/** The organisation's own text of a template part, else the product's. */
export async function templateSource(
  deps: Deps,
  org: Organisation,
  name: string,
  part: TemplatePart,
): Promise<string> {
  const overrides = await loadTemplateOverrides(deps.store.db, org.id);
  const o = overrides.get(templateKey(name, part));
  if (o !== undefined) return o;
  return productTemplate(templateKey(name, part));
}

/** The stored key of a template part: the layout is "layout.html"/"layout.text", others "<name>.<part>". */
function templateKey(name: string, part: TemplatePart): string {
  return `${name}.${part}`;
}

/** The email a template part belongs to: a layout is checked inside an ordinary reminder. */
const emailOf = (name: string) => (name === "layout" ? "overdue" : name);

function withOverride(overrides: Map<string, string>, t: TemplateText) {
  if (t.body.length > MAX_TEMPLATE_CHARS)
    throw new UserError(
      "invalid_template",
      `The template is ${t.body.length} characters; the most allowed is ${MAX_TEMPLATE_CHARS}.`,
      422,
    );
  overrides.set(templateKey(t.name, t.part), t.body);
  return overrides;
}

/**
 * Renders a template part for a sample customer: the typed `body`, or the stored (else product) text when no
 * body is given. When it does not render, says why (liquidjs's message) instead.
 */
export async function previewTemplate(
  deps: Deps,
  org: Organisation,
  t: { name: string; part: TemplatePart; body?: string },
): Promise<RenderedMail | { error: string }> {
  const body = t.body ?? (await templateSource(deps, org, t.name, t.part));
  try {
    const overrides = withOverride(await loadTemplateOverrides(deps.store.db, org.id), { ...t, body });
    const renderer = createReminderRenderer({ overrides });
    const name = emailOf(t.name);
    const level =
      name === "statement"
        ? { level: 0, name: "Statement", template: name }
        : { level: 2, name, template: name };
    return await renderer.render(name, sampleFields(deps, org, level));
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Renders the template for each sample customer (1, 3 and 12 invoices; with and without a credit hold;
 * several currencies), giving the event loop a turn between them. Returns the first failure (liquidjs's
 * message, with its line and column, and which sample it was), or null when every sample renders.
 */
async function validateTemplate(deps: Deps, org: Organisation, t: TemplateText): Promise<string | null> {
  const overrides = withOverride(await loadTemplateOverrides(deps.store.db, org.id), t);
  const renderer = createReminderRenderer({ overrides });
  const name = emailOf(t.name);
  for (const sample of templateSamples(deps, org, name)) {
    try {
      await renderer.render(name, sample.fields);
    } catch (e) {
      const detail = e instanceof TemplateRenderError ? e.detail : e instanceof Error ? e.message : String(e);
      return `${detail} (sample: ${sample.label})`;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return null;
}

/**
 * Saves a member's template part, with its audit row, only when it renders for every sample customer. Returns
 * null when saved, else why not (nothing is written; the page shows the member's text again with the problem).
 */
export async function saveTemplate(
  deps: Deps,
  org: Organisation,
  t: TemplateText,
  member: Member,
): Promise<string | null> {
  const { store } = deps;
  const now = deps.clock.now();
  const problem = await validateTemplate(deps, org, t);
  if (problem) return problem;
  await store.atomically(async () => {
    await setTemplateOverride(store.db, org.id, t.name, t.part, t.body, now);
    await auditMemberChange(
      store.db,
      member,
      { orgId: org.id, action: "settings.template", detail: { name: t.name, part: t.part } },
      now,
    );
  });
  return null;
}
