/**
 * Resource names derived from the app, the entry and the region. They stay
 * stable when other entries change, so one edit never renames the rest.
 */
import { createHash } from "node:crypto";

/** Kubernetes and most clouds cap names at 63 characters. */
const MAX_NAME = 63;

/** Lower-cases and replaces anything but letters, digits and dashes. */
export function dnsSafe(part: string): string {
  return part
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * `<app>-<parts...>`, DNS-safe; names over 63 characters are cut and end in a
 * short hash of the full name, so they stay unique and stable.
 */
export function resourceName(app: string, ...parts: string[]): string {
  const full = [app, ...parts].map(dnsSafe).filter(Boolean).join("-");
  if (full.length <= MAX_NAME) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${full.slice(0, MAX_NAME - 9).replace(/-+$/, "")}-${hash}`;
}

/** The name part of a model version: `intent@1.2` → `intent-v1-2`. */
export function modelPart(name: string, version: string): string {
  return `${name}-v${dnsSafe(version.replace(/\./g, "-"))}`;
}
