/** The benches' seeded generator: the same one the forecast uses. */
export { mulberry32 } from "../src/monitor/prng";
