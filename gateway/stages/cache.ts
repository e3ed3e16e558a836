/**
 * Answers a cached route from the response cache (see response-cache.ts):
 * a hit is replayed, a miss calls the backend once for every concurrent
 * request with the same key, buffered, and stores what upstream allows.
 * `X-Cache: HIT|MISS|BYPASS` and `Age` say which. It runs before the hold
 * while a target starts: a hit answers at once even when the target is at
 * zero, and only the backend call of a miss is held.
 *
 * The key holds the version the request goes to, so the version a hit
 * reports is the version that produced it. What the backend of a cached
 * route is sent is what the key can hold: Accept-Encoding normalized as the
 * key normalizes it, and none of the headers that frameworks build links or
 * routes from without saying Vary (X-Forwarded-Host and the like, the
 * locality header) unless the route declares them as vary headers.
 */
import type { Exchange, Stage } from "../exchange";
import { holdWhileStarting } from "./hold-while-starting";
import { invokeBuffered, type CallPolicy } from "../invoke";
import { MetricChildren } from "../metric-children";
import type { GatewayMetrics } from "../metrics";
import {
  normalizedAcceptEncoding,
  requestAsSent,
  storability,
  type CacheOutcome,
  type CacheRequest,
  type ResponseCache,
  type StoredResponse,
} from "../response-cache";

/**
 * Request headers a backend may build absolute links, routes or the method
 * from without naming them in Vary: replayed from the cache, one client's
 * values would reach everyone. Not forwarded on cached routes, where the key
 * could hold them only by splitting the cache per proxy and per client.
 */
export const UNKEYED_FORWARDING = [
  "forwarded",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-forwarded-proto",
  "x-forwarded-scheme",
  "x-forwarded-server",
  "x-host",
  "x-http-method",
  "x-http-method-override",
  "x-method-override",
  "x-original-url",
  "x-rewrite-url",
];

async function load(
  calls: CallPolicy,
  held: Stage,
  exchange: Exchange,
  withheld: ReadonlySet<string>,
  declared: readonly string[],
): Promise<StoredResponse> {
  // The backend call is held while the target starts, and counted toward its demand (a hit never gets here).
  const waiting = held.run?.(exchange);
  if (waiting) await waiting;
  const request = exchange.backendRequest(withheld);
  request.headers["accept-encoding"] = normalizedAcceptEncoding(exchange.req.headers["accept-encoding"]);
  const { result, region } = await invokeBuffered(calls, exchange, request);
  const { storable, maxTtlMs, vary } = storability(result.status, result.headers, declared);
  // Every field named, in one shape: spreading the parts into one object cost ~2 µs per miss.
  return {
    status: result.status,
    headers: { ...result.headers, "x-cloudloom-region": region },
    body: result.body,
    storedAt: Date.now(),
    storable,
    maxTtlMs,
    vary,
  };
}

/** The cache results counter's children, by route and outcome. */
type Outcomes = MetricChildren<{ inc(): void }>;

/** The cache's part of the exchange: its primary key (remembered for a request seen before), the route's vary headers and the request's headers. */
function cacheRequest(responses: ResponseCache, exchange: Exchange, declared: string[]): CacheRequest {
  const { route, req, record } = exchange;
  const parts = {
    tenant: record.tenant,
    route: route.key,
    method: req.method ?? "POST",
    version: exchange.target.entry,
    url: req.url ?? "/",
    contentType: req.headers["content-type"],
    body: exchange.body,
  };
  const sent = requestAsSent(parts);
  return { primary: responses.primaryKeyOf(parts, sent), sent, declared, headers: req.headers };
}

/** Sends `response` as the cache found or made it, saying which (`X-Cache`) and how old it is (`Age`). */
function replay(exchange: Exchange, outcomes: Outcomes, response: StoredResponse, outcome: CacheOutcome): void {
  const { route, record } = exchange;
  record.cache = outcome;
  record.region = response.headers["x-cloudloom-region"];
  outcomes.of(route.key, outcome).inc();
  exchange.answer(response, record.region, {
    "x-cache": outcome,
    age: String(Math.max(0, Math.floor((Date.now() - response.storedAt) / 1000))),
  });
}

async function answerFromGet(
  responses: ResponseCache,
  calls: CallPolicy,
  held: Stage,
  outcomes: Outcomes,
  withheld: ReadonlySet<string>,
  exchange: Exchange,
  request: CacheRequest,
  ttlMs: number,
): Promise<void> {
  const { response, outcome } = await responses.get(request, ttlMs, () => load(calls, held, exchange, withheld, request.declared));
  replay(exchange, outcomes, response, outcome);
}

/**
 * Serves routes that declare a cache from `responses`, calling the backend
 * under `calls` on a miss; other routes pass. `localityHeader` is the
 * settings' trusted locality header (locality.header), withheld from cached
 * routes' backends like UNKEYED_FORWARDING. `held` runs before each backend
 * call: the shared hold (stages/hold-while-starting.ts), which holds the call
 * while its target starts and counts it toward the target's demand.
 */
export function cache(
  responses: ResponseCache,
  calls: CallPolicy,
  metrics: GatewayMetrics,
  localityHeader = "x-cloudloom-locality",
  held: Stage = holdWhileStarting(true),
): Stage {
  const unkeyed = [...UNKEYED_FORWARDING, localityHeader.toLowerCase()];
  // What a route's backend is not sent, worked out once per route's vary list (the route table builds it once).
  const withheldFor = new WeakMap<readonly string[], ReadonlySet<string>>();
  const withheld = (declared: readonly string[]) => {
    let names = withheldFor.get(declared);
    if (!names) {
      names = new Set(unkeyed.filter((name) => !declared.includes(name)));
      withheldFor.set(declared, names);
    }
    return names;
  };
  const outcomes: Outcomes = new MetricChildren((route, outcome) => metrics.cache.labels(route, outcome));
  return {
    run(exchange) {
      const settings = exchange.route.cache;
      if (!settings) return;
      const request = cacheRequest(responses, exchange, settings.vary);
      // A hit is answered here and now: no promise, no loader, nothing a hit does not need.
      const hit = responses.lookup(request);
      if (hit) return replay(exchange, outcomes, hit, "HIT");
      return answerFromGet(responses, calls, held, outcomes, withheld(settings.vary), exchange, request, settings.ttlMs);
    },
  };
}
