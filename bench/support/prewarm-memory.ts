/**
 * Memory weights of the pre-warm replay, from the trace's `memory.csv`
 * (Azure Functions 2019: one row per function, carrying its app's average
 * allocated memory).
 */

/** Average allocated memory (MB) by function hash and by app hash. */
export interface MemoryWeights {
  byFunction: Map<string, number>;
  byApp: Map<string, number>;
}

/**
 * Reads `memory.csv`. The trace measures memory per app and repeats the
 * app's value on each of its functions' rows, so an app weighs its value
 * once: summing the rows counted a two-function app twice.
 */
export function memoryWeights(csv: string): MemoryWeights {
  const byFunction = new Map<string, number>();
  const byApp = new Map<string, number>();
  const [header = "", ...rows] = csv.trim().split(/\r?\n/);
  const columns = header.split(",");
  const [fn, app, mb] = ["HashFunction", "HashApp", "AverageAllocatedMb"].map((name) => columns.indexOf(name));
  if (fn < 0 || app < 0 || mb < 0) throw new Error("memory.csv needs the columns HashFunction, HashApp and AverageAllocatedMb");
  for (const row of rows) {
    const cells = row.split(",");
    const megabytes = Number(cells[mb]);
    if (!Number.isFinite(megabytes) || megabytes <= 0) continue;
    byFunction.set(cells[fn], megabytes);
    byApp.set(cells[app], megabytes);
  }
  return { byFunction, byApp };
}
