/**
 * Where the request goes: the version (the route's split picks one, sticky
 * by request id when asked), and the client's locality, from the trusted
 * header the edge sets, else from the client address's CIDR range, else from
 * the request's region hint, else the gateway's own (`locality.home`).
 */
import { BlockList, isIPv6 } from "node:net";
import type { IncomingMessage } from "node:http";
import type { GatewaySettings } from "../config";
import type { Stage } from "../exchange";
import type { RetryBudget } from "../routing/resilience";
import { pickVersion } from "../routing/versions";

/** Returns a resolver of a request's locality. */
export function localityResolver(settings: GatewaySettings["locality"]): (req: IncomingMessage, client: string) => string | undefined {
  const ranges = settings.cidrs.map(({ cidr, locality }) => {
    const [address, prefix] = cidr.split("/");
    const list = new BlockList();
    list.addSubnet(address, Number(prefix ?? (isIPv6(address) ? 128 : 32)), isIPv6(address) ? "ipv6" : "ipv4");
    return { list, locality, family: isIPv6(address) ? ("ipv6" as const) : ("ipv4" as const) };
  });
  const hint = `${settings.hintQuery}=`;
  return (req, client) => {
    const header = req.headers[settings.header];
    if (typeof header === "string" && header) return header;
    const address = client.startsWith("::ffff:") ? client.slice(7) : client;
    for (const range of ranges)
      if (range.family === (isIPv6(address) ? "ipv6" : "ipv4") && range.list.check(address, range.family)) return range.locality;
    const query = req.url?.indexOf("?") ?? -1;
    if (query >= 0) {
      const params = new URLSearchParams(req.url!.slice(query + 1));
      if (params.has(hint.slice(0, -1))) return params.get(hint.slice(0, -1)) ?? undefined;
    }
    return settings.home;
  };
}

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
      exchange.locality = localityOf(exchange.req, exchange.client);
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
