/**
 * Where the request goes: the version (the route's split picks one, sticky
 * by request id when asked), and the client's locality, from the trusted
 * header the edge sets, else from the client's address (prefix table, then
 * GeoIP database), else from the request's region hint, else the gateway's
 * own (`locality.home`); the access log records which rule chose it.
 */
import type { GatewaySettings } from "../config";
import { localityResolver } from "../routing/client-locality";
import type { Stage } from "../exchange";
import type { RetryBudget } from "../routing/resilience";
import { pickVersion } from "../routing/versions";

/**
 * Picks the request's target and locality, and names the version in
 * `x-cloudloom-version` (or, where the backend picks it, records the one its
 * response names). Every request that gets here earns its share of `budget`,
 * which caps retries at a share of requests.
 */
export function localityAndVersion(settings: GatewaySettings["locality"], budget: RetryBudget): Stage {
  const localityOf = localityResolver(settings);
  let turn = 0;
  return {
    run(exchange) {
      const { route, record } = exchange;
      const target = route.targets.get(route.split ? pickVersion(route.split, record.id) : "-")!;
      exchange.target = target;
      budget.earn();
      const located = localityOf(exchange.req, exchange.client);
      if (located) {
        exchange.locality = record.locality = located.locality;
        record.localityBy = located.by;
      }
      exchange.turn = turn++;
      const named = target.responseVersion;
      if (named.namedBy === "backend") return;
      record.version = named.namedBy === "split" ? named.version : named.models;
      exchange.res.setHeader("x-cloudloom-version", record.version);
    },
    finish(exchange) {
      if (exchange.target?.responseVersion.namedBy === "backend")
        exchange.record.version = String(exchange.res.getHeader("x-cloudloom-version") ?? "-");
    },
  };
}
