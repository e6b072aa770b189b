/**
 * mulberry32: a small seeded generator in [0, 1). The forecast's simulations and the benches share it;
 * bench/monitor-eval.ts's drift seeds (1000-1003 reported, 2000-2003 for tuning) are defined by this exact
 * sequence, so it stays as it is.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
