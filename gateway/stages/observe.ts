/**
 * Once a request is over: the requests and latency metrics, and the access
 * log, pino lines sampled on the hot path. Every error (status ≥ 500) is
 * logged at error level with its request id, its code and its cause (the
 * exception with its stack when there is one, else why the gateway failed it,
 * else what the upstream answered), and every request its client abandoned
 * (408 timed out, 499 closed); successes at `sampleRate`. API keys never
 * appear: only the tenant id derived from them.
 */
import type { Logger } from "pino";
import type { Stage } from "../exchange";
import { MetricChildren } from "../metric-children";
import type { GatewayMetrics } from "../metrics";

/** What one access-log line records. */
export interface AccessRecord {
  id: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  region?: string;
  version?: string;
  tenant: string;
  cache?: string;
  /** The error code of a 5xx the gateway answered itself. */
  code?: string;
  /** What caused that 5xx: logged with its stack, never sent. */
  err?: unknown;
  /** Why the gateway failed the request, when no exception caused it (an unreachable upstream, a timeout). */
  reason?: string;
}

/** Returns a function that logs (or skips) one finished request: every failure, every request its client abandoned (408, 499), a sample of the rest. */
export function accessLogger(logger: Logger, sampleRate: number, random: () => number = Math.random): (record: AccessRecord) => void {
  return (record) => {
    if (record.status >= 500)
      logger.error(
        record.code || record.err !== undefined ? record : { ...record, reason: `the upstream answered ${record.status}` },
        "request failed",
      );
    else if (record.status === 499 || record.status === 408) logger.info(record, "request abandoned by its client");
    else if (sampleRate > 0 && random() < sampleRate) logger.info(record, "request");
  };
}

/** Records every finished request in `metrics` and hands it to `log`. */
export function observe(metrics: GatewayMetrics, log: (record: AccessRecord) => void): Stage {
  // Label children bound once, so requests skip building and binding labels.
  const requests = new MetricChildren((route, region, version, status) => metrics.requests.labels(route, region, version, status));
  const latency = new MetricChildren((route, region) => metrics.latency.labels(route, region));
  return {
    finish(exchange) {
      const record = exchange.record;
      record.status = exchange.res.statusCode;
      record.ms = performance.now() - exchange.started;
      const region = record.region ?? "-";
      requests.of(record.route, region, record.version ?? "-", record.status).inc();
      latency.of(record.route, region).observe(record.ms / 1000);
      log(record);
    },
  };
}
