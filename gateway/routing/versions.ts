/**
 * Version weights for canary and blue-green splits. With `sticky`, the
 * choice is a hash of the request id, so a retried request lands on the same
 * version; otherwise it is weighted random.
 */
import { hash } from "node:crypto";

/** A split compiled once: cumulative weights in version order. */
export interface CompiledSplit {
  versions: string[];
  cumulative: number[];
  sticky: boolean;
}

/** Compiles `{ version: weight }` into a split. */
export function compileSplit(weights: Record<string, number>, sticky: boolean): CompiledSplit {
  const versions = Object.keys(weights).sort();
  let total = 0;
  const cumulative = versions.map((v) => (total += weights[v]));
  return { versions, cumulative, sticky };
}

function stickyPoint(requestId: string): number {
  // The digest's first four bytes as a big-endian number (hex output: no Buffer of its own to allocate).
  return (Number.parseInt(hash("sha1", requestId, "hex").slice(0, 8), 16) / 0x1_0000_0000) * 100;
}

/** Picks a version for one request. */
export function pickVersion(split: CompiledSplit, requestId: string, random: () => number = Math.random): string {
  const total = split.cumulative[split.cumulative.length - 1];
  const point = (split.sticky ? stickyPoint(requestId) / 100 : random()) * total;
  const index = split.cumulative.findIndex((edge) => point < edge);
  return split.versions[index === -1 ? split.versions.length - 1 : index];
}
