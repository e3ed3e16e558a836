/** Regions must be placeable on the chosen target, and edges reachable. */
import { entries, type Rule } from "./report";

/** Checks that every region has a placement for the target and edges have localities. */
export const placementRule: Rule = (spec, context, report) => {
  for (const [name, region] of entries(spec.regions)) {
    const base = `regions.${name}`;
    if (region.kind === "edge" && region.localities.length === 0) {
      report(
        "CL_EDGE_LOCALITY",
        `${base}.localities`,
        `edge region "${name}" lists no localities`,
        'add the locality keys it serves, e.g. localities: ["de", "cell-fra-1"]',
      );
    }
    if (context.target && region.placement[context.target] === undefined) {
      report(
        "CL_PLACEMENT_MISSING",
        `${base}.placement.${context.target}`,
        `region "${name}" has no placement for ${context.target}`,
        `add placement.${context.target} to region "${name}" (see docs/spec.md for its fields)`,
      );
    }
  }
};
