/**
 * A small closed-loop HTTP load generator on undici: `connections` clients
 * each send a request, wait for the answer, and send the next, for
 * `durationMs`. Returns throughput and latency percentiles.
 */
import { Pool } from "undici";

/** One load run's outcome. */
export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** How long it ran, and every request's latency (ms, sorted): what `combine` merges. */
  elapsedMs: number;
  latencies: number[];
}

/** Percentile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs `connections` closed loops of POST `path` with `body` against `origin`. */
export async function runLoad(origin: string, path: string, body: string, connections: number, durationMs: number): Promise<LoadResult> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const res = await pool.request({ origin, path, method: "POST", headers: { "content-type": "application/json" }, body });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) errors++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await pool.close();
  return summarize(latencies, errors, elapsed);
}

function summarize(latencies: number[], errors: number, elapsedMs: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    rps: (latencies.length / elapsedMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    elapsedMs,
    latencies,
  };
}

/** Several runs of the same load as one: their requests over their summed time, percentiles over every latency. */
export function combine(results: readonly LoadResult[]): LoadResult {
  return summarize(
    results.flatMap((r) => r.latencies),
    results.reduce((sum, r) => sum + r.errors, 0),
    results.reduce((sum, r) => sum + r.elapsedMs, 0),
  );
}
