/**
 * Limiter accuracy under bounded concurrent load: 200 keep-alive clients,
 * spread over two gateway instances that share one real redis-server on
 * loopback, fire many more requests than a route allows at once. Exactly the
 * route's budget is admitted (200), and every other request is refused with
 * 429 RATE_LIMITED, whichever instance it reached.
 */
import assert from "node:assert/strict";
import type { Pool } from "undici";
import type { Gateway } from "../../gateway/gateway";
import { App, type SpecV1 } from "../../sdk";
import { gatewaySpec, KEY_A, KEY_B, post, startGateway } from "../support/gateway-app";
import { clientPool, send, warm, type Outcome } from "../support/load";
import { redisForSuite, type RedisServer } from "../support/redis";
import { StubUpstream } from "../support/upstream";

/** Concurrent clients, half on each instance. */
const CLIENTS = 200;
const PER_INSTANCE = CLIENTS / 2;

/** A spec of routes with larger budgets than gatewaySpec's /limited: one plain, one bursty, and a probe that tells when Redis answers. */
function quotaSpec(): SpecV1 {
  const app = new App("quota");
  const central = app.region("central", { kind: "central", placement: {} });
  const fn = (name: string) => app.function(name, { handler: `${name}.ts`, regions: [central] });
  app.route("POST /quota", { target: fn("quota"), auth: "none", rateLimit: { requests: 50, per: "1 minute", key: "route" } });
  app.route("POST /bursty", {
    target: fn("bursty"),
    auth: "none",
    rateLimit: { requests: 30, per: "1 minute", burst: 20, key: "route" },
  });
  // A budget no test uses up; closed, so it answers 503 until this instance's Redis client is connected.
  app.route("POST /probe", {
    target: fn("probe"),
    auth: "none",
    rateLimit: { requests: 1_000_000, per: "1 minute", key: "route", onStoreFailure: "closed" },
  });
  return app.toSpec({ root: undefined });
}

const waitFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rate limits under 200 concurrent clients on two instances sharing a real Redis", function () {
  this.timeout(120_000);
  let redis: RedisServer | undefined;
  let central: StubUpstream;
  let edge: StubUpstream;
  let instances: Array<{ gateway: Gateway; base: string; close: () => Promise<void> }> = [];
  let pools: Pool[] = [];

  beforeEach(async function () {
    redis = await redisForSuite(this);
    central = await new StubUpstream("central").start();
    edge = await new StubUpstream("edge").start();
  });
  afterEach(async () => {
    await Promise.all(pools.map((pool) => pool.destroy()));
    pools = [];
    await Promise.all(instances.map(({ close }) => close()));
    instances = [];
    await central?.kill();
    await edge?.kill();
    await redis?.stop();
  });

  /**
   * Two instances of `spec` on the suite's Redis, each behind a pool of 100 open
   * connections. Every client shares 127.0.0.1 and one tenant, so the per-caller
   * concurrency cap is raised above the client count: only the rate limit refuses.
   */
  async function twoInstances(spec: () => SpecV1, probe: string, warmPath: string, warmHeaders: Record<string, string> = {}) {
    // This test is about one shared count, not about a slow store: a loaded machine may take Redis past the default
    // 50 ms bound, and the routes' onStoreFailure would then count locally (redis-outage attacks that path).
    const settings = { redis: { url: redis!.url, commandTimeoutMs: 5_000 }, limits: { perKeyConcurrency: 1_000 } };
    instances = [await startGateway(spec(), central, edge, settings), await startGateway(spec(), central, edge, settings)];
    // Each instance answers `probe` from Redis (not 503 from its closed fallback) before the load starts.
    for (const { base } of instances) while ((await post(base, probe)).status === 503) await waitFor(20);
    pools = instances.map(({ base }) => clientPool(base, PER_INSTANCE));
    for (const pool of pools) await warm(pool, PER_INSTANCE, warmPath, warmHeaders);
  }

  /** `CLIENTS` clients, the i-th on instance i % 2, each sending `each` requests to `path` back to back, all starting at once. */
  async function burst(path: string, each: number, headers: Record<string, string> = {}): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let n = 0; n < each; n++) outcomes.push(await send(pools[client % 2], client, path, { client, n }, headers));
      }),
    );
    return outcomes;
  }

  /** The limiter decisions both instances counted for `route`, summed by decision. */
  async function decisions(route: string): Promise<Record<string, number>> {
    const sums: Record<string, number> = {};
    for (const { gateway } of instances) {
      const text = await gateway.metrics.registry.getSingleMetricAsString("cloudloom_rate_limit_decisions_total");
      for (const match of text.matchAll(/route="([^"]+)",decision="([^"]+)"\} (\d+)/g))
        if (match[1] === route) sums[match[2]] = (sums[match[2]] ?? 0) + Number(match[3]);
    }
    return sums;
  }

  /** Asserts exactly `budget` of `outcomes` were admitted and the rest refused with RATE_LIMITED, on both instances. */
  function assertExact(outcomes: Outcome[], budget: number, label: string): void {
    const allowed = outcomes.filter((o) => o.status === 200);
    const other = outcomes.filter((o) => o.status !== 200 && !(o.status === 429 && o.code === "RATE_LIMITED"));
    const byInstance = [0, 1].map((i) => allowed.filter((o) => o.client % 2 === i).length);
    console.log(
      `      limiter accuracy (${label}): ${allowed.length} of ${budget} allowed across 2 instances with ${CLIENTS} clients ` +
        `(${outcomes.length} requests; instance 0 admitted ${byInstance[0]}, instance 1 ${byInstance[1]}; ` +
        `${outcomes.length - allowed.length - other.length} RATE_LIMITED)`,
    );
    assert.deepEqual(other.slice(0, 5), [], `only 200 and 429 RATE_LIMITED are answered (${other.length} others)`);
    assert.equal(allowed.length, budget, `${label}: ${allowed.length} admitted against a shared budget of ${budget}`);
  }

  it("admits exactly 10 of 400 requests to /limited (10 per minute per API key), and keeps another tenant's budget apart", async () => {
    await twoInstances(gatewaySpec, "/fail-closed", "/open");
    const tenantA = await burst("/limited", 2, { authorization: `Bearer ${KEY_A}` });
    assertExact(tenantA, 10, "/limited, tenant A, 10 per minute");
    const counted = await decisions("POST /limited");
    console.log(`      limiter decisions for POST /limited: ${JSON.stringify(counted)}`);
    assert.deepEqual(counted, { allowed: 10, limited: 390 }, "every decision came from Redis: none fell back to a local limiter");

    // Tenant A's exhaustion is not tenant B's: B gets its own 10, under the same load.
    const tenantB = await burst("/limited", 1, { authorization: `Bearer ${KEY_B}` });
    assertExact(tenantB, 10, "/limited, tenant B, 10 per minute");
  });

  it("admits exactly 50 of 600 requests to a 50-per-minute route, and exactly 30 + 20 burst of 600 to a bursty one", async () => {
    await twoInstances(quotaSpec, "/probe", "/probe");
    const plain = await burst("/quota", 3);
    assertExact(plain, 50, "/quota, 50 per minute, burst 0");
    const bursty = await burst("/bursty", 3);
    assertExact(bursty, 50, "/bursty, 30 per minute + burst 20");
    const counted = { quota: await decisions("POST /quota"), bursty: await decisions("POST /bursty") };
    console.log(`      limiter decisions: ${JSON.stringify(counted)}`);
    assert.deepEqual(counted.quota, { allowed: 50, limited: 550 });
    assert.deepEqual(counted.bursty, { allowed: 50, limited: 550 });
    // The upstream saw exactly the admitted requests (and the probes and warm-up), never a refused one.
    const reached = (path: string) => central.received.filter((r) => r.path.endsWith(`/${path}`)).length;
    assert.equal(reached("quota"), 50);
    assert.equal(reached("bursty"), 50);
  });
});
