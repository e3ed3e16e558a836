/** Where a command writes; tests pass their own to capture output. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** A command-line value that does not fit: the CLI prints its message and exits 2. */
export class UsageError extends Error {}

/** The process's stdout and stderr. */
export const processIo: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
