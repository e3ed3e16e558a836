/**
 * The client's locality: from the trusted header the edge sets, else from
 * the client address's CIDR range, else from the request's region hint.
 */
import { BlockList, isIPv6 } from "node:net";
import type { IncomingMessage } from "node:http";
import type { GatewaySettings } from "../config";

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
    return undefined;
  };
}
