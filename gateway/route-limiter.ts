/**
 * Per-route rate limits on rate-limiter-flexible: `requests` per `per`, plus
 * `burst` from a second bucket (BurstyRateLimiter). With Redis, limits hold
 * across gateway instances; when Redis is unreachable the route's
 * `onStoreFailure` decides: `open` lets requests through, `closed` answers
 * 503, `local` falls back to a per-instance limiter. A Redis that does not
 * answer fails each command after the client's `commandTimeout`, so the
 * policy applies within that bound. Each case is counted.
 * Every response gets IETF RateLimit / RateLimit-Policy headers.
 */
import type Redis from "ioredis";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { toSeconds, type RateLimitSpec } from "../sdk/spec";
import { ServingError } from "../runtime/contract";

/** What happened to one request at the limiter. */
export type LimitDecision = "allowed" | "limited" | "store-failed-open" | "store-failed-closed" | "store-failed-local";

/** Counts each decision (for metrics). */
export type DecisionCounter = (route: string, decision: LimitDecision) => void;

/** The outcome the pipeline acts on: headers to send, and whether to refuse. */
export interface LimitOutcome {
  headers: Record<string, string>;
  refuse?: ServingError;
}

/**
 * The route's limiter on one store: one bucket, or the rate bucket plus the
 * burst bucket (BurstyRateLimiter), in Redis when given, else in memory.
 */
function build(spec: RateLimitSpec, route: string, redis: Redis | undefined): RateLimiterAbstract {
  const duration = Math.max(1, Math.round(toSeconds(spec.per)));
  const make = (points: number, prefix: string) => {
    const options = { points, duration, keyPrefix: `cl:${prefix}:${route}` };
    // Not ready (down, reconnecting) rejects at once; a frozen Redis rejects after the client's commandTimeout.
    return redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true }) : new RateLimiterMemory(options);
  };
  const main = make(spec.requests, "rate");
  return spec.burst > 0 ? (new BurstyRateLimiter(main, make(spec.burst, "burst")) as unknown as RateLimiterAbstract) : main;
}

/** The rate limit of one route. */
export class RouteLimiter {
  private readonly limiter: RateLimiterAbstract;
  /**
   * The per-instance limiter a `local` route on Redis falls back to. It is
   * consulted only when the store fails, so it counts only the requests the
   * store could not, and each fallback is known (and counted) as one.
   */
  private readonly local?: RateLimiterAbstract;
  private readonly policy: string;
  private readonly windowSeconds: number;

  constructor(
    private readonly route: string,
    private readonly spec: RateLimitSpec,
    redis: Redis | undefined,
    private readonly count: DecisionCounter,
  ) {
    this.windowSeconds = Math.max(1, Math.round(toSeconds(spec.per)));
    this.limiter = build(spec, route, redis);
    if (redis && spec.onStoreFailure === "local") this.local = build(spec, route, undefined);
    this.policy = `"route";q=${spec.requests};w=${this.windowSeconds}${spec.burst > 0 ? `, "burst";q=${spec.burst};w=${this.windowSeconds}` : ""}`;
  }

  /** The key this route limits by, from the caller's tenant and address. */
  keyFor(tenant: string, client: string): string {
    if (this.spec.key === "api-key") return tenant;
    if (this.spec.key === "ip") return client;
    return "route";
  }

  /**
   * Takes one point for `key`. One promise per request (the store's), whatever
   * happens: the outcome is built in its callbacks, not in async layers over it.
   */
  consume(key: string): Promise<LimitOutcome> {
    return this.limiter.consume(key, 1).then(this.allowed, (error: unknown) => this.notAllowed(error, key));
  }

  private readonly allowed = (res: RateLimiterRes): LimitOutcome => {
    this.count(this.route, "allowed");
    return { headers: this.headers(res) };
  };

  /** A refusal, or a store failure (Redis down, or a command timed out), which goes to the route's policy. */
  private notAllowed(error: unknown, key: string): LimitOutcome | Promise<LimitOutcome> {
    if (error instanceof RateLimiterRes) return this.limited(error);
    if (!this.local) return this.storeFailed();
    return this.local.consume(key, 1).then(
      (res) => {
        this.count(this.route, "store-failed-local");
        return { headers: this.headers(res) };
      },
      (refused: unknown) => (refused instanceof RateLimiterRes ? this.limited(refused) : this.storeFailed()),
    );
  }

  private limited(res: RateLimiterRes): LimitOutcome {
    this.count(this.route, "limited");
    const retryAfter = String(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
    return {
      headers: { ...this.headers(res), "retry-after": retryAfter },
      refuse: new ServingError("RATE_LIMITED", `rate limit of ${this.spec.requests} per ${this.spec.per} exceeded`, {
        "retry-after": retryAfter,
      }),
    };
  }

  private storeFailed(): LimitOutcome {
    if (this.spec.onStoreFailure === "open") {
      this.count(this.route, "store-failed-open");
      return { headers: { "ratelimit-policy": this.policy } };
    }
    this.count(this.route, "store-failed-closed");
    return {
      headers: { "ratelimit-policy": this.policy },
      refuse: new ServingError("LIMITER_UNAVAILABLE", "the rate limiter's store is unavailable; retry shortly", { "retry-after": "1" }),
    };
  }

  private headers(res: RateLimiterRes): Record<string, string> {
    const reset = Math.max(0, Math.ceil(res.msBeforeNext / 1000));
    return { "ratelimit-policy": this.policy, ratelimit: `"route";r=${Math.max(0, res.remainingPoints)};t=${reset}` };
  }
}
