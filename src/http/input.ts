/**
 * Reading a request's input: every route parses what it takes with a zod schema, and a bad field is a 422 whose
 * message names what was wrong (the schema's own message), before anything is read from or written to the store.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { Member } from "../dashboard/member";
import { UserError } from "../errors";
import { type AppEnv, currentUser } from "./auth";

/** A form or JSON field as text: a string as it is, anything else (absent, a file, a number) as "". */
export const text = z
  .unknown()
  .optional()
  .transform((v) => (typeof v === "string" ? v : ""));

/** A yes/no field: "1" in a form, or `true` in JSON. */
export const flag = z
  .unknown()
  .optional()
  .transform((v) => v === "1" || v === true);

/** The body's fields: JSON when the request says so, else the form. */
export async function bodyFields(c: Context): Promise<unknown> {
  return (c.req.header("content-type") ?? "").includes("json") ? c.req.json() : c.req.parseBody();
}

/** Parses `data` with `schema`; the first problem becomes a UserError (by default "invalid", 422). */
export function parseInput<S extends z.ZodType>(
  schema: S,
  data: unknown,
  fail: { code: string; status: 404 | 422 } = { code: "invalid", status: 422 },
): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  throw new UserError(fail.code, r.error.issues[0]?.message ?? "Invalid input.", fail.status);
}

/** The signed-in member, as the dashboard's changes record them. */
export function memberOf(c: Context<AppEnv>): Member {
  const user = currentUser(c);
  return { id: user.id, email: user.email };
}
