/**
 * The request path of every app request, in order. Each stage runs over one
 * Exchange: a stage that answers ends the path, a thrown error becomes the
 * one error response, and then every stage's `finish` runs, in this order
 * (the concurrency slot is released, the version a backend named recorded,
 * metrics and the access log written last). With a tracer, the request and
 * the stages that act on it have spans (tracing.ts).
 */
import type { Tracer } from "@opentelemetry/api";
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
import { holdWhileStarting } from "./stages/hold-while-starting";
import { IdempotencyStore } from "./invocations/idempotency";
import { invocations } from "./stages/invocations";
import { clientAddress } from "./stages/client-address";
import { concurrencyCap } from "./stages/concurrency-cap";
import { localityAndVersion } from "./stages/locality-and-version";
import { matchRoute } from "./stages/match-route";
import { accessLogger, observe } from "./stages/observe";
import { observeRollout } from "./stages/observe-rollout";
import { rateLimit } from "./stages/rate-limit";
import { readBody } from "./stages/read-body";
import { requestId } from "./stages/request-id";
import { GATEWAY_SPANS, requestSpan, spanned } from "./tracing";

/** What the stages are built from. */
export interface PipelineParts {
  settings: GatewaySettings;
  /** Every API key accepted on `api-key` routes. */
  apiKeys: readonly string[];
  metrics: GatewayMetrics;
  logger: Logger;
  /** Shared by instances: the L2 of the response cache, the count of failed authentications and idempotency keys. */
  redis?: Redis;
  /** Where the request's spans go (tracing.ts); none, and the pipeline has no tracing in it. */
  tracer?: Tracer;
}

/** The hold while a target starts, in a span of its own when it holds (`shared`: a cache miss's call, see hold-while-starting.ts). */
function held(tracer: Tracer | undefined, shared: boolean): Stage {
  return spanned(
    tracer,
    GATEWAY_SPANS.hold,
    holdWhileStarting(shared),
    (exchange) => exchange.target.hold?.ready === false,
    (span, exchange) => span.setAttribute("cloudloom.held_ms", Math.round(exchange.heldMs)),
  );
}

/** The stages of one gateway, built once. */
export function requestPipeline({ settings, apiKeys, metrics, logger, redis, tracer }: PipelineParts): readonly Stage[] {
  const calls = callPolicy(settings, metrics);
  return [
    requestId(),
    ...(tracer ? [requestSpan(tracer)] : []),
    expectation(),
    matchRoute(settings.limits.maxUrlLength),
    clientAddress(settings),
    spanned(
      tracer,
      GATEWAY_SPANS.auth,
      authenticate(apiKeys, new AuthFailures(settings.limits.authFailures, "api-key", redis)),
      (exchange) => exchange.route.spec.auth === "api-key",
    ),
    concurrencyCap(settings.limits.perKeyConcurrency),
    spanned(tracer, GATEWAY_SPANS.rateLimit, rateLimit(), (exchange) => exchange.route.limiter !== undefined),
    readBody(settings.limits.bodyBytes),
    invocations(new IdempotencyStore(redis)),
    localityAndVersion(settings.locality, calls.budget),
    // The cache answers a hit before anything waits for a cold target; a miss's backend call is held under the cache's span.
    spanned(
      tracer,
      GATEWAY_SPANS.cache,
      cache(
        new ResponseCache(settings.cache.maxEntries, redis, settings.cache.maxBytes),
        calls,
        metrics,
        settings.locality.header,
        held(tracer, true),
      ),
      (exchange) => exchange.route.cache !== undefined,
      (span, exchange) => exchange.record.cache && span.setAttribute("cloudloom.cache.outcome", exchange.record.cache),
    ),
    held(tracer, false),
    callBackend(calls),
    observe(metrics, accessLogger(logger, settings.logSampleRate)),
    observeRollout(),
  ];
}
