/** Request ids: a caller's well-formed `x-request-id` is kept, anything else is replaced. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Stage } from "../exchange";

const WELL_FORMED = /^[A-Za-z0-9._-]{8,128}$/;

/** The request's id. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && WELL_FORMED.test(given) ? given : randomUUID();
}

/** Names the request, in the access log and in the response's `x-request-id`. */
export function requestId(): Stage {
  return {
    run(exchange) {
      exchange.record.id = requestIdOf(exchange.req);
      exchange.res.setHeader("x-request-id", exchange.record.id);
    },
  };
}
