/** Runs a benchmark's main: its return value is the exit code; an error is one line on stderr and exit 1. */
export function runBenchMain(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
