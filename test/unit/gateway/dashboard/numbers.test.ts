import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Registry } from "prom-client";
import { fromThisMachine } from "../../../../gateway/dashboard/access";
import { liveLineCount, liveLines } from "../../../../gateway/dashboard/live-lines";
import { seriesPoint, snapshotOf, type Sample } from "../../../../gateway/dashboard/numbers";
import { bucketDelta, histogramQuantile } from "../../../../gateway/dashboard/quantile";
import { emptyReadings, readMetrics } from "../../../../gateway/dashboard/readings";
import { MetricsSampler } from "../../../../gateway/dashboard/sampler";
import { fromColumns } from "../../../../gateway/dashboard/snapshot";
import { GatewayMetrics } from "../../../../gateway/metrics";
import { RuntimeMetrics } from "../../../../runtime/metrics";
import { loadApp } from "../../../../sdk/load-app";

const spec = loadApp("examples/support-desk").toDraft();
const CLASSIFY = "POST /v1/classify";
const INTENT = "POST /v1/models/intent";
const RECLASSIFY = "POST /v1/tickets/reclassify";

/** Records `count` requests to `route` (`<METHOD> <path>`) in the gateway's request histogram, each taking `seconds`. */
function served(gateway: GatewayMetrics, route: string, region: string, version: string, status: string, seconds: number, count = 1) {
  const [method, path] = route.split(" ");
  const child = gateway.requests.labels({
    http_request_method: method,
    http_route: path,
    http_response_status_code: status,
    region,
    version,
  });
  for (let i = 0; i < count; i++) child.observe(seconds);
}

/** A registry holding the gateway's and the runtime's metrics, as on the local target. */
function metrics() {
  const registry = new Registry();
  return { registry, gateway: new GatewayMetrics(registry), runtime: new RuntimeMetrics(registry) };
}

