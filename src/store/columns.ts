/**
 * The one idiom of the store's hot reads: a small generic column reader. The caller names what to read as
 * drizzle column objects (or typed `sql<T>` expressions) under property names; the reader builds the SQL, reads
 * the rows a page at a time as ONE packed row per page (each column one SQLite aggregate: a JSON array, or for
 * the non-null text columns the caller names in `joined`, the values joined by an ASCII unit separator), and
 * hands back one array per name, typed from the column objects. Turning a million rows of a dozen cells into JS values one cell at a time costs many
 * times the SQL scan; a few strings per page do not. A page whose joined text held the separator is read again
 * with JSON arrays only. Booleans and JSON-mode columns come back as drizzle maps them; a `sql<T>` expression
 * comes back as SQLite gives it.
 *
 * Two shapes of read: paged by the driving table's rowid (`pageRows`; for tables with a million rows), or one
 * statement with an optional `groupBy` and `orderBy`.
 */
import { type Column, is, SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./db";

/** What to read: a name per value, each a drizzle column or a typed SQL expression. */
export type ColumnSpec = Record<string, AnySQLiteColumn | SQL<unknown>>;

type ValueOf<X> = X extends AnySQLiteColumn
  ? X["_"]["notNull"] extends true
    ? X["_"]["data"]
    : X["_"]["data"] | null
  : X extends SQL<infer T>
    ? T
    : never;

/** One array per name of the spec, all of the page's length, in row order. */
export type ColumnArrays<S extends ColumnSpec> = { [K in keyof S]: ValueOf<S[K]>[] };

export interface ColumnRead<S extends ColumnSpec> {
  columns: S;
  /** The FROM clause; by default the table of the first column. */
  from?: SQL | SQLiteTable;
  where?: SQL;
  /** One statement (no paging) with these. */
  groupBy?: SQL | AnySQLiteColumn;
  orderBy?: SQL | AnySQLiteColumn;
  /**
   * Read `pageRows` rows at a time in the rowid order of `rowidOf` (by default the table of the first column).
   * Leave out for one statement.
   */
  pageRows?: number;
  rowidOf?: SQLiteTable;
  /**
   * Plain non-null text columns to read joined by a separator rather than as a JSON array: long unique strings
   * (ids, numbers) split faster than JSON.parse reads them. Short strings the caller compares or keys maps by
   * (status, currency, dates) are best left as JSON: planning over them measured slower when they were split.
   */
  joined?: readonly (keyof S & string)[];
}

/** Separator of joined text (ASCII unit separator). */
const SEP = "\u001f";

interface Plan {
  names: string[];
  exprs: SQL[];
  /** Per column: can be joined with SEP (plain text that cannot be null). */
  joined: boolean[];
  /** Per column: drizzle's mapping from the driver value, when it is not the value itself. */
  decode: (((v: unknown) => unknown) | null)[];
}

const plans = new WeakMap<ColumnSpec, Plan>();

function planOf(spec: ColumnSpec): Plan {
  let p = plans.get(spec);
  if (p) return p;
  const names = Object.keys(spec);
  const exprs: SQL[] = [];
  const joined: boolean[] = [];
  const decode: Plan["decode"] = [];
  for (const name of names) {
    const c = spec[name]!;
    if (is(c, SQL)) {
      exprs.push(c);
      joined.push(false);
      decode.push(null);
      continue;
    }
    const col = c as Column;
    exprs.push(sql`${col}`);
    joined.push(col.dataType === "string" && col.notNull && col.columnType === "SQLiteText");
    decode.push(
      col.columnType === "SQLiteBoolean"
        ? (v) => v === 1
        : col.columnType === "SQLiteTextJson"
          ? (v) => (v === null ? null : col.mapFromDriverValue(v))
          : null,
    );
  }
  p = { names, exprs, joined, decode };
  plans.set(spec, p);
  return p;
}

function tableOf(spec: ColumnSpec): SQLiteTable {
  for (const c of Object.values(spec)) if (!is(c, SQL)) return (c as Column).table as SQLiteTable;
  throw new Error("readColumns: name a table (`from`/`rowidOf`) when every value is an SQL expression");
}

/** The packed statement: count, last rowid (paged) and one aggregate per column over the inner select. */
function packed(plan: Plan, inner: SQL, allJson: boolean): SQL {
  const aggs = plan.names.map((_, i) =>
    plan.joined[i] && !allJson
      ? sql`group_concat(${sql.raw(`c${i}`)}, char(31))`
      : sql`json_group_array(${sql.raw(`c${i}`)})`,
  );
  return sql`select count(*), max(r), ${sql.join(aggs, sql`, `)} from (${inner})`;
}

/** Unpacks one packed row into `out`; false when a joined column held the separator. */
function unpack<S extends ColumnSpec>(
  plan: Plan,
  row: unknown[],
  n: number,
  allJson: boolean,
  out: ColumnArrays<S>,
): boolean {
  const values: unknown[][] = new Array(plan.names.length);
  for (let i = 0; i < plan.names.length; i++) {
    const cell = row[i + 2] as string | null;
    let vs: unknown[];
    if (plan.joined[i] && !allJson) {
      vs = cell === null ? [] : cell.split(SEP);
      if (vs.length !== n) return false;
    } else vs = JSON.parse(cell ?? "[]") as unknown[];
    const d = plan.decode[i];
    if (d) for (let k = 0; k < vs.length; k++) vs[k] = d(vs[k]);
    values[i] = vs;
  }
  for (let i = 0; i < plan.names.length; i++) (out as Record<string, unknown[]>)[plan.names[i]!] = values[i]!;
  return true;
}

/**
 * Reads `read` and calls `onPage` with each page's columns (n > 0 rows each). Returns how many rows it read.
 */
export async function readColumns<S extends ColumnSpec>(
  db: Db,
  read: ColumnRead<S>,
  onPage: (columns: ColumnArrays<S>, n: number) => void,
): Promise<number> {
  const base = planOf(read.columns);
  const plan: Plan = {
    ...base,
    joined: base.names.map((name, i) => base.joined[i]! && (read.joined?.includes(name) ?? false)),
  };
  const from = read.from ?? tableOf(read.columns);
  const selected = sql.join(
    plan.exprs.map((e, i) => sql`${e} as ${sql.raw(`c${i}`)}`),
    sql`, `,
  );
  const where = read.where ? sql` where ${read.where}` : sql``;
  const once = async (inner: SQL): Promise<[number, number | null, ColumnArrays<S>] | undefined> => {
    let out = {} as ColumnArrays<S>;
    const [row] = await db.values<unknown[]>(packed(plan, inner, false));
    const n = (row?.[0] as number | undefined) ?? 0;
    if (n === 0) return undefined;
    if (!unpack(plan, row!, n, false, out)) {
      out = {} as ColumnArrays<S>;
      const [again] = await db.values<unknown[]>(packed(plan, inner, true));
      unpack(plan, again!, n, true, out);
    }
    return [n, row![1] as number | null, out];
  };
  if (read.pageRows === undefined) {
    const group = read.groupBy ? sql` group by ${read.groupBy}` : sql``;
    const order = read.orderBy ? sql` order by ${read.orderBy}` : sql``;
    const got = await once(sql`select null as r, ${selected} from ${from}${where}${group}${order}`);
    if (!got) return 0;
    onPage(got[2], got[0]);
    return got[0];
  }
  const rowid = sql`${read.rowidOf ?? tableOf(read.columns)}.rowid`;
  const and = read.where ? sql` and ` : sql` where `;
  let total = 0;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const got = await once(
      sql`select ${rowid} as r, ${selected} from ${from}${where}${and}${rowid} > ${after}
          order by ${rowid} limit ${read.pageRows}`,
    );
    if (!got) break;
    const [n, last, columns] = got;
    total += n;
    onPage(columns, n);
    if (n < read.pageRows || last === null) break;
    after = last;
  }
  return total;
}
