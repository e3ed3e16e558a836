/**
 * API-key and admin-key authentication. Keys are compared as SHA-256 digests
 * with `timingSafeEqual`, against every configured key, so timing reveals
 * neither a key nor which one matched. Keys are never logged: the tenant id is
 * a short digest prefix. Wrong keys are counted per client address
 * (AuthFailures), and an address over the limit is refused before its key is
 * looked at, so guessing runs at a few keys per window, not thousands a second.
 */
import { hash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type Redis from "ioredis";
import { LRUCache } from "lru-cache";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { ServingError } from "../../runtime/contract";
import type { GatewaySettings } from "../config";
import type { Stage } from "../exchange";
import { clientAddressResolver } from "./client-address";

/**
 * A key's SHA-256, hashed one-shot (no Hash object per request) into a string, whose bytes become a
 * pooled Buffer: a Buffer made by the hash itself has its own backing store, and cost ~1 µs more.
 */
const digest = (key: string) => Buffer.from(hash("sha256", key, "binary"), "binary");

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key`. */
function presentedKey(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith("Bearer ")) return authorization.slice(7).trim() || undefined;
  const header = req.headers["x-api-key"];
  return typeof header === "string" && header !== "" ? header : undefined;
}

/** Returns the lookup of a presented key's tenant id: undefined for a key that is not one of `keys`. */
export function apiKeyTenants(keys: readonly string[]): (key: string) => string | undefined {
  const known = keys.map((key) => ({ digest: digest(key), tenant: `t-${digest(key).toString("hex").slice(0, 12)}` }));
  return (key) => {
    const presented = digest(key);
    let tenant: string | undefined;
    // Every key is compared, matched or not, so the time taken does not say which one matched.
    for (const entry of known) if (timingSafeEqual(entry.digest, presented)) tenant = entry.tenant;
    return tenant;
  };
}

/** Addresses over the limit remembered at most, so a sweep of addresses cannot grow memory without bound. */
const MAX_BLOCKED = 100_000;

/**
 * Wrong keys per client address: `perAddress` per `windowSeconds`, in Redis
 * when the gateway has it (with a per-instance count while Redis fails), in
 * memory otherwise. An address over the limit is remembered here until its
 * window ends, so checking a request costs no store round trip; with Redis,
 * another instance learns of it at that address's next wrong key there.
 */
export class AuthFailures {
  private readonly counter: RateLimiterAbstract;
  /** Blocked address to the time (epoch ms) its window ends. */
  private readonly blocked = new LRUCache<string, number>({ max: MAX_BLOCKED });

  constructor(limits: GatewaySettings["limits"]["authFailures"], scope: string, redis?: Redis) {
    const options = { points: limits.perAddress, duration: limits.windowSeconds, keyPrefix: `cl:auth-failures:${scope}` };
    const memory = new RateLimiterMemory(options);
    this.counter = redis
      ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory })
      : memory;
  }

  /** Throws RATE_LIMITED (429, Retry-After) while `address` is over the limit. */
  admit(address: string): void {
    const until = this.blocked.get(address);
    if (until !== undefined) throw refusal(until - Date.now());
  }

  /** Counts a wrong key from `address`; rejects with RATE_LIMITED once that puts it over the limit. */
  async failed(address: string): Promise<void> {
    try {
      await this.counter.consume(address);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const ms = Math.max(1, error.msBeforeNext);
      this.blocked.set(address, Date.now() + ms, { ttl: ms });
      throw refusal(ms);
    }
  }
}

function refusal(msLeft: number): ServingError {
  const retryAfter = String(Math.max(1, Math.ceil(msLeft / 1000)));
  return new ServingError("RATE_LIMITED", "too many failed authentications from this address; retry later", { "retry-after": retryAfter });
}

async function wrongKey(failures: AuthFailures, client: string, message: string): Promise<never> {
  await failures.failed(client);
  throw new ServingError("UNAUTHORIZED", message);
}

/**
 * Names the tenant of every request to an `api-key` route; other routes' callers stay "public".
 * A request without a key is refused without counting (it guesses nothing); a wrong key counts
 * against the client address.
 */
export function authenticate(keys: readonly string[], failures: AuthFailures): Stage {
  const tenantOf = apiKeyTenants(keys);
  return {
    run(exchange) {
      if (exchange.route.spec.auth !== "api-key") return;
      failures.admit(exchange.client);
      const key = presentedKey(exchange.req);
      if (!key) throw new ServingError("UNAUTHORIZED", "this route needs an API key: send Authorization: Bearer <key>");
      const tenant = tenantOf(key);
      if (tenant === undefined) return wrongKey(failures, exchange.client, "the API key is not valid");
      exchange.record.tenant = tenant;
    },
  };
}

/**
 * A check of one shared secret an operational endpoint takes (`read` finds it in the request)
 * against `expected` (none configured refuses every request), with wrong ones limited per
 * client address as API keys are, on a count of its own (`scope`). Resolves when the request
 * may proceed; rejects with the ServingError to send.
 */
function secretCheck(
  settings: GatewaySettings,
  expected: string | undefined,
  scope: string,
  read: (req: IncomingMessage) => string | undefined,
  message: string,
  redis?: Redis,
): (req: IncomingMessage) => Promise<void> {
  const digested = expected ? digest(expected) : undefined;
  const clientOf = clientAddressResolver(settings);
  const failures = new AuthFailures(settings.limits.authFailures, scope, redis);
  return async (req) => {
    const client = clientOf(req);
    failures.admit(client);
    const key = read(req);
    if (!key) throw new ServingError("UNAUTHORIZED", message);
    if (digested && timingSafeEqual(digested, digest(key))) return;
    await wrongKey(failures, client, message);
  };
}

/** The admin endpoints' check: `x-admin-key` against the settings' admin key (see secretCheck). */
export function adminKeyCheck(settings: GatewaySettings, redis?: Redis): (req: IncomingMessage) => Promise<void> {
  return secretCheck(
    settings,
    settings.adminKey,
    "admin",
    (req) => {
      const key = req.headers["x-admin-key"];
      return typeof key === "string" ? key : undefined;
    },
    "the admin key is not valid",
    redis,
  );
}

/** The demand reports' check: `Authorization: Bearer <token>` against the settings' demand token (see secretCheck). */
export function demandTokenCheck(settings: GatewaySettings, redis?: Redis): (req: IncomingMessage) => Promise<void> {
  return secretCheck(settings, settings.demandToken, "demand", presentedKey, "the demand token is not valid", redis);
}
