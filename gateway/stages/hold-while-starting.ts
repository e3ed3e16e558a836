/**
 * Holds a request while its target starts (see routing/hold.ts): a target
 * whose policy holds and that has no ready backend keeps the request until
 * one is, up to the policy's limits; a ready target costs one check and a
 * count. Every request to a holding target counts toward its demand (held,
 * then in flight until it finishes), which the gateway publishes for the
 * target's autoscaler.
 *
 * It runs after the cache, so a cached answer never waits for a cold target.
 * The cache runs a `shared` one before each backend call it makes on a miss
 * (the call every coalesced request awaits): that call is held and counted
 * like a request, and is not given up when the client that started it goes
 * away. Every request's count is released by the pipeline's own stage's
 * `finish`, which runs for every request, answered by the cache or not.
 */
import type { Exchange, Stage } from "../exchange";
import type { TargetHold } from "../routing/hold";

/** Counts the request in flight toward the region it would go to. */
function admit(exchange: Exchange, hold: TargetHold): void {
  const demand = hold.demandOf(exchange.locality, exchange.turn);
  demand.inFlight++;
  exchange.demand = demand;
}

/**
 * Lets requests to ready targets through, and holds those to targets that
 * are starting; `shared` for a call other requests await, which waits on when
 * its own client goes away.
 */
export function holdWhileStarting(shared = false): Stage {
  return {
    run(exchange) {
      const hold = exchange.target.hold;
      if (hold === undefined) return;
      // A request counts once: a cache miss that loads twice (another variant came back) is already in flight.
      if (hold.ready) {
        if (exchange.demand === undefined) admit(exchange, hold);
      } else return exchange.holdUntilReady(hold, !shared);
    },
    finish(exchange) {
      if (exchange.demand !== undefined) exchange.demand.inFlight--;
    },
  };
}