describe("dashboard numbers", () => {
  describe("histogramQuantile", () => {
    it("interpolates inside the bucket the rank falls in, as Prometheus does", () => {
      const buckets: Array<[number, number]> = [
        [10, 50],
        [20, 100],
        [Infinity, 100],
      ];
      assert.equal(histogramQuantile(0.5, buckets), 10);
      assert.equal(histogramQuantile(0.75, buckets), 15);
      assert.equal(histogramQuantile(0.25, buckets), 5);
    });

    it("answers the highest finite bound for a rank in +Inf, and null without observations", () => {
      assert.equal(
        histogramQuantile(0.99, [
          [5, 1],
          [Infinity, 10],
        ]),
        5,
      );
      assert.equal(
        histogramQuantile(0.5, [
          [5, 0],
          [Infinity, 0],
        ]),
        null,
      );
      assert.equal(histogramQuantile(0.5, []), null);
    });

    it("subtracts an earlier histogram bucket by bucket, never below zero", () => {
      assert.deepEqual(
        bucketDelta(
          [
            [1, 5],
            [Infinity, 9],
          ],
          [
            [1, 2],
            [Infinity, 12],
          ],
        ),
        [
          [1, 3],
          [Infinity, 0],
        ],
      );
      assert.deepEqual(bucketDelta([[1, 5]], undefined), [[1, 5]]);
    });
  });

  describe("readMetrics (the one adapter over metric names)", () => {
    it("reads requests, errors, latency, cache, limiter, failovers, ejections, health and the runtime's pools", async () => {
      const { registry, gateway, runtime } = metrics();
      served(gateway, CLASSIFY, "central", "intent@1", "200", 0.004, 3);
      served(gateway, CLASSIFY, "edge-berlin", "intent@1", "503", 0.02);
      gateway.cache.labels(CLASSIFY, "HIT").inc(2);
      gateway.cache.labels(CLASSIFY, "MISS").inc();
      gateway.cache.labels(CLASSIFY, "BYPASS").inc(7);
      gateway.limiter.labels(INTENT, "limited").inc(4);
      gateway.limiter.labels(INTENT, "allowed").inc(9);
      gateway.failovers.labels(CLASSIFY, "edge-berlin").inc();
      gateway.ejections.labels("function:classify", "edge-berlin").inc(2);
      gateway.watch(() => ({
        backendHealth: () => [{ backend: "function:classify", region: "central", healthy: false }],
        breakerStates: () => [],
      }));
      runtime.events(() => undefined).onColdStart!("classify", "central", 12);
      runtime.events(() => undefined).onBatch!("intent@1", 4);
      runtime.watch({ occupancy: () => [{ entry: "intent@1", region: "central", instances: 2 }] });
      runtime.events(() => undefined).watchQueues!(() => [{ model: "intent@1", region: "central", depth: 5 }]);

      const readings = await readMetrics(registry);
      const route = readings.routes[CLASSIFY];
      assert.equal(route.requests, 4);
      assert.equal(route.errors, 1);
      assert.deepEqual(route.byVersion, { "intent@1": 4 });
      assert.deepEqual(route.latency.slice(0, 3), [
        [5, 3],
        [10, 3],
        [25, 4],
      ]);
      assert.deepEqual(route.latency[route.latency.length - 1], [Infinity, 4]);
      assert.equal(route.cacheHits, 2);
      assert.equal(route.cacheMisses, 1);
      assert.equal(readings.routes[INTENT].limited, 4);
      assert.deepEqual(readings.failovers, { [`${CLASSIFY}|edge-berlin`]: 1 });
      assert.deepEqual(readings.ejections, { "function:classify|edge-berlin": 2 });
      assert.deepEqual(readings.healthy, { "function:classify|central": 0 });
      assert.deepEqual(readings.coldStarts, { "classify|central": 1 });
      assert.deepEqual(readings.warm, { "intent@1|central": 2 });
      assert.deepEqual(readings.queue, { "intent@1|central": 5 });
      assert.deepEqual(readings.batches, { "intent@1": { samples: 4, batches: 1 } });
    });
  });

  describe("snapshotOf", () => {
    it("reports every entry of the spec, with zeros and unknowns before any traffic", () => {
      const origin: Sample = { at: 0, readings: emptyReadings() };
      const latest: Sample = { at: 1_000, readings: emptyReadings() };
      const snapshot = snapshotOf(spec, "g1", latest, origin, seriesPoint(spec, latest, origin));
      assert.deepEqual(Object.keys(snapshot.routes), [CLASSIFY, INTENT, RECLASSIFY]);
      assert.deepEqual(snapshot.routes[CLASSIFY], {
        rps: 0,
        requests: 0,
        errorRate: null,
        p50Ms: null,
        p99Ms: null,
        cacheHitRatio: null,
        limited: 0,
        failovers: 0,
      });
      assert.deepEqual(snapshot.functions.classify.regions.central, { healthy: null, breaker: "closed", ejections: 0, failovers: 0 });
      assert.equal(snapshot.models["intent@1"].warm, null, "a gateway without the runtime does not know its pools");
      assert.deepEqual(snapshot.models["intent@1"].weights, [{ route: INTENT, declared: 100, observed: null }]);
      assert.deepEqual(snapshot.regions.central, { up: 0, total: 0, failovers: 0 });
    });

    it("counts over the window and rates over the rate base, from real metrics", async () => {
      const { registry, gateway, runtime } = metrics();
      const before: Sample = { at: 0, readings: await readMetrics(registry) };
      served(gateway, CLASSIFY, "central", "intent@1", "200", 0.002, 10);
      served(gateway, CLASSIFY, "central", "intent@1", "200", 0.02, 8);
      served(gateway, CLASSIFY, "central", "intent@1", "500", 0.02, 2);
      gateway.cache.labels(CLASSIFY, "MISS").inc();
      gateway.cache.labels(CLASSIFY, "HIT").inc();
      served(gateway, INTENT, "central", "1", "200", 0.002, 4);
      gateway.watch(() => ({
        backendHealth: () => [
          { backend: "function:classify", region: "central", healthy: true },
          { backend: "function:classify", region: "edge-berlin", healthy: false },
        ],
        breakerStates: () => [{ route: CLASSIFY, region: "edge-berlin", state: 2 }],
      }));
      runtime.watch({ occupancy: () => [{ entry: "classify", region: "central", instances: 1 }] });
      const latest: Sample = { at: 10_000, readings: await readMetrics(registry) };
      const point = seriesPoint(spec, latest, before);
      const snapshot = snapshotOf(spec, "g1", latest, before, point);

      const route = snapshot.routes[CLASSIFY];
      assert.equal(route.requests, 20);
      assert.equal(route.rps, 2);
      assert.equal(route.errorRate, 0.1);
      assert.equal(route.cacheHitRatio, 0.5);
      assert.ok(route.p50Ms! > 0 && route.p50Ms! <= 5, `p50 ${route.p50Ms}`);
      assert.ok(route.p99Ms! > 10 && route.p99Ms! <= 25, `p99 ${route.p99Ms}`);
      assert.equal(point.errorsPerSecond[CLASSIFY], 0.2);
      assert.deepEqual(snapshot.functions.classify.regions["edge-berlin"], { healthy: false, breaker: "open", ejections: 0, failovers: 0 });
      assert.equal(snapshot.functions.classify.warm, 1);
      assert.deepEqual(snapshot.regions["edge-berlin"], { up: 0, total: 1, failovers: 0 });
      assert.deepEqual(snapshot.models["intent@1"].weights, [{ route: INTENT, declared: 100, observed: 100 }]);
    });
  });

  describe("MetricsSampler", () => {
    it("keeps fifteen minutes of points and measures the window from the reading at its start", async () => {
      const { registry, gateway } = metrics();
      let now = 0;
      const sampler = new MetricsSampler({ registry, current: () => ({ spec, generation: "g" }), now: () => now });
      const seen: number[] = [];
      const stop = sampler.subscribe((snapshot) => seen.push(snapshot.routes[CLASSIFY].requests));
      for (let minute = 0; minute < 20; minute++) {
        served(gateway, CLASSIFY, "central", "-", "200", 0.002);
        now = minute * 60_000;
        await sampler.sample();
      }
      stop();
      assert.equal(seen.length, 20);
      assert.deepEqual(seen.slice(0, 3), [1, 2, 3], "inside the first window, everything since start counts");
      assert.equal(seen[19], 15, "then the last fifteen minutes only");
      const { columns } = sampler.history();
      assert.equal(columns.t.length, 16);
      assert.equal(columns.t[0], 4 * 60_000);
      assert.deepEqual(Object.keys(columns.rps), [CLASSIFY, INTENT, RECLASSIFY]);
      assert.equal(columns.queueDepth["intent@1"].length, 16);
    });

    it("goes on after a reading fails, telling `warn`, and keeps the last snapshot", async () => {
      const { registry, gateway, runtime } = metrics();
      let failing = false;
      runtime.watch({
        occupancy: () => {
          if (failing) throw new Error("the runtime's pools cannot be read");
          return [];
        },
      });
      const warned: unknown[] = [];
      const sampler = new MetricsSampler({ registry, current: () => ({ spec, generation: "g" }), warn: (error) => warned.push(error) });
      served(gateway, CLASSIFY, "central", "-", "200", 0.002);
      const first = await sampler.sample();
      failing = true;
      assert.equal(await sampler.sample(), undefined);
      assert.equal(sampler.latest(), first);
      assert.match(String(warned[0]), /pools cannot be read/);
      failing = false;
      assert.equal((await sampler.sample())!.routes[CLASSIFY].requests, 1);
    });

    it("sends the charts' history as columns that turn back into the same points", async () => {
      const { registry, gateway } = metrics();
      let now = 0;
      const sampler = new MetricsSampler({ registry, current: () => ({ spec, generation: "g" }), now: () => now });
      const points = [];
      for (let second = 1; second <= 5; second++) {
        served(gateway, CLASSIFY, "central", "-", second === 3 ? "500" : "200", 0.003 * second, second);
        now = second * 1000;
        points.push((await sampler.sample())!.point);
      }
      assert.deepEqual(fromColumns(sampler.history().columns), points);
      assert.equal(points[2].errorsPerSecond[CLASSIFY], 1, "3 errors in the 3 s since the start");
    });
  });

  describe("live lines", () => {
    it("has a line per route number, per backend region, and per region, sized from the spec", () => {
      const count = (kind: "route" | "function" | "model" | "region" | "gpuPool", entry: string) => liveLineCount({ kind, entry }, spec);
      assert.equal(count("route", CLASSIFY), 3);
      assert.equal(count("function", "classify"), 3);
      assert.equal(count("model", "intent@1"), 4);
      assert.equal(count("region", "central"), 1);
      assert.equal(count("gpuPool", "inference-t4"), 0);
    });

    it("writes a cache hit ratio, a dash for what is not known, and EJECTED for a backend out of service", () => {
      const origin: Sample = { at: 0, readings: emptyReadings() };
      const snapshot = snapshotOf(spec, "g", origin, origin, seriesPoint(spec, origin, origin));
      snapshot.routes[CLASSIFY].cacheHitRatio = 0.5;
      snapshot.functions.classify.regions.central.healthy = false;
      assert.equal(liveLines({ kind: "route", entry: CLASSIFY }, snapshot)[2], "cache hits 50 % · limited 0 · failovers 0");
      assert.equal(liveLines({ kind: "route", entry: INTENT }, snapshot)[2], "cache hits – · limited 0 · failovers 0");
      assert.equal(liveLines({ kind: "function", entry: "classify" }, snapshot)[1], "central: EJECTED · breaker closed · ej 0 · fo 0");
      assert.deepEqual(liveLines({ kind: "route", entry: "GET /gone" }, snapshot), []);
    });
  });

  describe("fromThisMachine", () => {
    const request = (remoteAddress: string | undefined, headers: Record<string, string> = {}) =>
      ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

    it("is true for loopback peers (IPv4, IPv6, mapped) that no proxy relays", () => {
      for (const peer of ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"]) assert.equal(fromThisMachine(request(peer)), true, peer);
    });

    it("is false for other peers, unknown peers, and relayed requests (a spoofed forwarding header included)", () => {
      for (const peer of ["10.0.0.7", "192.168.1.2", "::ffff:10.0.0.7", "2001:db8::1", "not-an-ip", undefined])
        assert.equal(fromThisMachine(request(peer)), false, String(peer));
      for (const header of ["x-forwarded-for", "forwarded", "x-real-ip"])
        assert.equal(fromThisMachine(request("127.0.0.1", { [header]: "127.0.0.1" })), false, header);
    });
  });
});
