/**
 * What a rollout observes of each version: requests, failures (5xx) and a
 * latency histogram. Each gateway instance counts its own in a tally (the
 * per-request work is a few increments), drains it periodically into the
 * shared store, and the leader judges the sum.
 */
import { bucketOf, LATENCY_BUCKETS, quantileMs } from "./latency";

/** One version's counts: plain numbers, so they serialize and add up. */
export interface VersionCounts {
  requests: number;
  errors: number;
  /** Latency bucket index to count (see latency.ts). */
  latency: Record<number, number>;
}

/** Counts by version. */
export type Observations = Record<string, VersionCounts>;

/** What a step's judgement quotes for one version. */
export interface VersionSummary {
  requests: number;
  errors: number;
  /** Share of requests that failed, 0–1. */
  errorRate: number;
  /** p99 latency in milliseconds, when the version served any request. */
  p99Ms?: number;
}

/** An empty count. */
export const noCounts = (): VersionCounts => ({ requests: 0, errors: 0, latency: {} });

/** Adds `from` into `into`, version by version. */
export function addObservations(into: Observations, from: Readonly<Observations>): Observations {
  for (const [version, counts] of Object.entries(from)) {
    const target = (into[version] ??= noCounts());
    target.requests += counts.requests;
    target.errors += counts.errors;
    for (const [bucket, count] of Object.entries(counts.latency))
      target.latency[Number(bucket)] = (target.latency[Number(bucket)] ?? 0) + count;
  }
  return into;
}

/** Requests, failures, error rate and p99 of one version's counts. */
export function summarize(counts: VersionCounts | undefined): VersionSummary {
  const { requests, errors, latency } = counts ?? noCounts();
  const p99 = quantileMs(latency, 0.99);
  return {
    requests,
    errors,
    errorRate: requests === 0 ? 0 : errors / requests,
    ...(p99 === undefined ? {} : { p99Ms: Math.round(p99 * 10) / 10 }),
  };
}

/** One version's live counters, on the request path. */
class VersionTally {
  requests = 0;
  errors = 0;
  latency = new Uint32Array(LATENCY_BUCKETS);
}

/** The live counters of a rollout's versions in one gateway instance. */
export class Tally {
  private readonly versions = new Map<string, VersionTally>();

  constructor(versions: readonly string[]) {
    for (const version of versions) this.versions.set(version, new VersionTally());
  }

  /** Counts one finished request to `version`: its status (5xx fails) and latency. */
  count(version: string, status: number, ms: number): void {
    const tally = this.versions.get(version);
    if (tally === undefined) return;
    tally.requests++;
    if (status >= 500) tally.errors++;
    tally.latency[bucketOf(ms)]++;
  }

  /** The counts since the last drain (versions with none left out), and zero again. */
  drain(): Observations {
    const drained: Observations = {};
    for (const [version, tally] of this.versions) {
      if (tally.requests === 0) continue;
      const latency: Record<number, number> = {};
      tally.latency.forEach((count, bucket) => {
        if (count > 0) latency[bucket] = count;
      });
      drained[version] = { requests: tally.requests, errors: tally.errors, latency };
      this.versions.set(version, new VersionTally());
    }
    return drained;
  }
}
