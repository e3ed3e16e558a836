import assert from "node:assert/strict";
import pino from "pino";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from "@opentelemetry/semantic-conventions";
import { METRIC_HTTP_SERVER_ACTIVE_REQUESTS } from "@opentelemetry/semantic-conventions/incubating";
import { GatewayMetrics, REQUEST_DURATION_BUCKETS } from "../../../../gateway/metrics";
import { accessLogger, observe, requestLabels, type AccessRecord } from "../../../../gateway/stages/observe";
import { HTTP_LABELS, INFLIGHT_METRIC, METRIC_NAMES } from "../../../../runtime/contract";
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
  const histogram = (metrics: GatewayMetrics) => metrics.registry.getSingleMetricAsString("http_server_request_duration_seconds");

  it("records each finished request in OpenTelemetry's http.server.request.duration histogram, by method, route, status, region and version, and logs its record", async () => {
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
    const text = await histogram(metrics);
    assert.match(text, /^# TYPE http_server_request_duration_seconds histogram$/m);
    assert.match(
      text,
      /http_server_request_duration_seconds_count\{http_request_method="POST",http_route="\/x",http_response_status_code="200",region="central",version="m@1"\} 2/,
    );
    assert.match(text, /http_response_status_code="429",region="central",version="m@1"\} 1/);
    // The buckets OpenTelemetry's HTTP conventions advise, in seconds.
    const bounds = [...text.matchAll(/_bucket\{le="([^"]+)"[^}]*status_code="429"/g)].map((m) => m[1]);
    assert.deepEqual(bounds, [...REQUEST_DURATION_BUCKETS.map(String), "+Inf"]);
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

  it("records a request that matched no route with its method, no http_route, in no region and no version", async () => {
    const metrics = new GatewayMetrics(metricsRegistry());
    const x = exchange();
    x.res.statusCode = 404;
    observe(metrics, () => undefined).finish!(x);
    assert.match(
      await histogram(metrics),
      /_count\{http_request_method="POST",http_route="",http_response_status_code="404",region="-",version="-"\} 1/,
    );
  });

  it("records a method outside HTTP's registered ones as _OTHER, so clients cannot mint label values", async () => {
    const metrics = new GatewayMetrics(metricsRegistry());
    const stage = observe(metrics, () => undefined);
    for (const method of ["PROPFIND", "MKCOL", "SEARCH"]) {
      const x = exchange();
      x.record.method = method;
      x.res.statusCode = 404;
      stage.finish!(x);
    }
    const text = await histogram(metrics);
    assert.match(text, /_count\{http_request_method="_OTHER",http_route="",http_response_status_code="404",region="-",version="-"\} 3/);
    assert.doesNotMatch(text, /PROPFIND|MKCOL|SEARCH/);
  });

  it("names its metric and labels as OpenTelemetry's semantic conventions do, in Prometheus form", () => {
    const prometheus = (name: string) => name.replaceAll(".", "_");
    assert.equal(METRIC_NAMES.httpServerDuration, `${prometheus(METRIC_HTTP_SERVER_REQUEST_DURATION)}_seconds`);
    assert.equal(INFLIGHT_METRIC, prometheus(METRIC_HTTP_SERVER_ACTIVE_REQUESTS));
    assert.deepEqual(HTTP_LABELS, {
      method: prometheus(ATTR_HTTP_REQUEST_METHOD),
      route: prometheus(ATTR_HTTP_ROUTE),
      status: prometheus(ATTR_HTTP_RESPONSE_STATUS_CODE),
    });
    assert.equal(
      requestLabels({ id: "", method: "BREW", route: "unmatched", status: 418, ms: 0, tenant: "t" })[HTTP_LABELS.method],
      HTTP_REQUEST_METHOD_VALUE_OTHER,
    );
  });
});
