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

/** Counts what a long step registers, to report as it goes. */
export interface Counter {
  /** One more item (a resource registered), named for the report. */
  tick(item: string): void;
}

/**
 * Runs `work` like `progress`, handing it a counter: while it runs, a line
 * on stderr at most every `everyMs` says how many items are done and the
 * latest one (a plan's resources as they register), and the last line says
 * how many there were. `now` is the clock (tests pass their own).
 */
export async function countedProgress<T>(
  io: CommandIo,
  what: string,
  noun: string,
  work: (counter: Counter) => Promise<T>,
  { everyMs = 1_000, now = () => performance.now() }: { everyMs?: number; now?: () => number } = {},
): Promise<T> {
  io.err(`${what}...\n`);
  const started = now();
  let count = 0;
  let reported = started;
  const counter: Counter = {
    tick(item) {
      count++;
      const at = now();
      if (at - reported < everyMs) return;
      reported = at;
      io.err(`  ${what}: ${count} ${noun} so far (${((at - started) / 1000).toFixed(1)} s; latest ${item})\n`);
    },
  };
  const result = await work(counter);
  io.err(`${what}: ${count} ${noun}, done in ${((now() - started) / 1000).toFixed(1)} s\n`);
  return result;
}
