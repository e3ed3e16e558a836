/**
 * Invocation ids. An id names the route it was submitted to and the entry
 * whose queue holds it (a short hash of each, stable across instances and
 * reloads), then 128 random bits. So a status request finds its route before
 * any store is read (the route's auth and rate limit apply to it as they did
 * to the submission), and its queue without a lookup table.
 */
import { createHash, randomBytes } from "node:crypto";

const TAG_LENGTH = 8;
const ID_PATTERN = /^([0-9a-f]{8})([0-9a-f]{8})[0-9a-f]{32}$/;

const tag = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, TAG_LENGTH);

/** The tag of a route key in the ids submitted to it. */
export const routeTag = (routeKey: string): string => tag(`route ${routeKey}`);

/** The tag of a function or model version in the ids queued for it. */
export const entryTag = (kind: "function" | "model", entry: string): string => tag(`${kind} ${entry}`);

/** A new invocation id for `entry` of `routeKey`. */
export function newInvocationId(routeKey: string, kind: "function" | "model", entry: string): string {
  return `${routeTag(routeKey)}${entryTag(kind, entry)}${randomBytes(16).toString("hex")}`;
}

/** The route and entry tags of a well-formed id; undefined for anything else. */
export function parseInvocationId(id: string): { route: string; entry: string } | undefined {
  const match = ID_PATTERN.exec(id);
  return match ? { route: match[1], entry: match[2] } : undefined;
}
