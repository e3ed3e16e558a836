/** Routes: sane rate limits and version weights that add up. */
import { toMilliseconds } from "../units";
import { entries, type Rule } from "./report";

/** Checks each route's rate limit numbers and model version weights. */
export const routeRule: Rule = (spec, _context, report) => {
  for (const [key, route] of entries(spec.routes)) {
    const base = `routes.${key}`;
    if (route.rateLimit) {
      const { requests, per, burst } = route.rateLimit;
      const numbers: Array<[string, number, number]> = [
        ["requests", requests, 1],
        ["per", toMilliseconds(per), 1],
        ["burst", burst, 0],
      ];
      for (const [field, value, minimum] of numbers) {
        if (Number.isFinite(value) && value >= minimum) continue;
        report(
          "CL_RATE_LIMIT_INVALID",
          `${base}.rateLimit.${field}`,
          `${base}.rateLimit.${field} is ${value}`,
          minimum === 0 ? "set burst to 0 or more" : `set ${field} above zero`,
        );
      }
    }
    if (route.target.kind === "model") {
      const weights = Object.values(route.target.weights);
      const sum = weights.reduce((a, b) => a + b, 0);
      if (weights.length === 0 || Math.abs(sum - 100) > 1e-9) {
        report(
          "CL_WEIGHTS_SUM",
          `${base}.target.weights`,
          `version weights add up to ${sum}, not 100`,
          "adjust the weights so that they add up to 100",
        );
      }
    }
  }
};
