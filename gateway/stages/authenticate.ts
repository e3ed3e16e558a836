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

/** The token of `Authorization: Bearer <token>` (the scheme as RFC 6750 spells it), else undefined. */
function bearerToken(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  return authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() || undefined : undefined;
}

/** The value of header `name` when it is one non-empty string. */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key`. */
function presentedKey(req: IncomingMessage): string | undefined {
  return bearerToken(req) ?? headerValue(req, "x-api-key");
}

/** The admin key a request presents: `x-admin-key`. */
const presentedAdminKey = (req: IncomingMessage): string | undefined => headerValue(req, "x-admin-key");

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

async function wrongKey(failures: AuthFailures, client: string, message: string, headers?: Record<string, string>): Promise<never> {
  await failures.failed(client);
  throw new ServingError("UNAUTHORIZED", message, headers);
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

/** What one operational endpoint's secret check compares, and what it answers. */
interface SecretCheckOptions {
  /** The secrets it accepts (those unset are left out; none set refuses every request). */
  expected: ReadonlyArray<string | undefined>;
  /** Its own count of wrong secrets per client address. */
  scope: string;
  /** Finds the presented secret in a request. */
  read: (req: IncomingMessage) => string | undefined;
  /** The 401's message. */
  message: string;
  /** Headers of the 401 (a `WWW-Authenticate` challenge). */
  challenge?: Record<string, string>;
  /**
   * Machine tokens among `expected` that pass even from an address over its
   * limit of wrong secrets. Without this, anyone sharing the address of
   * KEDA or of reporting functions (every client of a gateway that cannot
   * tell clients apart, such as one behind a forwarder it does not trust)
   * would shut them out with a few wrong tokens a minute, and a model at zero
   * would never wake. The limit then no longer slows guessing these tokens,
   * which their length must make hopeless: generated ones hold 192 bits or
   * more. Never an admin key.
   */
  sparedByLimit?: ReadonlyArray<string | undefined>;
}

/** The digests of the secrets that are set. */
const digestsOf = (secrets: ReadonlyArray<string | undefined>): Buffer[] =>
  secrets.filter((secret): secret is string => Boolean(secret)).map(digest);

/** Whether `presented` is one of `digests`, compared in constant time with every one, matched or not. */
function matchesAny(digests: readonly Buffer[], presented: Buffer): boolean {
  let matched = false;
  for (const known of digests) if (timingSafeEqual(known, presented)) matched = true;
  return matched;
}

/**
 * A check of the shared secrets an operational endpoint takes against the
 * presented one, compared as digests in constant time with every accepted
 * secret, matched or not, with wrong ones limited per client address as API
 * keys are, on a count of its own; a spared machine token passes before the
 * limit is asked. Resolves when the request may proceed; rejects with the
 * ServingError to send.
 */
function secretCheck(
  settings: GatewaySettings,
  { expected, scope, read, message, challenge, sparedByLimit = [] }: SecretCheckOptions,
  redis?: Redis,
): (req: IncomingMessage) => Promise<void> {
  const digests = digestsOf(expected);
  const spared = digestsOf(sparedByLimit);
  const clientOf = clientAddressResolver(settings);
  const failures = new AuthFailures(settings.limits.authFailures, scope, redis);
  return async (req) => {
    const client = clientOf(req);
    const key = read(req);
    const presented = key ? digest(key) : undefined;
    if (presented && spared.length > 0 && matchesAny(spared, presented)) return;
    failures.admit(client);
    if (!presented) throw new ServingError("UNAUTHORIZED", message, challenge);
    if (!matchesAny(digests, presented)) await wrongKey(failures, client, message, challenge);
  };
}

/** The admin endpoints' check: `x-admin-key` against the settings' admin key (see secretCheck). */
export function adminKeyCheck(settings: GatewaySettings, redis?: Redis): (req: IncomingMessage) => Promise<void> {
  return secretCheck(
    settings,
    { expected: [settings.adminKey], scope: "admin", read: presentedAdminKey, message: "the admin key is not valid" },
    redis,
  );
}

/** The demand reports' check: `Authorization: Bearer <token>` against the settings' demand token (see secretCheck). */
export function demandTokenCheck(settings: GatewaySettings, redis?: Redis): (req: IncomingMessage) => Promise<void> {
  return secretCheck(
    settings,
    {
      expected: [settings.demandToken],
      sparedByLimit: [settings.demandToken],
      scope: "demand",
      read: presentedKey,
      message: "the demand token is not valid",
    },
    redis,
  );
}

/**
 * The metrics' check (`/metrics`, DEMAND_PATH): `Authorization: Bearer <token>` with the settings'
 * metrics token, which Prometheus and KEDA present, or the admin key (as that Bearer token or in
 * `x-admin-key`, as the other operational endpoints take it), so an operator needs no second secret.
 * A 401 carries the `WWW-Authenticate: Bearer` challenge (RFC 6750). See secretCheck.
 */
export function metricsTokenCheck(settings: GatewaySettings, redis?: Redis): (req: IncomingMessage) => Promise<void> {
  return secretCheck(
    settings,
    {
      expected: [settings.metricsToken, settings.adminKey],
      sparedByLimit: [settings.metricsToken],
      scope: "metrics",
      read: (req) => bearerToken(req) ?? presentedAdminKey(req),
      message: "the metrics need a token: send Authorization: Bearer <metrics token>",
      challenge: { "www-authenticate": 'Bearer realm="cloudloom-metrics"' },
    },
    redis,
  );
}
