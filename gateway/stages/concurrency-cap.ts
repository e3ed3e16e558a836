/** A cap on requests in flight per key (tenant or client), so one caller cannot take every slot. */
import { ServingError } from "../../runtime/contract";
import type { Stage } from "../exchange";

/** Tracks in-flight requests per key. */
export class ConcurrencyCap {
  private readonly inFlight = new Map<string, number>();
  constructor(private readonly limit: number) {}

  /** Takes a slot for `key`, or throws CONCURRENCY_LIMIT. */
  acquire(key: string): void {
    const current = this.inFlight.get(key) ?? 0;
    if (current >= this.limit)
      throw new ServingError("CONCURRENCY_LIMIT", `more than ${this.limit} requests in flight for this caller`, { "retry-after": "1" });
    this.inFlight.set(key, current + 1);
  }

  /** Returns the slot. */
  release(key: string): void {
    const current = this.inFlight.get(key) ?? 1;
    if (current <= 1) this.inFlight.delete(key);
    else this.inFlight.set(key, current - 1);
  }
}

/** Holds one of `limit` slots per tenant (or client address, on public routes) while the request is in flight. */
export function concurrencyCap(limit: number): Stage {
  const cap = new ConcurrencyCap(limit);
  return {
    run(exchange) {
      const key = exchange.record.tenant === "public" ? exchange.client : exchange.record.tenant;
      cap.acquire(key);
      exchange.slot = key;
    },
    finish(exchange) {
      if (exchange.slot !== undefined) cap.release(exchange.slot);
    },
  };
}
