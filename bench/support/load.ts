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
  /** How long it ran. */
  elapsedMs: number;
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
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    rps: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    elapsedMs: elapsed,
  };
}

/**
 * Several runs of the same load as one: their requests over their summed
 * time, and the worst of their percentiles (runs by different load
 * generators keep no latencies to merge).
 */
export function combine(results: readonly LoadResult[]): LoadResult {
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const elapsedMs = results.reduce((sum, r) => sum + r.elapsedMs, 0);
  return {
    requests,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    rps: (requests / elapsedMs) * 1000,
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    elapsedMs,
  };
}
