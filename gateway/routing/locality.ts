/**
 * Locality routing in Envoy's priority style. Priority 0 is the edge regions
 * whose localities include the client's; priority 1 is central. Traffic
 * stays on priority 0 while its healthy share is at least `spillBelow`, and
 * spills to central otherwise (or when the client matches no edge).
 */
import type { RegionSpec } from "../../sdk/spec";

/** Regions an entry is placed in, grouped once per route. */
export interface RegionLevels {
  edgesByLocality: Map<string, string[]>;
  central: string[];
}

/** Groups `placedIn` into edge (by locality key) and central levels. */
export function regionLevels(placedIn: readonly string[], regions: Record<string, RegionSpec>): RegionLevels {
  const edgesByLocality = new Map<string, string[]>();
  const central: string[] = [];
  for (const name of placedIn) {
    const region = regions[name];
    if (region?.kind === "central") central.push(name);
    else for (const locality of region?.localities ?? []) edgesByLocality.set(locality, [...(edgesByLocality.get(locality) ?? []), name]);
  }
  return { edgesByLocality, central };
}

function firstHealthy(names: readonly string[], isHealthy: (region: string) => boolean, start: number): string | undefined {
  for (let i = 0; i < names.length; i++) {
    const name = names[(start + i) % names.length];
    if (isHealthy(name)) return name;
  }
  return undefined;
}

/**
 * The region for one request, or undefined when no placed region is healthy.
 * `turn` spreads load across equally near regions.
 */
export function pickRegion(
  levels: RegionLevels,
  locality: string | undefined,
  isHealthy: (region: string) => boolean,
  spillBelow = 0.7,
  turn = 0,
): string | undefined {
  const edges = locality ? levels.edgesByLocality.get(locality) : undefined;
  if (edges && edges.length > 0) {
    const healthyShare = edges.filter(isHealthy).length / edges.length;
    if (healthyShare >= spillBelow) return firstHealthy(edges, isHealthy, turn);
  }
  return firstHealthy(levels.central, isHealthy, turn) ?? (edges ? firstHealthy(edges, isHealthy, turn) : undefined);
}
