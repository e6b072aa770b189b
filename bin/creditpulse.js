#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx: there is no build step to keep in sync.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/bin.ts");
await main(process.argv.slice(2));
