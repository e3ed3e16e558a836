/**
 * Holds a request while its target starts (see routing/hold.ts): a target
 * whose policy holds and that has no ready backend keeps the request until
 * one is, up to the policy's limits; a ready target costs one check and a
 * count. Every request to a holding target counts toward its demand (held,
 * then in flight until it finishes), which the gateway publishes for the
 * target's autoscaler.
 */
import type { Exchange, Stage } from "../exchange";
import type { TargetHold } from "../routing/hold";

/** Counts the request in flight toward the region it would go to. */
function admit(exchange: Exchange, hold: TargetHold): void {
  const demand = hold.demandOf(exchange.locality, exchange.turn);
  demand.inFlight++;
  exchange.demand = demand;
}

/** Lets requests to ready targets through, and holds those to targets that are starting. */
export function holdWhileStarting(): Stage {
  return {
    run(exchange) {
      const hold = exchange.target.hold;
      if (hold === undefined) return;
      if (hold.ready) admit(exchange, hold);
      else return exchange.holdUntilReady(hold);
    },
    finish(exchange) {
      if (exchange.demand !== undefined) exchange.demand.inFlight--;
    },
  };
}
