/** Finds the request's route in the table: 414 for an over-long URL, 404 for an unknown path, 405 for a known path's other methods. */
import { ServingError } from "../../runtime/contract";
import type { Stage } from "../exchange";

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
      if (!route)
        throw table.paths.has(path)
          ? new ServingError("METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${path}`)
          : new ServingError("NOT_FOUND", "no route matches this method and path");
      exchange.route = route;
      exchange.record.route = route.key;
    },
  };
}
