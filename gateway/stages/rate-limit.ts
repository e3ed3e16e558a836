/** Applies the route's rate limit (see route-limiter.ts): RateLimit headers on every response of a limited route, 429 or 503 when refused. */
import type { Exchange, Stage } from "../exchange";
import type { RouteLimiter } from "../route-limiter";

function consume(limiter: RouteLimiter, exchange: Exchange): Promise<void> {
  return limiter.consume(limiter.keyFor(exchange.record.tenant, exchange.client)).then((outcome) => {
    for (const name in outcome.headers) exchange.res.setHeader(name, outcome.headers[name]);
    if (outcome.refuse) throw outcome.refuse;
  });
}

/** Takes a point from the route's limiter, when it has one. */
export function rateLimit(): Stage {
  return {
    run(exchange) {
      const limiter = exchange.route.limiter;
      return limiter && consume(limiter, exchange);
    },
  };
}
