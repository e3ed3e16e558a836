/**
 * The request path of every app request, in order. Each stage runs over one
 * Exchange: a stage that answers ends the path, a thrown error becomes the
 * one error response, and then every stage's `finish` runs, in this order
 * (the concurrency slot is released, the version a backend named recorded,
 * metrics and the access log written last).
 */
import type Redis from "ioredis";
import type { Logger } from "pino";
import type { GatewaySettings } from "./config";
import type { Stage } from "./exchange";
import { callPolicy } from "./invoke";
import type { GatewayMetrics } from "./metrics";
import { ResponseCache } from "./response-cache";
import { AuthFailures, authenticate } from "./stages/authenticate";
import { cache } from "./stages/cache";
import { callBackend } from "./stages/call-backend";
import { expectation } from "./stages/expectation";
import { IdempotencyStore } from "./invocations/idempotency";
import { invocations } from "./stages/invocations";
import { clientAddress } from "./stages/client-address";
import { concurrencyCap } from "./stages/concurrency-cap";
import { localityAndVersion } from "./stages/locality-and-version";
import { matchRoute } from "./stages/match-route";
import { accessLogger, observe } from "./stages/observe";
import { rateLimit } from "./stages/rate-limit";
import { readBody } from "./stages/read-body";
import { requestId } from "./stages/request-id";

/** What the stages are built from. */
export interface PipelineParts {
  settings: GatewaySettings;
  /** Every API key accepted on `api-key` routes. */
  apiKeys: readonly string[];
  metrics: GatewayMetrics;
  logger: Logger;
  /** Shared by instances: the L2 of the response cache, the count of failed authentications and idempotency keys. */
  redis?: Redis;
}

/** The stages of one gateway, built once. */
export function requestPipeline({ settings, apiKeys, metrics, logger, redis }: PipelineParts): readonly Stage[] {
  const calls = callPolicy(settings, metrics);
  return [
    requestId(),
    expectation(),
    matchRoute(settings.limits.maxUrlLength),
    clientAddress(settings),
    authenticate(apiKeys, new AuthFailures(settings.limits.authFailures, "api-key", redis)),
    concurrencyCap(settings.limits.perKeyConcurrency),
    rateLimit(),
    readBody(settings.limits.bodyBytes),
    invocations(new IdempotencyStore(redis)),
    localityAndVersion(settings.locality, calls.budget),
    cache(new ResponseCache(settings.cache.maxEntries, redis, settings.cache.maxBytes), calls, metrics, settings.locality.header),
    callBackend(calls),
    observe(metrics, accessLogger(logger, settings.logSampleRate)),
  ];
}
