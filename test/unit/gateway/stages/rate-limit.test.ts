import assert from "node:assert/strict";
import Redis from "ioredis";
import { RouteLimiter, type LimitDecision } from "../../../../gateway/route-limiter";
import { rateLimit } from "../../../../gateway/stages/rate-limit";
import type { ServingError } from "../../../../runtime/contract";
import type { RateLimitSpec } from "../../../../sdk/spec";
import { exchange, request, route } from "./exchange-fixture";

const spec = (overrides: Partial<RateLimitSpec> = {}): RateLimitSpec => ({
  requests: 2,
  per: "1 minute",
  burst: 0,
  key: "ip",
  onStoreFailure: "local",
  ...overrides,
});

/** Runs the stage for a caller at `client`; returns the refusal, if any, and the response headers. */
async function call(limiter: RouteLimiter, client = "198.51.100.7") {
  const x = exchange(request(), route("POST /x", {}, new Map(), { limiter }));
  x.client = client;
  x.record.tenant = "t-1";
  const refused = await Promise.resolve(rateLimit().run!(x)).then(
    () => undefined,
    (error: ServingError) => error,
  );
  return { refused, headers: x.res.getHeaders() };
}

describe("rate limit stage", () => {
  let decisions: LimitDecision[];
  const count = (_route: string, decision: LimitDecision) => void decisions.push(decision);
  beforeEach(() => (decisions = []));

  it("passes routes without a limit untouched", () => {
    const x = exchange(request(), route("POST /x"));
    assert.equal(rateLimit().run!(x), undefined);
    assert.equal(x.res.getHeader("ratelimit"), undefined);
  });

  it("allows up to the limit with IETF RateLimit headers, then refuses with RATE_LIMITED and Retry-After", async () => {
    const limiter = new RouteLimiter("POST /x", spec(), undefined, count);
    const first = await call(limiter);
    assert.equal(first.refused, undefined);
    assert.equal(first.headers["ratelimit-policy"], '"route";q=2;w=60');
    assert.match(String(first.headers.ratelimit), /^"route";r=1;t=\d+$/);
    await call(limiter);
    const third = await call(limiter);
    assert.equal(third.refused?.code, "RATE_LIMITED");
    assert.equal(third.refused?.status, 429);
    assert.ok(Number(third.refused?.headers["retry-after"]) >= 1);
    assert.ok(Number(third.headers["retry-after"]) >= 1);
    assert.match(String(third.headers.ratelimit), /^"route";r=0;t=\d+$/);
    assert.deepEqual(decisions, ["allowed", "allowed", "limited"]);
  });

  it("limits by the route's key: another client address has its own budget", async () => {
    const limiter = new RouteLimiter("POST /x", spec({ requests: 1 }), undefined, count);
    assert.equal((await call(limiter, "198.51.100.7")).refused, undefined);
    assert.equal((await call(limiter, "198.51.100.7")).refused?.code, "RATE_LIMITED");
    assert.equal((await call(limiter, "198.51.100.8")).refused, undefined);
  });

  describe("when the Redis store is unavailable", () => {
    let redis: Redis;
    // Never connected, so never ready: the limiter sees the store as down, without a network.
    beforeEach(() => (redis = new Redis({ lazyConnect: true, enableOfflineQueue: false })));
    afterEach(() => redis.disconnect());

    it("lets requests through when the route fails open", async () => {
      const limiter = new RouteLimiter("POST /x", spec({ onStoreFailure: "open" }), redis, count);
      for (let i = 0; i < 3; i++) {
        const { refused, headers } = await call(limiter);
        assert.equal(refused, undefined);
        assert.equal(headers["ratelimit-policy"], '"route";q=2;w=60');
      }
      assert.deepEqual(decisions, ["store-failed-open", "store-failed-open", "store-failed-open"]);
    });

    it("refuses with LIMITER_UNAVAILABLE (503, Retry-After 1) when the route fails closed", async () => {
      const limiter = new RouteLimiter("POST /x", spec({ onStoreFailure: "closed" }), redis, count);
      const { refused } = await call(limiter);
      assert.equal(refused?.code, "LIMITER_UNAVAILABLE");
      assert.equal(refused?.status, 503);
      assert.equal(refused?.headers["retry-after"], "1");
      assert.deepEqual(decisions, ["store-failed-closed"]);
    });

    it("falls back to a per-instance limit when the route asks for a local one", async () => {
      const limiter = new RouteLimiter("POST /x", spec({ onStoreFailure: "local" }), redis, count);
      const outcomes = [await call(limiter), await call(limiter), await call(limiter)].map((o) => o.refused?.code ?? "ok");
      assert.deepEqual(outcomes, ["ok", "ok", "RATE_LIMITED"]);
      assert.deepEqual(decisions, ["store-failed-local", "store-failed-local", "limited"]);
    });

    for (const onStoreFailure of ["open", "closed", "local"] as const)
      it(`builds a route with a burst bucket on Redis, failing ${onStoreFailure}`, async () => {
        const limiter = new RouteLimiter("POST /x", spec({ burst: 1, onStoreFailure }), redis, count);
        const outcomes = [await call(limiter), await call(limiter), await call(limiter), await call(limiter)];
        const codes = outcomes.map((o) => o.refused?.code ?? "ok");
        const expected = {
          open: ["ok", "ok", "ok", "ok"],
          closed: Array(4).fill("LIMITER_UNAVAILABLE"),
          local: ["ok", "ok", "ok", "RATE_LIMITED"],
        };
        assert.deepEqual(codes, expected[onStoreFailure]);
      });
  });
});
