/**
 * The settings page's reminder policies: each policy is a table of levels (days from the due date, the template
 * chosen from the organisation's templates, a name, "places a credit hold") with add, remove and move up/down.
 * Every button posts the form with an `action` (no JavaScript needed): editing buttons re-show the form with
 * the change made and nothing saved; Save validates (zod, a message beside each bad field) and saves. Under the
 * table, the schedule for a sample invoice due today in the organisation's timezone.
 */
import { z } from "zod";
import type { PolicyLevelsInput } from "../../model/reminders";
import { scheduleFor } from "../../reminders/policy";
import { errorsOf, Field, FieldError, type FormFailure, FormProblem, fieldAttrs, typed } from "../form";
import type { SectionProps } from "./settings-section";

export const MAX_LEVELS = 20;

/** One row of the table as typed. */
export interface LevelRow {
  offset: string;
  template: string;
  name: string;
  hold: boolean;
  /** The level also sends a short SMS (src/reminders/send-sms.ts). */
  sms: boolean;
}

const asList = (v: unknown): string[] =>
  ([] as unknown[]).concat(v ?? []).map((x) => (typeof x === "string" ? x : ""));

/**
 * The rows as the form posted them (`offset`, `template`, `label` in row order; `hold` and `sms` = checked row
 * numbers).
 */
export function rowsFrom(fields: Record<string, unknown>): LevelRow[] {
  const offsets = asList(fields.offset);
  const templates = asList(fields.template);
  const names = asList(fields.label);
  const holds = new Set(asList(fields.hold));
  const sms = new Set(asList(fields.sms));
  const n = Math.min(Math.max(offsets.length, templates.length, names.length), MAX_LEVELS);
  return Array.from({ length: n }, (_, i) => ({
    offset: offsets[i] ?? "",
    template: templates[i] ?? "",
    name: names[i] ?? "",
    hold: holds.has(String(i)),
    sms: sms.has(String(i)),
  }));
}

/** The form fields of `rows`, as FormFailure values keep them. */
export function rowFields(rows: readonly LevelRow[]): Record<string, unknown> {
  return {
    offset: rows.map((r) => r.offset),
    template: rows.map((r) => r.template),
    label: rows.map((r) => r.name),
    hold: rows.flatMap((r, i) => (r.hold ? [String(i)] : [])),
    sms: rows.flatMap((r, i) => (r.sms ? [String(i)] : [])),
  };
}

/**
 * An editing button applied to the rows: "add" (a level a week after the last), "remove:N", "up:N", "down:N".
 * Null for "save" (or anything else).
 */
