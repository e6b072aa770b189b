/**
 * The one pattern for HTML forms (every form on the dashboard follows it):
 *
 * 1. A route parses the posted fields with a zod schema whose issues name their field (`path: ["offset"]`):
 *    `const r = parseForm(schema, fields)`.
 * 2. When it fails, the route renders the SAME page again with status 422 and a `FormFailure`
 *    (`{ form, values, errors }`): the page shows each message beside its field (`<Field>` / `fieldAttrs` give
 *    the input `aria-invalid` and `aria-describedby` pointing at the message) and fills the inputs from
 *    `values`, so nothing the user typed is lost.
 * 3. When it succeeds, the route calls ONE domain function and redirects (303) with a `?done=` code.
 *
 * JSON answers belong under /api/ only (`isApi`); there a failure is a 422 `{ error: { code, message, fields } }`.
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { z } from "zod";

/** Messages by field name ("" and unnamed issues go under FORM). */
export type FieldErrors = Record<string, string>;

export const FORM = "_form";

/** A form that was posted with a problem: which form, what the user typed, what was wrong with which field. */
export interface FormFailure {
  form: string;
  values: Record<string, unknown>;
  errors: FieldErrors;
}

/** The first message of each field. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.map(String).join(".") : FORM;
    out[key] ??= issue.message;
  }
  return out;
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

export function parseForm<S extends z.ZodType>(schema: S, data: unknown): Parsed<z.output<S>> {
  const r = schema.safeParse(data);
  return r.success ? { ok: true, data: r.data } : { ok: false, errors: fieldErrors(r.error) };
}

/** Whether the request is to the JSON API (the only place that answers JSON). */
export const isApi = (c: Context) => c.req.path.startsWith("/api/");

/** The JSON API's answer to a bad form: 422 with the first message and every field's. */
export function apiFormError(c: Context, errors: FieldErrors) {
  const message = errors[FORM] ?? Object.values(errors)[0] ?? "Invalid input.";
  return c.json({ error: { code: "invalid", message, fields: errors } }, 422);
}

/** The id of a field's message. */
export const errorId = (id: string) => `${id}-error`;

/**
 * The input's accessibility attributes when `error` is set. `messageId` names the message when it is not
 * `errorId(id)` (pages whose message ids are linked to or tested as they were, e.g. `email-problem`).
 */
export function fieldAttrs(id: string, error: string | undefined, messageId = errorId(id)) {
  return error ? { "aria-invalid": "true" as const, "aria-describedby": messageId } : {};
}

/**
 * The message beside a field (nothing when there is none). `above`: a block of its own, placed before a large
 * field (a textarea or a long link) so it is seen before the input; `messageId` as for `fieldAttrs`.
 */
export function FieldError(props: { id: string; error?: string; messageId?: string; above?: boolean }) {
  if (!props.error) return null;
  const id = props.messageId ?? errorId(props.id);
  return props.above ? (
    <p class="problem" role="alert" id={id}>
      {props.error}
    </p>
  ) : (
    <span class="field-error" id={id}>
      {props.error}
    </span>
  );
}

/** A labelled field with its message: pass the input (with `{...fieldAttrs(id, error)}`) as the child. */
export function Field(props: { id: string; label: Child; error?: string; hint?: Child; children: Child }) {
  return (
    <p class={props.error ? "field invalid" : "field"}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? <span class="muted hint">{props.hint}</span> : null}
      <FieldError id={props.id} error={props.error} />
    </p>
  );
}

/** The form's own message (FORM), or a summary saying the form was not saved. */
export function FormProblem(props: { failure?: FormFailure; form: string }) {
  const f = props.failure;
  if (!f || f.form !== props.form || Object.keys(f.errors).length === 0) return null;
  return (
    <p class="problem" role="alert">
      Not saved: {f.errors[FORM] ?? "correct the fields marked below."}
    </p>
  );
}

/** What the user typed in `name` (when this form failed), else `fallback`. */
export function typed(
  failure: FormFailure | undefined,
  form: string,
  name: string,
  fallback: string,
): string {
  if (failure?.form !== form) return fallback;
  const v = failure.values[name];
  return typeof v === "string" ? v : Array.isArray(v) ? String(v[0] ?? "") : fallback;
}

/** The errors of `form`, or none. */
export const errorsOf = (failure: FormFailure | undefined, form: string): FieldErrors =>
  failure?.form === form ? failure.errors : {};
