/**
 * Once a request is over: the request duration histogram, and the access
 * log, pino lines sampled on the hot path. Every error (status ≥ 500) is
 * logged at error level with its request id, its code and its cause (the
 * exception with its stack when there is one, else why the gateway failed it,
 * else what the upstream answered), and every request its client abandoned
 * (408 timed out, 499 closed); successes at `sampleRate`. API keys never
 * appear: only the tenant id derived from them.
 */
import type { Logger } from "pino";
import type { Stage } from "../exchange";
import { HTTP_LABELS } from "../../runtime/contract";
import type { GatewayMetrics, RequestLabel } from "../metrics";
import type { LocalitySource } from "../routing/client-locality";
import { MetricChildren } from "../metric-children";

/** What one access-log line records. */
export interface AccessRecord {
  id: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  region?: string;
  /** The client's locality, and the rule that chose it (header, prefix, geoip, hint or home). */
  locality?: string;
  localityBy?: LocalitySource;
  version?: string;
  tenant: string;
  cache?: string;
  /** The error code of a 5xx the gateway answered itself. */
  code?: string;
  /** What caused that 5xx: logged with its stack, never sent. */
  err?: unknown;
  /** Why the gateway failed the request, when no exception caused it (an unreachable upstream, a timeout). */
  reason?: string;
  /** The id of the request's trace, when it is recorded. */
  trace?: string;
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

/** The methods OpenTelemetry's HTTP conventions name; any other is recorded as `_OTHER`, which keeps the label's values few. */
const KNOWN_METHODS = new Set(["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]);

/** The request histogram's labels for a finished request: a matched route's method and path, or the request's method and no route. */
export function requestLabels(record: AccessRecord): Record<RequestLabel, string> {
  const space = record.route.indexOf(" ");
  const matched = space > 0;
  const method = matched ? record.route.slice(0, space) : record.method;
  return {
    [HTTP_LABELS.method]: KNOWN_METHODS.has(method) ? method : "_OTHER",
    [HTTP_LABELS.route]: matched ? record.route.slice(space + 1) : "",
    [HTTP_LABELS.status]: String(record.status),
    region: record.region ?? "-",
    version: record.version ?? "-",
  } as Record<RequestLabel, string>;
}

/** Records every finished request in `metrics` and hands it to `log`. */
export function observe(metrics: GatewayMetrics, log: (record: AccessRecord) => void): Stage {
  // The histogram's child bound once per (method, route, region, version, status): requests skip building labels.
  const requests = new MetricChildren((method, route, region, version, status) =>
    metrics.requests.labels(requestLabels({ method, route, region, version, status: Number(status) } as AccessRecord)),
  );
  return {
    finish(exchange) {
      const record = exchange.record;
      record.status = exchange.res.statusCode;
      record.ms = performance.now() - exchange.started;
      requests.of(record.method, record.route, record.region ?? "-", record.version ?? "-", record.status).observe(record.ms / 1000);
      log(record);
    },
  };
}