export function editRows(rows: LevelRow[], action: string, templates: readonly string[]): LevelRow[] | null {
  const out = rows.map((r) => ({ ...r }));
  if (action === "add") {
    if (out.length >= MAX_LEVELS) return out;
    const last = out[out.length - 1];
    const lastOffset = Number.parseInt(last?.offset ?? "", 10);
    out.push({
      offset: String(Number.isFinite(lastOffset) ? lastOffset + 7 : 1),
      // The last level's template, unless that one announces a hold (the new level places none): then "final".
      template:
        last?.template && templates.includes(last.template) && last.template !== "credit-hold"
          ? last.template
          : templates.includes("final")
            ? "final"
            : (templates[0] ?? ""),
      name: `Level ${out.length + 1}`,
      hold: false,
      sms: false,
    });
    return out;
  }
  const m = /^(remove|up|down):(\d{1,2})$/.exec(action);
  if (!m) return null;
  const i = Number(m[2]);
  if (i >= out.length) return out;
  if (m[1] === "remove") out.splice(i, 1);
  else {
    const j = m[1] === "up" ? i - 1 : i + 1;
    if (j >= 0 && j < out.length) [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const OFFSET_RE = /^[+-]?\d{1,4}$/;

/**
 * What Save accepts: a policy name (for a new policy: not empty, not taken) and 1 to 20 levels, each with whole
 * days from the due date (-365 to 3650) later than the level before, one of `templates`, and a name.
 */
export function policySchema(templates: readonly string[], taken: readonly string[] | null) {
  return z
    .object({ name: z.string(), rows: z.array(z.custom<LevelRow>()) })
    .transform((f, ctx): { name: string; levels: PolicyLevelsInput } => {
      const issue = (path: (string | number)[], message: string) =>
        ctx.addIssue({ code: "custom", path, message });
      const name = f.name.trim();
      if (taken) {
        if (!name) issue(["name"], "Give the new policy a name.");
        else if (name.length > 40) issue(["name"], "Keep the name to 40 characters or fewer.");
        else if (taken.includes(name))
          issue(["name"], `There is already a policy called “${name}”: edit it above.`);
      }
      if (f.rows.length === 0) issue([], "A policy needs at least one level: add one.");
      let previous: number | undefined;
      const levels: PolicyLevelsInput = [];
      f.rows.forEach((r, i) => {
        const at = (field: string) => ["levels", i, field];
        const text = r.offset.trim();
        const offset = OFFSET_RE.test(text) ? Number(text) : Number.NaN;
        if (!Number.isInteger(offset) || offset < -365 || offset > 3650)
          issue(
            at("offset"),
            "Enter whole days from the due date: 7 for a week after, -3 for three days before (-365 to 3650).",
          );
        else if (previous !== undefined && offset <= previous)
          issue(at("offset"), `Must be later than level ${i} (${previous} days): levels go in order.`);
        if (Number.isInteger(offset)) previous = offset;
        if (!templates.includes(r.template))
          issue(
            at("template"),
            `“${r.template.slice(0, 40)}” is not one of this organisation's templates: choose one from the list.`,
          );
        const label = r.name.trim();
        if (!label) issue(at("name"), "Give the level a name, such as “Final notice”.");
        else if (label.length > 80) issue(at("name"), "Keep the name to 80 characters or fewer.");
        levels.push({
          offsetDays: offset,
          template: r.template,
          name: label,
          ...(r.hold ? { placeHold: true } : {}),
          ...(r.sms ? { sms: true } : {}),
        });
      });
      return { name, levels };
    });
}

const WEEKDAY_DATE = new Intl.DateTimeFormat("en-GB", {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});
const showDate = (iso: string) => WEEKDAY_DATE.format(new Date(`${iso}T00:00:00Z`));

/** The form key of a policy's editor ("policy:<name>", "policy:" for the new-policy form). */
export const policyForm = (name: string) => `policy:${name}`;

function LevelsTable(props: {
  formId: string;
  rows: LevelRow[];
  templates: readonly string[];
  errors: Record<string, string>;
}) {
  const { formId, rows, templates, errors } = props;
  const last = rows.length - 1;
  return (
    <div class="table-wrap">
      <table class="levels">
        <thead>
          <tr>
            <th scope="col">Level</th>
            <th scope="col">Days from due date</th>
            <th scope="col">Template</th>
            <th scope="col">Name</th>
            <th scope="col">Credit hold</th>
            <th scope="col">SMS</th>
            <th scope="col">
              <span class="sr-only">Change</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const id = (f: string) => `${formId}-${f}-${i}`;
            const err = (f: string) => errors[`levels.${i}.${f}`];
            const known = templates.includes(r.template);
            return (
              <tr data-level={String(i + 1)}>
                <td>{i + 1}</td>
                <td class={err("offset") ? "invalid" : undefined}>
                  <label class="sr-only" for={id("offset")}>
                    Level {i + 1}: days from due date
                  </label>
                  <input
                    id={id("offset")}
                    name="offset"
                    value={r.offset}
                    inputmode="numeric"
                    size={5}
                    {...fieldAttrs(id("offset"), err("offset"))}
                  />
                  <FieldError id={id("offset")} error={err("offset")} />
                </td>
                <td class={err("template") ? "invalid" : undefined}>
                  <label class="sr-only" for={id("template")}>
                    Level {i + 1}: template
                  </label>
                  <select
                    id={id("template")}
                    name="template"
                    {...fieldAttrs(id("template"), err("template"))}
                  >
                    {known ? null : (
                      <option value={r.template} selected>
                        {r.template || "(choose)"} (not a template)
                      </option>
                    )}
                    {templates.map((t) => (
                      <option value={t} selected={t === r.template}>
                        {t}
                      </option>
                    ))}
                  </select>
                  <FieldError id={id("template")} error={err("template")} />
                </td>
                <td class={err("name") ? "invalid" : undefined}>
                  <label class="sr-only" for={id("name")}>
                    Level {i + 1}: name
                  </label>
                  <input
                    id={id("name")}
                    name="label"
                    value={r.name}
                    size={16}
                    {...fieldAttrs(id("name"), err("name"))}
                  />
                  <FieldError id={id("name")} error={err("name")} />
                </td>
                <td>
                  <label>
                    <input type="checkbox" name="hold" value={String(i)} checked={r.hold} /> places a hold
                  </label>
                </td>
                <td>
                  <label>
                    <input type="checkbox" name="sms" value={String(i)} checked={r.sms} /> also sends an SMS
                  </label>
                </td>
                <td class="row-actions">
                  <button
                    type="submit"
                    name="action"
                    value={`up:${i}`}
                    class="secondary"
                    disabled={i === 0}
                    aria-label={`Move level ${i + 1} up`}
                  >
                    ↑
                  </button>
                  <button
                    type="submit"
                    name="action"
                    value={`down:${i}`}
                    class="secondary"
                    disabled={i === last}
                    aria-label={`Move level ${i + 1} down`}
                  >
                    ↓
                  </button>
                  <button
                    type="submit"
                    name="action"
                    value={`remove:${i}`}
                    class="secondary"
                    aria-label={`Remove level ${i + 1}`}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function SchedulePreview(props: {
  rows: LevelRow[];
  templates: readonly string[];
  sampleDue: string;
  days: readonly number[];
  draft: boolean;
}) {
  const parsed = policySchema(props.templates, null).safeParse({ name: "preview", rows: props.rows });
  if (!parsed.success) return <p class="muted">The schedule preview appears when every level is valid.</p>;
  const levels = parsed.data.levels.map((l) => ({ ...l, placeHold: l.placeHold ?? false }));
  const schedule = scheduleFor(levels, props.sampleDue, props.days);
  return (
    <details class="schedule" open>
      <summary>
        Schedule for an invoice due {showDate(props.sampleDue)} (today)
        {props.draft ? ", as edited (not saved yet)" : ""}
      </summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Level</th>
            <th scope="col">Name</th>
            <th scope="col">Template</th>
            <th scope="col">Goes out</th>
          </tr>
        </thead>
        <tbody>
          {schedule.map((s) => (
            <tr>
              <td>{s.level}</td>
              <td>{s.name}</td>
              <td>{s.template}</td>
              <td>
                <time datetime={s.sendsOn}>{showDate(s.sendsOn)}</time>
                {s.sendsOn !== s.date ? (
                  <span class="muted"> ({showDate(s.date)} is not a sending day)</span>
                ) : null}
                {s.placeHold ? <strong> · credit hold</strong> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function PolicyForm(props: {
  p: SectionProps;
  formId: string;
  name: string | null;
  rows: LevelRow[];
  failure?: FormFailure;
}) {
  const { p, formId, name, rows } = props;
  const key = policyForm(name ?? "");
  const errors = errorsOf(props.failure, key);
  const draft = props.failure?.form === key;
  const templates = p.view.template_names;
  return (
    <form method="post" action={`${p.base}/policies`} id={formId} class="policy">
      {/* The default button: Enter in a field saves (the first submit button in the form is the one Enter presses). */}
      <button type="submit" name="action" value="save" class="sr-only" tabindex={-1}>
        Save
      </button>
      {name === null ? (
        <>
          <h3>New policy</h3>
          <input type="hidden" name="new" value="1" />
          <Field id={`${formId}-name`} label="Policy name" error={errors.name}>
            <input
              id={`${formId}-name`}
              name="name"
              value={typed(props.failure, key, "name", "")}
              {...fieldAttrs(`${formId}-name`, errors.name)}
            />
          </Field>
        </>
      ) : (
        <>
          <h3>{name}</h3>
          <input type="hidden" name="name" value={name} />
        </>
      )}
      <FormProblem failure={props.failure} form={key} />
      {draft && Object.keys(errors).length === 0 ? (
        <p class="notice" role="status">
          Changed, not saved yet: press “Save policy” to keep it.
        </p>
      ) : null}
      <LevelsTable formId={formId} rows={rows} templates={templates} errors={errors} />
      <p>
        <button
          type="submit"
          name="action"
          value="add"
          class="secondary"
          disabled={rows.length >= MAX_LEVELS}
        >
          Add level
        </button>{" "}
        <button type="submit" name="action" value="save">
          Save policy
        </button>
      </p>
      <SchedulePreview
        rows={rows}
        templates={templates}
        sampleDue={p.view.sample_due_date}
        days={p.view.window.days}
        draft={draft}
      />
    </form>
  );
}

/** A saved policy's rows. */
const savedRows = (levels: SectionProps["view"]["policies"][number]["levels"]): LevelRow[] =>
  levels.map((l) => ({
    offset: String(l.offset_days),
    template: l.template,
    name: l.name,
    hold: l.place_hold,
    sms: l.sms,
  }));

export function PoliciesSection(p: SectionProps) {
  const { view, failure } = p;
  const rowsOf = (key: string, fallback: LevelRow[]) =>
    failure?.form === key ? rowsFrom(failure.values) : fallback;
  return (
    <section aria-labelledby="pol-h" id="policies">
      <h2 id="pol-h">Reminder policies</h2>
      <p class="muted">
        Each level is sent the given number of days after an invoice's due date (negative: before it), on the
        next sending day.
      </p>
      {view.policies.map((pol, idx) =>
        p.readOnly ? (
          <div class="policy">
            <h3>{pol.name}</h3>
            <table>
              <thead>
                <tr>
                  <th scope="col">Level</th>
                  <th scope="col">Days from due date</th>
                  <th scope="col">Template</th>
                  <th scope="col">Name</th>
                  <th scope="col">Credit hold</th>
                  <th scope="col">SMS</th>
                </tr>
              </thead>
              <tbody>
                {pol.levels.map((l) => (
                  <tr>
                    <td>{l.level}</td>
                    <td>{l.offset_days}</td>
                    <td>{l.template}</td>
                    <td>{l.name}</td>
                    <td>{l.place_hold ? "places a hold" : ""}</td>
                    <td>{l.sms ? "sends an SMS" : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <PolicyForm
            p={p}
            formId={`policy-${idx}`}
            name={pol.name}
            rows={rowsOf(policyForm(pol.name), savedRows(pol.levels))}
            failure={failure}
          />
        ),
      )}
      {p.readOnly ? null : (
        <details open={failure?.form === policyForm("") ? true : undefined}>
          <summary>Add a policy</summary>
          <PolicyForm
            p={p}
            formId="policy-new"
            name={null}
            rows={rowsOf(policyForm(""), [
              { offset: "1", template: "overdue", name: "Overdue", hold: false, sms: false },
            ])}
            failure={failure}
          />
        </details>
      )}
    </section>
  );
}
