/**
 * API-key authentication. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every configured key, so timing reveals neither
 * a key nor which one matched. Keys are never logged: the tenant id is a
 * short digest prefix.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ServingError } from "../../runtime/contract";
import type { Stage } from "../exchange";

const digest = (key: string) => createHash("sha256").update(key).digest();

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key`. */
function presentedKey(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith("Bearer ")) return authorization.slice(7).trim();
  const header = req.headers["x-api-key"];
  return typeof header === "string" ? header : undefined;
}

/** Returns an authenticator that maps a request to its tenant id, or throws UNAUTHORIZED. */
export function apiKeyAuthenticator(keys: readonly string[]): (req: IncomingMessage) => string {
  const known = keys.map((key) => ({ digest: digest(key), tenant: `t-${digest(key).toString("hex").slice(0, 12)}` }));
  return (req) => {
    const key = presentedKey(req);
    if (!key) throw new ServingError("UNAUTHORIZED", "this route needs an API key: send Authorization: Bearer <key>");
    const presented = digest(key);
    let tenant: string | undefined;
    for (const entry of known) if (timingSafeEqual(entry.digest, presented)) tenant = entry.tenant;
    if (!tenant) throw new ServingError("UNAUTHORIZED", "the API key is not valid");
    return tenant;
  };
}

/** Names the tenant of every request to an `api-key` route; other routes' callers stay "public". */
export function authenticate(keys: readonly string[]): Stage {
  const tenantOf = apiKeyAuthenticator(keys);
  return {
    run(exchange) {
      if (exchange.route.spec.auth === "api-key") exchange.record.tenant = tenantOf(exchange.req);
    },
  };
}
