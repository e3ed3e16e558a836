/**
 * Circuit breakers (cockatiel) per route and region, and a retry budget
 * that caps retries at a share of traffic so retries never multiply an
 * outage.
 */
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from "cockatiel";
import { ServingError } from "../../runtime/contract";
import { FastFailure } from "../backends/backend";

/** What counts against a backend's health (the `health.ejectOn` setting). */
export type EjectOn = "gateway-failures" | "all-5xx";

/** Upstream statuses that say the backend, not the request, failed: Envoy's gateway failures. */
const GATEWAY_FAILURE_STATUSES = new Set([502, 503, 504]);

/** True when an upstream status counts against the backend's health. */
export function statusCounts(status: number, ejectOn: EjectOn): boolean {
  return ejectOn === "all-5xx" ? status >= 500 : GATEWAY_FAILURE_STATUSES.has(status);
}

/**
 * True when an error counts against the backend's health: anything that is
 * not a ServingError (a reset, a timeout) and errors whose status counts.
 * Never the caller's own mistakes (4xx), nor deliberate load shedding (a full
 * model queue).
 */
export function isBackendFault(error: unknown, ejectOn: EjectOn): boolean {
  if (!(error instanceof ServingError)) return true;
  return statusCounts(error.status, ejectOn) && error.code !== "QUEUE_FULL";
}

/**
 * A breaker that opens after `consecutiveFailures` faults and half-opens
 * after `halfOpenAfterMs`. With `refusalsAreStarts` (a target that holds
 * requests while it starts), an unreachable backend is not a fault: it is
 * at zero or starting, its health ejects it at once and a probe readmits it,
 * and an open breaker would only fail the requests held for it once it is up.
 */
export function createBreaker(
  consecutiveFailures: number,
  halfOpenAfterMs: number,
  ejectOn: EjectOn,
  refusalsAreStarts = false,
): CircuitBreakerPolicy {
  return circuitBreaker(
    handleWhen((error) => isBackendFault(error, ejectOn) && !(refusalsAreStarts && error instanceof FastFailure)),
    {
      halfOpenAfter: halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(consecutiveFailures),
    },
  );
}

/** True while a breaker refuses calls. */
function isOpen(breaker: CircuitBreakerPolicy): boolean {
  return breaker.state === CircuitState.Open || breaker.state === CircuitState.Isolated;
}

/** Numeric breaker state for the metrics gauge: 0 closed, 1 half-open, 2 open. */
export function breakerStateValue(breaker: CircuitBreakerPolicy): number {
  if (breaker.state === CircuitState.HalfOpen) return 1;
  return isOpen(breaker) ? 2 : 0;
}

/** Retries allowed as a share of requests (a token bucket refilled by traffic). */
export class RetryBudget {
  private tokens: number;
  private readonly perRequest: number;

  constructor(
    percent: number,
    private readonly cap = 10,
  ) {
    this.perRequest = percent / 100;
    this.tokens = cap;
  }

  /** Every request earns a fraction of a retry. */
  earn(): void {
    this.tokens = Math.min(this.cap, this.tokens + this.perRequest);
  }

  /** Spends one retry, if there is one. */
  spend(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
