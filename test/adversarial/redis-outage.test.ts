/**
 * Hole 8: a Redis that stops answering (SIGSTOP: connections stay open,
 * nothing comes back) or dies must not stall requests. Every command is
 * bounded by `redis.commandTimeoutMs`, after which the route's
 * `onStoreFailure` applies: open lets the request through, closed answers
 * 503 LIMITER_UNAVAILABLE, local counts against a per-instance limit.
 */
import assert from "node:assert/strict";
import { gatewayRig, post } from "../support/gateway-app";
import { until } from "../support/until";

/** The test app's routes whose limit (2 per minute, one bucket per route) fails open, closed and local. */
const ROUTES = ["/fail-open", "/fail-closed", "/fail-local"] as const;
/** How long Redis stays frozen or down while the load runs. */
const OUTAGE_MS = 3_000;
/** The bound on any one request while Redis is out: the command timeout (50 ms) with a generous margin for a loaded machine. */
const BOUND_MS = 2_000;

interface Sample {
  route: (typeof ROUTES)[number];
  instance: number;
  started: number;
  ended: number;
  status: number;
  code?: string;
}

const waitFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("gateway when Redis freezes or dies mid-load (hole 8)", () => {
  const rig = gatewayRig({ instances: 2, redis: true });
  // Both clients connected: a limited route answers from Redis, not from a fallback.
  beforeEach(async () => {
    for (const { base } of rig.gateways) await readyOn(base);
  });

  /** Resolves once `base` answers /fail-closed from Redis (anything but 503). */
  async function readyOn(base: string): Promise<void> {
    for (;;) {
      if ((await post(base, "/fail-closed")).status !== 503) return;
      await waitFor(20);
    }
  }

  /** Uses up each route's shared budget (2 per minute across both instances), so Redis alone answers 429. */
  async function exhaustBudgets(): Promise<void> {
    for (const route of ROUTES) for (let i = 0; i < 3; i++) await post(rig.gateways[i % 2].base, route);
    for (const route of ROUTES)
      for (const { base } of rig.gateways)
        assert.equal((await post(base, route)).status, 429, `${route} is limited by Redis before the outage`);
  }

  /** One paced client per route and instance, until `stop()`; at most 60 requests each (360 in all). */
  function load() {
    const samples: Sample[] = [];
    let stopped = false;
    const workers = ROUTES.flatMap((route) =>
      rig.gateways.map(async ({ base }, instance) => {
        for (let n = 0; n < 60 && !stopped; n++) {
          const started = performance.now();
          const response = await post(base, route);
          const body = (await response.json()) as { error?: { code: string } };
          samples.push({ route, instance, started, ended: performance.now(), status: response.status, code: body.error?.code });
          await waitFor(40);
        }
      }),
    );
    return {
      samples,
      stop: async () => {
        stopped = true;
        await Promise.all(workers);
      },
    };
  }

  const latencies = (samples: Sample[]) => samples.map((s) => s.ended - s.started).sort((a, b) => a - b);

  it("bounds every request while Redis is frozen, applies each route's policy, and limits again after SIGCONT", async () => {
    await exhaustBudgets();
    const traffic = load();
    await until(() => traffic.samples.length >= 12);
    await rig.redis!.freeze();
    const frozenAt = performance.now();
    await waitFor(OUTAGE_MS);
    await rig.redis!.thaw();
    const thawedAt = performance.now();
    await traffic.stop();

    const started = traffic.samples.filter((s) => s.started >= frozenAt && s.started < thawedAt);
    const during = started.filter((s) => s.ended < thawedAt);
    const sorted = latencies(started);
    const slowest = sorted.at(-1) ?? Infinity;
    console.log(
      `      frozen ${Math.round(thawedAt - frozenAt)} ms: ${started.length} requests started, ${during.length} finished while frozen; ` +
        `latency p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${slowest.toFixed(1)} ms`,
    );
    assert.ok(slowest < BOUND_MS, `a request started while Redis was frozen took ${Math.round(slowest)} ms`);
    for (const route of ROUTES)
      for (const instance of [0, 1])
        assert.ok(
          during.filter((s) => s.route === route && s.instance === instance).length >= 5,
          `${route} on instance ${instance} was answered while Redis was frozen`,
        );

    const outcomes = (route: string) => during.filter((s) => s.route === route).map((s) => s.code ?? String(s.status));
    assert.deepEqual(new Set(outcomes("/fail-open")), new Set(["200"]), "fail-open lets every request through");
    assert.deepEqual(new Set(outcomes("/fail-closed")), new Set(["LIMITER_UNAVAILABLE"]), "fail-closed answers 503");
    // Redis refused every request before the freeze, so each 200 of /fail-local came from an instance's own limiter.
    for (const instance of [0, 1]) {
      const local = traffic.samples.filter((s) => s.route === "/fail-local" && s.instance === instance);
      assert.equal(local.filter((s) => s.status === 200).length, 2, `instance ${instance} allows its own 2 per minute`);
      assert.ok(local.every((s) => s.status === 200 || s.code === "RATE_LIMITED"));
    }

    const decisions = await rig.gateways[0].gateway.metrics.registry.getSingleMetricAsString("cloudloom_rate_limit_decisions_total");
    assert.match(
      decisions,
      /route="POST \/fail-local",decision="store-failed-local"\} 2\b/,
      "the local fallback's admissions are counted as such",
    );

    // Redis answers again, with the counts it held (and the increments that timed out): every route is limited.
    for (const { base } of rig.gateways)
      for (const route of ROUTES) {
        const response = await post(base, route);
        assert.equal(response.status, 429, `${route} after SIGCONT`);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, "RATE_LIMITED");
      }
  });

  it("bounds every request while Redis is down, applies each route's policy, and shares one limit again once it is back", async () => {
    await exhaustBudgets();
    const traffic = load();
    await until(() => traffic.samples.length >= 12);
    await rig.redis!.stop();
    const downAt = performance.now();
    await waitFor(OUTAGE_MS);
    await traffic.stop();

    const during = traffic.samples.filter((s) => s.started >= downAt);
    const sorted = latencies(during);
    console.log(
      `      down ${OUTAGE_MS} ms: ${during.length} requests; latency p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`,
    );
    assert.ok((sorted.at(-1) ?? Infinity) < BOUND_MS, `a request while Redis was down took ${Math.round(sorted.at(-1) ?? Infinity)} ms`);
    const outcomes = (route: string) => new Set(during.filter((s) => s.route === route).map((s) => s.code ?? String(s.status)));
    assert.deepEqual(outcomes("/fail-open"), new Set(["200"]));
    assert.deepEqual(outcomes("/fail-closed"), new Set(["LIMITER_UNAVAILABLE"]));
    for (const instance of [0, 1])
      assert.equal(traffic.samples.filter((s) => s.route === "/fail-local" && s.instance === instance && s.status === 200).length, 2);

    await rig.redis!.start();
    for (const { base } of rig.gateways) await readyOn(base);
    // A fresh Redis has no counts; readyOn took one point of /fail-closed per instance. Both instances share one budget again.
    for (const route of ["/fail-open", "/fail-local"]) {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await post(rig.gateways[i % 2].base, route)).status);
      assert.deepEqual(statuses, [200, 200, 429, 429, 429, 429], `${route} once Redis is back`);
    }
    assert.equal((await post(rig.gateways[0].base, "/fail-closed")).status, 429);
  });
});
