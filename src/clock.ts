/** The one way code learns the time, so tests can fix it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stays where it is put; `advance` moves it. */
export function fixedClock(
  start: number | string,
): Clock & { set(t: number | string): void; advance(ms: number): void } {
  let t = typeof start === "string" ? Date.parse(start) : start;
  return {
    now: () => t,
    set(v) {
      t = typeof v === "string" ? Date.parse(v) : v;
    },
    advance(ms) {
      t += ms;
    },
  };
}
