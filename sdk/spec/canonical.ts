/**
 * Canonical form: object keys sorted at every level and `undefined` dropped,
 * so the same declaration always serializes to the same bytes.
 */

/** Returns a deep copy of `value` with sorted keys and no undefined members. */
export function canonicalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => canonicalize(item)) as T;
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = canonicalize(member);
  }
  return sorted as T;
}

/** Serializes a spec (or any JSON value) deterministically, with a trailing newline. */
export function toCanonicalJson(value: unknown): string {
  return `${JSON.stringify(canonicalize(value), null, 2)}\n`;
}
