/**
 * The client's address, trusting X-Forwarded-For only as far as trusted
 * proxies wrote it (express's `trust proxy` with a list, as proxy-addr does).
 * The addresses are walked from the socket peer leftwards through the header;
 * each step is taken only while the address reached so far is a configured
 * proxy, and the first one that is not is the client. A client reaching the
 * gateway directly is therefore its socket address whatever it writes, and
 * entries it wrote before the proxies' own buy nothing for rate limits,
 * failed-auth limits or locality.
 */
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import type { Stage } from "../exchange";

/** Which peers may name the client. */
export interface ProxyTrust {
  /** Addresses and CIDR ranges of the proxies in front of the gateway. */
  readonly trustedProxies: readonly string[];
  /** At most this many proxies are stepped over; unset, as many as are trusted. */
  readonly trustProxyHops?: number;
}

const MAPPED_V4 = "::ffff:";

/** An IPv4-mapped IPv6 address as plain IPv4, so one client has one key whichever way its address is written. */
function canonical(address: string): string {
  return address.startsWith(MAPPED_V4) && isIP(address.slice(MAPPED_V4.length)) === 4 ? address.slice(MAPPED_V4.length) : address;
}

/** The configured proxies as a BlockList (which also matches IPv4-mapped IPv6 against IPv4 ranges). */
function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

/** Returns the resolver of a request's client address under `trust`. */
export function clientAddressResolver(trust: ProxyTrust): (req: IncomingMessage) => string {
  const maxHops = trust.trustProxyHops ?? Infinity;
  if (trust.trustedProxies.length === 0 || maxHops === 0) return (req) => canonical(req.socket.remoteAddress ?? "unknown");
  const proxies = proxyList(trust.trustedProxies);
  const trusted = (address: string) => {
    const family = isIP(address);
    return family !== 0 && proxies.check(address, family === 6 ? "ipv6" : "ipv4");
  };
  return (req) => {
    let client = canonical(req.socket.remoteAddress ?? "unknown");
    if (!trusted(client)) return client;
    const header = req.headers["x-forwarded-for"];
    if (header === undefined) return client;
    const chain = (Array.isArray(header) ? header.join(",") : header).split(",");
    // chain = [client?, proxy 1, …, proxy n-1]; the socket peer is proxy n. Each trusted address vouches for the entry left of it.
    for (let i = chain.length - 1, hops = 0; i >= 0 && hops < maxHops; i--) {
      const entry = chain[i].trim();
      if (entry === "") continue;
      client = canonical(entry);
      hops++;
      if (!trusted(client)) break;
    }
    return client;
  };
}

/** Resolves the client's address once, for the concurrency cap, rate limits, failed-auth limits and locality. */
export function clientAddress(trust: ProxyTrust): Stage {
  const resolve = clientAddressResolver(trust);
  return {
    run(exchange) {
      exchange.client = resolve(exchange.req);
    },
  };
}
