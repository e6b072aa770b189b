import { run } from "./cli";

/** Process entry for `creditpulse` and `npm start`: runs the CLI and exits with its code (servers keep running). */
export async function main(argv: string[]): Promise<void> {
  const code = await run(argv);
  if (code !== 0) process.exitCode = code;
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
