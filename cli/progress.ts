/** Progress on stderr for steps that may take more than a second. */
import type { CommandIo } from "./io";

/** Runs `work`, telling the user what it does and, if it took a while, how long. */
export async function progress<T>(io: CommandIo, what: string, work: () => Promise<T>): Promise<T> {
  io.err(`${what}...\n`);
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  if (seconds >= 1) io.err(`${what}: done in ${seconds.toFixed(1)} s\n`);
  return result;
}
