/**
 * Heap headroom for long-lived servers (the gateway, the local target, a
 * pod's entry). V8 sizes the old generation's next limit from the live heap
 * at each full collection, by a factor it picks from how busy the process
 * was; after an idle spell the factor is small, so when load returns the
 * limit is reached within a second and the server makes one to three full
 * collections (10–30 ms pauses each) that free almost nothing: in the
 * gateway bench, p99 was 40–78 ms in the first seconds after 35 s idle and
 * 10–16 ms back to back. A fixed factor keeps the limit at a multiple of the
 * live heap whatever came before, which removed those collections in the
 * same bench (docs/performance.md). The price is memory: up to
 * `1 + percent / 100` times the live heap before the next full collection,
 * still bounded by the heap's maximum.
 */
import { setFlagsFromString } from "node:v8";

/** The old generation grows to three times the live heap before its next full collection. */
export const SERVER_HEAP_GROWING_PERCENT = 200;

const FLAG = "--heap-growing-percent";

/**
 * Sets V8's heap growing factor for a server process, unless the process was
 * started with its own (`node --heap-growing-percent=N`), which then wins.
 * V8 reads the factor at every full collection, so setting it at start-up
 * takes effect from the next one. Returns the percent in effect, or
 * undefined when the operator's flag was left alone.
 */
export function keepHeapHeadroom({
  execArgv = process.execArgv,
  percent = SERVER_HEAP_GROWING_PERCENT,
  setFlags = setFlagsFromString,
}: {
  /** The process's own node flags. */
  execArgv?: readonly string[];
  percent?: number;
  /** How the flag is set (V8's own, but for tests). */
  setFlags?: (flags: string) => void;
} = {}): number | undefined {
  if (execArgv.some((arg) => arg.replaceAll("_", "-").startsWith(FLAG))) return undefined;
  setFlags(`${FLAG}=${percent}`);
  return percent;
}
