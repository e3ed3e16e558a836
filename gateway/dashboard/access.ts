/**
 * Who may see the dashboard. On the local target it is open to this machine
 * only: the connection must come from a loopback address and carry no
 * proxy's forwarding header (a proxy on this machine may be relaying someone
 * else). Everyone else, and every request to a gateway in front of a
 * deployed stack, must present the admin key (`x-admin-key`), checked in
 * constant time with wrong keys limited per client address. The gateway's
 * metrics take the same access on a local target with no metrics token.
 */
import type { IncomingMessage } from "node:http";
import ipaddr from "ipaddr.js";

/** Headers a proxy adds when it relays a request for another client. */
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

/** True when `req` comes straight from this machine. */
export function fromThisMachine(req: IncomingMessage): boolean {
  const peer = req.socket.remoteAddress;
  if (!peer || !ipaddr.isValid(peer) || ipaddr.process(peer).range() !== "loopback") return false;
  return FORWARDING_HEADERS.every((header) => req.headers[header] === undefined);
}

/**
 * The dashboard's check (and the metrics' on a local target with no token):
 * resolves when `req` may see it, rejects with the `adminCheck`'s ServingError
 * (401, or 429 after too many wrong keys) otherwise.
 */
export function dashboardAccess(
  local: boolean,
  adminCheck: (req: IncomingMessage) => Promise<void>,
): (req: IncomingMessage) => Promise<void> {
  return async (req) => {
    if (local && fromThisMachine(req)) return;
    await adminCheck(req);
  };
}
