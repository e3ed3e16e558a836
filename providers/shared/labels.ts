/** Labels and tags that point every resource back to its spec entry. */

/** The kinds of spec entry a resource can belong to. */
export type EntryKind = "app" | "region" | "gpu-pool" | "model" | "function" | "gateway";

/** `cloudloom.dev/app`, `cloudloom.dev/kind`, `cloudloom.dev/name`, plus any extras. */
export function entryLabels(app: string, kind: EntryKind, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return { "cloudloom.dev/app": app, "cloudloom.dev/kind": kind, "cloudloom.dev/name": name, ...extra };
}

/** The label keys every resource carries. */
export const REQUIRED_LABELS = ["cloudloom.dev/app", "cloudloom.dev/kind", "cloudloom.dev/name"] as const;

/**
 * Annotation of a node-port Service whose port only an authenticated front
 * can reach (on AWS: a security group that admits only the load balancer
 * behind an AWS_IAM API route). Its value names that front.
 */
export const FRONTED_BY = "cloudloom.dev/fronted-by";

/**
 * Annotation of a load-balanced Service whose pods serve only calls with the
 * gateway's JWT (their container has `CLOUDLOOM_JWT_JWKS`). Its value is `jwt`.
 */
export const REQUIRES_AUTH = "cloudloom.dev/requires-auth";
