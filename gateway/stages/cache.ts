/**
 * Answers a cached route from the response cache (see response-cache.ts):
 * a hit is replayed, a miss calls the backend once for every concurrent
 * request with the same key, buffered, and stores what upstream allows.
 * `X-Cache: HIT|MISS|BYPASS` and `Age` say which.
 */
import type { Exchange, Stage } from "../exchange";
import { invokeBuffered, type CallPolicy } from "../invoke";
import type { GatewayMetrics } from "../metrics";
import { cacheKey, storability, type ResponseCache, type StoredResponse } from "../response-cache";

async function load(calls: CallPolicy, exchange: Exchange): Promise<StoredResponse> {
  const { result, region } = await invokeBuffered(calls, exchange, exchange.backendRequest());
  return {
    ...result,
    headers: { ...result.headers, "x-cloudloom-region": region },
    storedAt: Date.now(),
    ...storability(result.status, result.headers),
  };
}

async function answerCached(
  responses: ResponseCache,
  calls: CallPolicy,
  metrics: GatewayMetrics,
  exchange: Exchange,
  settings: { ttlMs: number; vary: string[] },
): Promise<void> {
  const { route, req, record } = exchange;
  const key = cacheKey(record.tenant, route.key, req.method ?? "POST", exchange.body, req.headers, settings.vary);
  const { response, hit } = await responses.get(key, settings.ttlMs, () => load(calls, exchange));
  record.cache = hit ? "HIT" : response.storable ? "MISS" : "BYPASS";
  record.region = response.headers["x-cloudloom-region"];
  metrics.cache.labels(route.key, record.cache).inc();
  exchange.answer(response, record.region, {
    "x-cache": record.cache,
    age: String(Math.max(0, Math.floor((Date.now() - response.storedAt) / 1000))),
  });
}

/** Serves routes that declare a cache from `responses`, calling the backend under `calls` on a miss; other routes pass. */
export function cache(responses: ResponseCache, calls: CallPolicy, metrics: GatewayMetrics): Stage {
  return {
    run(exchange) {
      const settings = exchange.route.cache;
      return settings && answerCached(responses, calls, metrics, exchange, settings);
    },
  };
}
