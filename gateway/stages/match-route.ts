/**
 * Finds the request's route in the table: 414 for an over-long URL, 404 for an unknown path, 405 for a known path's other methods.
 * A status request (`GET /v1/invocations/{id}`) takes the route its id was submitted to, so that route's auth and rate limit apply to it.
 */
import { INVOCATIONS_PATH, ServingError } from "../../runtime/contract";
import type { Exchange, Stage } from "../exchange";
import { parseInvocationId } from "../invocations/ids";

const STATUS_PREFIX = `${INVOCATIONS_PATH}/`;

/** The route label of every status request (one label, whatever the id). */
export const STATUS_ROUTE = `GET ${INVOCATIONS_PATH}/{id}`;

const unknownInvocation = () => new ServingError("NOT_FOUND", "no invocation has this id");

/** Takes a status request's route from its id's tag; 404 for an id no asynchronous route of this configuration minted. */
function matchStatus(exchange: Exchange, path: string): void {
  if (exchange.req.method !== "GET")
    throw new ServingError("METHOD_NOT_ALLOWED", `${exchange.req.method} is not allowed on ${INVOCATIONS_PATH}/{id}`);
  const id = path.slice(STATUS_PREFIX.length);
  const tags = parseInvocationId(id);
  const route = tags && exchange.table.asyncByTag.get(tags.route);
  if (!route) throw unknownInvocation();
  exchange.route = route;
  exchange.invocation = id;
  exchange.record.route = STATUS_ROUTE;
}

/** Matches method and path (a map lookup), refusing URLs longer than `maxUrlLength`. */
export function matchRoute(maxUrlLength: number): Stage {
  return {
    run(exchange) {
      const { req, table } = exchange;
      const url = req.url ?? "/";
      if (url.length > maxUrlLength) throw new ServingError("URI_TOO_LONG", `the URL is longer than ${maxUrlLength} characters`);
      const query = url.indexOf("?");
      const path = query < 0 ? url : url.slice(0, query);
      const route = table.routes.get(`${req.method} ${path}`);
      if (!route) {
        if (table.asyncByTag.size > 0 && path.startsWith(STATUS_PREFIX) && !table.paths.has(path)) return matchStatus(exchange, path);
        throw table.paths.has(path)
          ? new ServingError("METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${path}`)
          : new ServingError("NOT_FOUND", "no route matches this method and path");
      }
      exchange.route = route;
      exchange.record.route = route.key;
    },
  };
}
