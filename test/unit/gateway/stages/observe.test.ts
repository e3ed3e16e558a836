import assert from "node:assert/strict";
import pino from "pino";
import { GatewayMetrics } from "../../../../gateway/metrics";
import { accessLogger, observe, type AccessRecord } from "../../../../gateway/stages/observe";
import { metricsRegistry } from "../../../../runtime/metrics";
import { exchange, route } from "./exchange-fixture";

describe("access log", () => {
  function capture(sampleRate: number, random: () => number) {
    const lines: any[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { log: accessLogger(logger, sampleRate, random), lines };
  }
  const record = (status: number) => ({ id: "r1", method: "POST", route: "POST /x", status, ms: 1.5, tenant: "t-abc" });

  it("logs every error and only the sampled share of successes", () => {
    const { log, lines } = capture(0.1, () => 0.5);
    log(record(200));
    log(record(503));
    assert.deepEqual(
      lines.map((l) => l.status),
      [503],
    );
    const sampled = capture(0.1, () => 0.05);
    sampled.log(record(200));
    assert.equal(sampled.lines.length, 1);
  });

  it("logs every request its client abandoned (499 closed, 408 timed out), unsampled", () => {
    const { log, lines } = capture(0, () => 0.5);
    log(record(499));
    log(record(408));
    log(record(200));
    assert.deepEqual(
      lines.map((l) => [l.status, l.msg]),
      [
        [499, "request abandoned by its client"],
        [408, "request abandoned by its client"],
      ],
    );
  });

  it("records the tenant id, never a key", () => {
    const { log, lines } = capture(1, () => 0);
    log(record(200));
    assert.equal(lines[0].tenant, "t-abc");
    assert.ok(!JSON.stringify(lines[0]).toLowerCase().includes("authorization"));
  });
});

describe("observe stage", () => {
  it("counts each finished request by route, region, version and status, times it, and logs its record", async () => {
    const metrics = new GatewayMetrics(metricsRegistry());
    const logged: AccessRecord[] = [];
    const stage = observe(metrics, (record) => void logged.push({ ...record }));
    for (const status of [200, 200, 429]) {
      const x = exchange(undefined, route("POST /x"));
      x.record.region = "central";
      x.record.version = "m@1";
      x.res.statusCode = status;
      stage.finish!(x);
    }
    const requests = await metrics.registry.getSingleMetricAsString("cloudloom_requests_total");
    assert.match(requests, /route="POST \/x",region="central",version="m@1",status="200"\} 2/);
    assert.match(requests, /status="429"\} 1/);
    const latency = await metrics.registry.getSingleMetricAsString("cloudloom_request_duration_seconds");
    assert.match(latency, /cloudloom_request_duration_seconds_count\{route="POST \/x",region="central"\} 3/);
    assert.deepEqual(
      logged.map((r) => [r.route, r.status]),
      [
        ["POST /x", 200],
        ["POST /x", 200],
        ["POST /x", 429],
      ],
    );
    assert.ok(logged.every((r) => r.ms >= 0));
  });

  it("labels a request that matched no route as unmatched, in no region and no version", async () => {
    const metrics = new GatewayMetrics(metricsRegistry());
    const x = exchange();
    x.res.statusCode = 404;
    observe(metrics, () => undefined).finish!(x);
    assert.match(
      await metrics.registry.getSingleMetricAsString("cloudloom_requests_total"),
      /route="unmatched",region="-",version="-",status="404"\} 1/,
    );
  });
});
