import { run } from "./cli";

/** Process entry for `creditpulse` and `npm start`: runs the CLI and exits with its code (servers keep running). */
export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe();
  const code = await run(argv);
  if (code !== 0) process.exitCode = code;
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));

/** `creditpulse score --org x | head` closes the pipe early: stop quietly instead of crashing with EPIPE. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
}
