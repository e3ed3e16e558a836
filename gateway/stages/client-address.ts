/**
 * The client's address under an explicit trust-proxy setting. With `hops`
 * trusted proxies, the client is the entry `hops` places from the right of
 * X-Forwarded-For; anything a client wrote further left is ignored, so a
 * spoofed header buys nothing for rate limits or locality.
 */
import type { IncomingMessage } from "node:http";
import type { Stage } from "../exchange";

/** Returns the resolver for `hops` trusted proxies. */
export function clientAddressResolver(hops: number): (req: IncomingMessage) => string {
  if (hops === 0) return (req) => req.socket.remoteAddress ?? "unknown";
  return (req) => {
    const header = req.headers["x-forwarded-for"];
    const chain = (Array.isArray(header) ? header.join(",") : (header ?? ""))
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    // chain = [client?, ..., proxy n-1]; the socket peer is the last proxy.
    const index = chain.length - hops;
    return index >= 0 ? chain[index] : (chain[0] ?? req.socket.remoteAddress ?? "unknown");
  };
}

/** Resolves the client's address once, for the concurrency cap, rate limits and locality. */
export function clientAddress(hops: number): Stage {
  const resolve = clientAddressResolver(hops);
  return {
    run(exchange) {
      exchange.client = resolve(exchange.req);
    },
  };
}
