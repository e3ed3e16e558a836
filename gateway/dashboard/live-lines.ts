/**
 * The live lines under each node of the dashboard's graph: how many a node
 * gets (the server keeps room for them when it lays the graph out) and their
 * text for a snapshot (the page writes them). Pure, so both sides share it.
 */
import type { GraphNode } from "../../sdk/graph/model";
import type { SpecV1 } from "../../sdk/spec/schema";
import type { BackendNumbers, DashboardSnapshot, EntryNumbers } from "./snapshot";

/** Characters a live line takes at most. */
export const LIVE_WIDTH = 56;

/** Lines of live numbers `node` shows. */
export function liveLineCount(node: Pick<GraphNode, "kind" | "entry">, spec: SpecV1): number {
  switch (node.kind) {
    case "route":
      return 3;
    case "function":
      return 1 + (spec.functions[node.entry]?.regions.length ?? 0);
    case "model":
      return 2 + (spec.models[node.entry]?.regions.length ?? 0);
    case "region":
      return 1;
    default:
      return 0;
  }
}

const DASH = "–";

/** A count or rate: one decimal below 10. */
export function formatNumber(value: number | null): string {
  if (value === null) return DASH;
  return value < 10 && !Number.isInteger(value) ? value.toFixed(1) : String(Math.round(value));
}

/** A ratio (0–1) as a percentage. */
export function formatPercent(ratio: number | null): string {
  return ratio === null ? DASH : `${formatNumber(ratio * 100)} %`;
}

/** Milliseconds. */
export function formatMs(ms: number | null): string {
  return ms === null ? DASH : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

function backendLine(region: string, b: BackendNumbers): string {
  const health = b.healthy === null ? "health ?" : b.healthy ? "up" : "EJECTED";
  return `${region}: ${health} · breaker ${b.breaker} · ej ${b.ejections} · fo ${b.failovers}`;
}

function poolLine(entry: EntryNumbers, prefix = ""): string {
  return `${prefix}warm ${formatNumber(entry.warm)} · cold starts ${formatNumber(entry.coldStarts)} · pre-warms ${formatNumber(entry.prewarms)}`;
}

/** The live lines of `node` in `snapshot` (empty lines for an entry the snapshot lacks). */
export function liveLines(node: Pick<GraphNode, "kind" | "entry">, snapshot: DashboardSnapshot): string[] {
  switch (node.kind) {
    case "route": {
      const r = snapshot.routes[node.entry];
      if (!r) return [];
      return [
        `${formatNumber(r.rps)} req/s now · 5xx ${formatPercent(r.errorRate)}`,
        `p50 ${formatMs(r.p50Ms)} · p99 ${formatMs(r.p99Ms)} · ${r.requests} req`,
        `cache hits ${formatPercent(r.cacheHitRatio)} · limited ${r.limited} · failovers ${r.failovers}`,
      ];
    }
    case "function": {
      const f = snapshot.functions[node.entry];
      if (!f) return [];
      return [poolLine(f), ...Object.entries(f.regions).map(([region, b]) => backendLine(region, b))];
    }
    case "model": {
      const m = snapshot.models[node.entry];
      if (!m) return [];
      const weights = m.weights.map((w) => `${w.declared} % (got ${w.observed === null ? DASH : `${formatNumber(w.observed)} %`})`);
      return [
        `weight ${weights.join(", ") || DASH} · batch ${formatNumber(m.batchSize)}`,
        `queue ${formatNumber(m.queueDepth)} · ${poolLine(m)}`,
        ...Object.entries(m.regions).map(([region, b]) => backendLine(region, b)),
      ];
    }
    case "region": {
      const r = snapshot.regions[node.entry];
      if (!r) return [];
      return [`backends up ${r.up}/${r.total} · failovers ${r.failovers}`];
    }
    default:
      return [];
  }
}
