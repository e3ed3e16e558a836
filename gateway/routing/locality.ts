/**
 * Locality routing: the nearest edge region whose localities match the
 * client's, otherwise central. Health-aware spill-over builds on this.
 */
import type { RegionSpec } from "../../sdk/spec";

/** Picks the region for a client among the regions an entry is placed in. */
export function chooseRegion(
  placedIn: readonly string[],
  regions: Record<string, RegionSpec>,
  locality: string | undefined,
  isHealthy: (region: string) => boolean = () => true,
): string {
  if (locality) {
    const edge = placedIn.find((name) => regions[name]?.kind === "edge" && regions[name].localities.includes(locality) && isHealthy(name));
    if (edge) return edge;
  }
  return (
    placedIn.find((name) => regions[name]?.kind === "central" && isHealthy(name)) ??
    placedIn.find((name) => regions[name]?.kind === "central") ??
    placedIn[0]
  );
}
