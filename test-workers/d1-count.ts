/** A D1 binding that counts what reaches D1: calls (a batch is one) and statements (each of a batch counted). */
export function countingD1(db: D1Database) {
  const count = { calls: 0, statements: 0 };
  const targets = new WeakMap<object, D1PreparedStatement>();
  const wrap = (s: D1PreparedStatement): D1PreparedStatement => {
    const p = new Proxy(s, {
      get(t, key) {
        const v = Reflect.get(t, key, t) as unknown;
        if (key === "bind") return (...args: unknown[]) => wrap(t.bind(...args));
        if (key === "run" || key === "all" || key === "first" || key === "raw")
          return (...args: unknown[]) => {
            count.calls++;
            count.statements++;
            return (v as (...a: unknown[]) => unknown).apply(t, args);
          };
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    targets.set(p, s);
    return p;
  };
  const d1 = {
    prepare: (query: string) => wrap(db.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => {
      count.calls++;
      count.statements += statements.length;
      return db.batch(statements.map((s) => targets.get(s) ?? s));
    },
    exec: (query: string) => {
      count.calls++;
      count.statements++;
      return db.exec(query);
    },
    dump: () => db.dump(),
    withSession: () => db,
  } as unknown as D1Database;
  return { d1, count };
}
