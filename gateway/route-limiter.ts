/**
 * Per-route rate limits on rate-limiter-flexible: `requests` per `per`, plus
 * `burst` from a second bucket (BurstyRateLimiter). With Redis, limits hold
 * across gateway instances; when Redis is unreachable the route's
 * `onStoreFailure` decides: `open` lets requests through, `closed` answers
 * 503, `local` falls back to a per-instance limiter. Each case is counted.
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
 * The route's limiter: one bucket, or the rate bucket plus the burst bucket.
 * On Redis with `local` insurance each bucket is insured by a per-instance
 * bucket of its own size (rate-limiter-flexible insures one store limiter at
 * a time, so a BurstyRateLimiter cannot insure one).
 */
function build(spec: RateLimitSpec, route: string, redis: Redis | undefined, localInsurance: boolean): RateLimiterAbstract {
  const duration = Math.max(1, Math.round(toSeconds(spec.per)));
  const options = (points: number, prefix: string) => ({ points, duration, keyPrefix: `cl:${prefix}:${route}` });
  const make = (points: number, prefix: string) => {
    const memory = new RateLimiterMemory(options(points, prefix));
    if (!redis) return memory;
    return new RateLimiterRedis({
      ...options(points, prefix),
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: localInsurance ? memory : undefined,
    });
  };
  const main = make(spec.requests, "rate");
  return spec.burst > 0 ? (new BurstyRateLimiter(main, make(spec.burst, "burst")) as unknown as RateLimiterAbstract) : main;
}

/** The rate limit of one route. */
export class RouteLimiter {
  private readonly limiter: RateLimiterAbstract;
  private readonly policy: string;
  private readonly windowSeconds: number;

  constructor(
    private readonly route: string,
    private readonly spec: RateLimitSpec,
    private readonly redis: Redis | undefined,
    private readonly count: DecisionCounter,
  ) {
    this.windowSeconds = Math.max(1, Math.round(toSeconds(spec.per)));
    this.limiter = build(spec, route, redis, spec.onStoreFailure === "local");
    this.policy = `"route";q=${spec.requests};w=${this.windowSeconds}${spec.burst > 0 ? `, "burst";q=${spec.burst};w=${this.windowSeconds}` : ""}`;
  }

  /** The key this route limits by, from the caller's tenant and address. */
  keyFor(tenant: string, client: string): string {
    if (this.spec.key === "api-key") return tenant;
    if (this.spec.key === "ip") return client;
    return "route";
  }

  /** Takes one point for `key`. */
  async consume(key: string): Promise<LimitOutcome> {
    try {
      const res = await this.limiter.consume(key, 1);
      const decision =
        this.redis && this.spec.onStoreFailure === "local" && !this.redis.status.startsWith("ready") ? "store-failed-local" : "allowed";
      this.count(this.route, decision);
      return { headers: this.headers(res) };
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        this.count(this.route, "limited");
        const retryAfter = String(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
        return {
          headers: { ...this.headers(error), "retry-after": retryAfter },
          refuse: new ServingError("RATE_LIMITED", `rate limit of ${this.spec.requests} per ${this.spec.per} exceeded`, {
            "retry-after": retryAfter,
          }),
        };
      }
      return this.storeFailed();
    }
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
