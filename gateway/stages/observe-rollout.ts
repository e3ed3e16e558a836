/**
 * Counts each finished request of a rollout route for its version: status
 * and latency, as `observe` recorded them (so it runs after it). Cache hits
 * are left out, since the version did not serve them, and so are requests
 * refused before a version was picked. Other routes cost one property read.
 */
import type { Stage } from "../exchange";

/** Hands every finished request of a rollout route to its rollout's tally. */
export function observeRollout(): Stage {
  return {
    finish(exchange) {
      const rollout = exchange.route?.rollout;
      if (rollout === undefined) return;
      const { version, cache, status, ms } = exchange.record;
      if (version === undefined || cache === "HIT") return;
      rollout.observe(version, status, ms);
    },
  };
}
