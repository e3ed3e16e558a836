/**
 * A light prober in its own process (so the load generator's busy event loop
 * never delays it): for `seconds`, every few milliseconds it sends one
 * `GET /healthz` and one request to the cached route, without waiting for
 * earlier answers (an open loop: a slow answer cannot hide the ones behind
 * it), and prints each path's latency percentiles as one JSON line.
 *
 *   tsx bench/support/probe.ts <origin> <seconds> <cached path> <cached body>
 */
import { Pool } from "undici";
import { percentile } from "./load";

/** Latency percentiles of one probed path. */
export interface ProbeResult {
  requests: number;
  /** Answers that were not 200 (for the cached route: not a cache hit). */
  misses: number;
  p50: number;
  p99: number;
}

const INTERVAL_MS = 4;

async function main(): Promise<void> {
  const [origin, seconds, cachedPath, cachedBody] = process.argv.slice(2);
  const pool = new Pool(origin, { connections: 16, pipelining: 1 });
  const samples = { healthz: [] as number[], cached: [] as number[] };
  const misses = { healthz: 0, cached: 0 };
  const probe = async (name: "healthz" | "cached") => {
    const t0 = performance.now();
    const res =
      name === "healthz"
        ? await pool.request({ path: "/healthz", method: "GET" })
        : await pool.request({ path: cachedPath, method: "POST", headers: { "content-type": "application/json" }, body: cachedBody });
    await res.body.arrayBuffer();
    samples[name].push(performance.now() - t0);
    if (res.statusCode !== 200 || (name === "cached" && res.headers["x-cache"] !== "HIT")) misses[name]++;
  };
  const inFlight: Array<Promise<void>> = [];
  const deadline = performance.now() + Number(seconds) * 1000;
  while (performance.now() < deadline) {
    inFlight.push(probe("healthz"), probe("cached"));
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
  await Promise.all(inFlight);
  await pool.close();
  const summary = (name: "healthz" | "cached"): ProbeResult => {
    const sorted = samples[name].sort((a, b) => a - b);
    return { requests: sorted.length, misses: misses[name], p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  console.log(JSON.stringify({ healthz: summary("healthz"), cached: summary("cached") }));
}

void main();
